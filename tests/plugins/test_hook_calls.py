"""Hooks are called through pluggy: ``tryfirst``/``trylast`` order the provisions, wrappers see
every call, ``--debug`` traces hook calls, and ``--plugin`` reaches the manager without touching
the environment."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import strm
from strm.cli.main import main
from strm.kernel.errors import PluginError
from strm.kernel.plugins import command_line
from strm.kernel.plugins.manager import StrmPluginManager
from strm.kernel.spi import TP


class Modules:
    """Throw-away plugin modules in a directory on ``sys.path``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.names: list[str] = []

    def add(self, stem: str, source: str) -> str:
        name = f"{stem}_{uuid.uuid4().hex[:8]}"
        header = "import strm\nfrom strm import records\n"
        (self.root / f"{name}.py").write_text(header + textwrap.dedent(source))
        importlib.invalidate_caches()
        self.names.append(name)
        return name

    def app(self, *plugins: str, **settings: object) -> strm.App:
        return strm.App("test", plugins=list(plugins), environ={}, entry_points=False, **settings)


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Modules]:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("STRM_PLUGINS", raising=False)
    box = Modules(tmp_path)
    yield box
    for name in box.names:
        sys.modules.pop(name, None)


def store_provider(modules: Modules, marker: str = "") -> str:
    return modules.add(
        "provider",
        f"""
        class Store:
            pass

        @strm.hookimpl{marker}
        def strm_stores():
            return [records.store("dup", Store)]
        """,
    )


def store_of(modules: Modules, name: str) -> type:
    return sys.modules[name].Store  # type: ignore[no-any-return]


# -- tryfirst, trylast ---------------------------------------------------------------------------


@pytest.mark.parametrize("trylast_first", [True, False], ids=["trylast-loaded-first", "last"])
def test_a_trylast_provision_loses_to_a_plain_one(modules: Modules, trylast_first: bool) -> None:
    plain = store_provider(modules)
    fallback = store_provider(modules, "(trylast=True)")
    order = (fallback, plain) if trylast_first else (plain, fallback)
    app = modules.app(*order, store="dup://")
    assert app.configure().resolve_backend("store").factory is store_of(modules, plain)
    provider = app.plugins.provider("store", "dup")
    assert provider is not None and provider.name == plain


def test_a_tryfirst_provision_beats_a_plain_one(modules: Modules) -> None:
    plain = store_provider(modules)
    preferred = store_provider(modules, "(tryfirst=True)")
    for order in ((plain, preferred), (preferred, plain)):
        app = modules.app(*order, store="dup://")
        assert app.configure().resolve_backend("store").factory is store_of(modules, preferred)


def test_a_trylast_provision_is_used_when_nothing_else_provides_the_name(
    modules: Modules,
) -> None:
    fallback = store_provider(modules, "(trylast=True)")
    app = modules.app(fallback, store="dup://")
    assert app.configure().resolve_backend("store").factory is store_of(modules, fallback)


def test_two_trylast_provisions_of_one_name_are_still_an_error(modules: Modules) -> None:
    first = store_provider(modules, "(trylast=True)")
    second = store_provider(modules, "(trylast=True)")
    with pytest.raises(PluginError, match=f"module {first} and module {second}"):
        modules.app(first, second).configure()


def test_a_trylast_plugin_provision_still_replaces_a_builtin_default(modules: Modules) -> None:
    name = modules.add(
        "lastmemory",
        """
        class Store:
            pass

        @strm.hookimpl(trylast=True)
        def strm_stores():
            return [records.store("memory", Store)]
        """,
    )
    app = modules.app(name, store="memory://")
    assert app.configure().resolve_backend("store").factory is store_of(modules, name)


# -- wrappers ------------------------------------------------------------------------------------

WRAPPER = """
SEEN = []

@strm.hookimpl(wrapper=True)
def {hook}({params}):
    result = yield
    SEEN.append(("{hook}", [item for items in result for item in items]))
    return result
"""


def test_a_wrapper_sees_every_registration_call_with_every_plugins_records(
    modules: Modules,
) -> None:
    provider = store_provider(modules)
    wrapper = modules.add("wrapper", WRAPPER.format(hook="strm_stores", params=""))
    app = modules.app(provider, wrapper, store="dup://").configure()
    app.plugins.describe()
    seen = sys.modules[wrapper].SEEN
    # Once to resolve the providers, once for the listing: every call, every record.
    assert len(seen) == 2
    for hook, records in seen:
        assert hook == "strm_stores"
        assert sorted(r.name for r in records) == ["dup", "memory"]
    assert app.resolve_backend("store").factory is store_of(modules, provider)


def test_an_old_style_hookwrapper_sees_every_setting_declared(modules: Modules) -> None:
    name = modules.add(
        "settingwrapper",
        """
        SEEN = []

        @strm.hookimpl(hookwrapper=True)
        def strm_settings():
            outcome = yield
            SEEN.append([s.name for items in outcome.get_result() for s in items])
        """,
    )
    provider = modules.add(
        "settingprovider",
        """
        from strm.kernel.settings.setting import Setting
        from strm.kernel.settings.types import Int

        @strm.hookimpl
        def strm_settings():
            return [Setting("wrapped_limit", Int(), "A limit.", default=1)]
        """,
    )
    app = modules.app(provider, name)
    assert app.conf.wrapped_limit == 1
    assert sys.modules[name].SEEN and all(
        names == ["wrapped_limit"] for names in sys.modules[name].SEEN
    )
    assert app.conf.specs()["wrapped_limit"].distribution == f"module {provider}"


def test_a_wrapper_that_adds_a_provision_provides_it(modules: Modules) -> None:
    name = modules.add(
        "adding",
        """
        class Store:
            pass

        @strm.hookimpl(wrapper=True)
        def strm_stores():
            result = yield
            return [*result, [records.store("added", Store)]]
        """,
    )
    app = modules.app(name, store="added://").configure()
    assert app.resolve_backend("store").factory is store_of(modules, name)


def test_a_wrapper_sees_every_notification_even_when_a_plugin_raises(
    modules: Modules, caplog: pytest.LogCaptureFixture
) -> None:
    raising = modules.add(
        "raising",
        """
        @strm.hookimpl
        def strm_partitions_assigned(app, assigned):
            raise RuntimeError("boom")
        """,
    )
    listening = modules.add(
        "listening",
        """
        HEARD = []

        @strm.hookimpl(trylast=True)
        def strm_partitions_assigned(app, assigned):
            HEARD.append(list(assigned))
        """,
    )
    wrapper = modules.add(
        "notifywrapper", WRAPPER.format(hook="strm_partitions_assigned", params="app, assigned")
    )
    app = modules.app(raising, listening, wrapper).configure()
    with caplog.at_level(logging.ERROR, logger="strm.plugins"):
        app.plugins.notify(
            "strm_partitions_assigned", "a rebalance", app=app, assigned=[TP("t", 0)]
        )
    assert [[TP("t", 0)]] == sys.modules[listening].HEARD
    assert sys.modules[wrapper].SEEN == [("strm_partitions_assigned", [])]
    assert f"{raising!r}: strm_partitions_assigned raised on a rebalance" in caplog.text
    assert "RuntimeError: boom" in caplog.text


def test_a_registration_hook_that_raises_is_an_error_naming_the_plugin(modules: Modules) -> None:
    name = modules.add(
        "raisingstore",
        """
        @strm.hookimpl
        def strm_stores():
            raise KeyError("lost")
        """,
    )
    with pytest.raises(PluginError, match=rf"plugin '{name}' raised KeyError in strm_stores\(\)"):
        modules.app(name).configure()


def test_a_registration_hook_returning_one_record_not_a_list_is_named(modules: Modules) -> None:
    name = modules.add(
        "single",
        """
        @strm.hookimpl
        def strm_codecs():
            return records.codec("single", object)
        """,
    )
    with pytest.raises(PluginError, match=rf"plugin '{name}' returned .* expected a list"):
        modules.app(name).configure()


# -- tracing -------------------------------------------------------------------------------------


def test_tracing_logs_each_hook_call_and_its_result(
    modules: Modules, caplog: pytest.LogCaptureFixture
) -> None:
    provider = store_provider(modules)
    with caplog.at_level(logging.DEBUG, logger="strm.plugins"):
        StrmPluginManager([provider], environ={}, entry_points=False, trace=True).provisions(
            "store"
        )
    traced = [r.getMessage() for r in caplog.records if r.name == "strm.plugins"]
    assert any("strm_stores" in line and "finish" not in line for line in traced), traced
    assert any("finish strm_stores -->" in line and "'dup'" in line for line in traced), traced


def test_no_tracing_without_debug(modules: Modules, caplog: pytest.LogCaptureFixture) -> None:
    provider = store_provider(modules)
    with caplog.at_level(logging.DEBUG, logger="strm.plugins"):
        StrmPluginManager([provider], environ={}, entry_points=False).provisions("store")
    assert not [r for r in caplog.records if r.name == "strm.plugins"]


def test_debug_on_the_command_line_traces_hook_calls(
    modules: Modules, caplog: pytest.LogCaptureFixture
) -> None:
    provider = store_provider(modules)
    with caplog.at_level(logging.DEBUG, logger="strm.plugins"), pytest.raises(SystemExit) as info:
        main(["--debug", "--plugin", provider, "plugins"])
    assert info.value.code == 0
    traced = [r.getMessage() for r in caplog.records if r.name == "strm.plugins"]
    assert any("finish strm_cli_commands -->" in line for line in traced), traced
    assert any("finish strm_stores -->" in line for line in traced), traced


# -- --plugin reaches the manager explicitly -----------------------------------------------------


def test_plugin_on_the_command_line_reaches_an_app_built_while_its_module_imports(
    modules: Modules, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = store_provider(modules)
    seen_env: list[str | None] = []
    monkeypatch.setattr(
        "strm.kernel.plugins.manager.selection_from_env",
        lambda environ: seen_env.append(os.environ.get("STRM_PLUGINS")) or [],
    )
    monkeypatch.chdir(modules.root)
    app_module = modules.add(
        "eagerapp",
        "app = strm.App('eager', environ={}, entry_points=False, store='dup://')\n"
        "app.configure()\n",
    )
    with pytest.raises(SystemExit) as info:
        main(["-A", app_module, "--plugin", provider, "plugins"])
    assert info.value.code == 0, capsys.readouterr().err
    app = sys.modules[app_module].app
    assert app.resolve_backend("store").factory is store_of(modules, provider)
    # The environment was never used to carry it.
    assert seen_env and all(value is None for value in seen_env)
    assert "STRM_PLUGINS" not in os.environ


def test_command_line_plugins_are_given_only_inside_the_block(modules: Modules) -> None:
    provider = store_provider(modules)
    with command_line.given([provider]):
        inside = strm.App("in", environ={}, entry_points=False)
        assert provider in inside.plugins.selection
    outside = strm.App("out", environ={}, entry_points=False)
    assert provider not in outside.plugins.selection
    assert command_line.current() == command_line.NOTHING_GIVEN


def test_plugin_for_an_app_whose_plugins_are_already_loaded_is_refused(
    modules: Modules, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = store_provider(modules)
    app = modules.app()
    app.configure()
    with pytest.raises(SystemExit) as info:
        app.main(["--plugin", provider, "plugins"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"--plugin {provider}: the app's plugins were loaded before" in err
