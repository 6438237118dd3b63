"""How plugins are found, loaded, blocked and checked, and how their provisions resolve.

Throw-away plugin modules are written into ``tmp_path`` and put on ``sys.path``; installed
distributions are simulated with a ``<name>.dist-info`` directory (METADATA and entry_points.txt)
on ``sys.path``, which :mod:`importlib.metadata` discovers like any installed one.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata as metadata
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import pytest
import strm
from strm.builtins.plugins import BUILTIN_PLUGINS, DEFAULT_PLUGINS
from strm.cli.main import main, make_cli
from strm.kernel.errors import BackendNotFoundError, ConfigurationError, PluginError
from strm.kernel.records import KINDS
from strm.kernel.spi import TP

BUILTIN_NAMES = sorted(BUILTIN_PLUGINS)
BUILTIN_NAMES_IN_ORDER = list(BUILTIN_PLUGINS)


class Sandbox:
    """A directory on ``sys.path`` for plugin modules and fake installed distributions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []
        self.dists: list[str] = []

    def module(self, stem: str, source: str) -> str:
        """Write a module with a unique name starting with ``stem``; returns its name."""
        name = f"{stem}_{uuid.uuid4().hex[:8]}"
        header = "import strm\nfrom strm import records\n"
        (self.root / f"{name}.py").write_text(header + textwrap.dedent(source))
        importlib.invalidate_caches()
        self.modules.append(name)
        return name

    def imported(self, name: str) -> ModuleType:
        return sys.modules[name]

    def distribution(self, dist: str, entry_points: dict[str, str], version: str = "1.0") -> None:
        """A fake installed distribution registering ``{entry point name: module}`` in ``strm``."""
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text(f"[strm]\n{lines}")
        importlib.invalidate_caches()
        self.dists.append(dist)

    def app(self, *plugins: str, entry_points: bool = False, **settings: Any) -> strm.App:
        """An isolated app; with ``entry_points=True`` only this sandbox's distributions load."""
        selection = list(plugins)
        if entry_points:
            selection += [f"no:{name}" for name in self._other_entry_points()]
        return strm.App(
            "test", plugins=selection, environ={}, entry_points=entry_points, **settings
        )

    def _other_entry_points(self) -> set[str]:
        """Entry points of distributions really installed here, blocked to keep tests isolated."""
        return {
            ep.name
            for ep in metadata.entry_points(group="strm")
            if ep.dist is None or ep.dist.name not in self.dists
        }


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    box = Sandbox(root)
    yield box
    for name in box.modules:
        sys.modules.pop(name, None)


def store_plugin(sandbox: Sandbox, scheme: str = "dup", stem: str = "storeplugin") -> str:
    return sandbox.module(
        stem,
        f"""
        class Store:
            pass

        @strm.hookimpl
        def strm_stores():
            return [records.store({scheme!r}, Store)]
        """,
    )


# -- selecting plugins --------------------------------------------------------------------------


def test_strm_plugins_environment_variable_loads_comma_separated_plugins(sandbox: Sandbox) -> None:
    first = store_plugin(sandbox, "first")
    second = store_plugin(sandbox, "second")
    app = strm.App("t", environ={"STRM_PLUGINS": f" {first} ,{second},"}, entry_points=False)
    names = [info.name for info in app.plugins.plugins()]
    assert names == [*BUILTIN_NAMES_IN_ORDER, first, second]
    stores = app.plugins.provisions("store")
    assert stores["first"].factory is sandbox.imported(first).Store
    assert stores["second"].distribution == f"module {second}"


def test_app_plugins_argument_and_use_plugins_load_plugins(sandbox: Sandbox) -> None:
    first = store_plugin(sandbox, "first")
    second = store_plugin(sandbox, "second")
    app = strm.App("t", plugins=[first], environ={}, entry_points=False)
    app.use_plugins(second)
    assert set(app.plugins.provisions("store")) == {"memory", "first", "second"}
    with pytest.raises(PluginError, match="already loaded"):
        app.use_plugins(first)


def test_no_name_blocks_a_builtin_default(sandbox: Sandbox) -> None:
    app = sandbox.app("no:memory_store")
    assert "memory_store" not in {info.name for info in app.plugins.plugins()}
    app.configure()  # the store is left at its default: nothing resolves it yet
    with pytest.raises(BackendNotFoundError) as info:
        app.resolve_backend("store")
    assert str(info.value) == (
        "store 'memory://': no installed plugin provides the store scheme 'memory://'; "
        "installed: none"
    )
    with pytest.raises(BackendNotFoundError, match="installed: none"):
        sandbox.app("no:memory_store", store="memory://").configure()


def test_blocking_the_builtin_codecs_leaves_the_default_serializers_unresolvable() -> None:
    app = strm.App("t", environ={"STRM_PLUGINS": "no:codecs"}, entry_points=False)
    with pytest.raises(ConfigurationError, match="unknown codec 'raw'; installed codecs: none"):
        app.configure()


@pytest.mark.parametrize("name", sorted(DEFAULT_PLUGINS))
def test_every_default_plugin_can_be_blocked(sandbox: Sandbox, name: str) -> None:
    names = {info.name for info in sandbox.app(f"no:{name}").plugins.plugins()}
    assert names == set(BUILTIN_PLUGINS) - {name}


def test_the_essential_plugin_cannot_be_blocked(sandbox: Sandbox) -> None:
    with pytest.raises(PluginError) as info:
        _ = sandbox.app("no:default_classes").plugins
    assert str(info.value) == "plugin 'default_classes' is essential to strm and cannot be blocked"


def test_an_unknown_plugin_name_lists_the_installed_plugins(sandbox: Sandbox) -> None:
    with pytest.raises(PluginError) as info:
        _ = sandbox.app("strm_no_such_plugin").plugins
    assert str(info.value) == (
        "--plugin 'strm_no_such_plugin': no installed plugin has that name and no module has "
        f"that path; installed plugins: {', '.join(BUILTIN_NAMES)}"
    )


def test_an_unknown_plugin_name_on_the_command_line_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STRM_PLUGINS", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["--plugin", "strm_no_such_plugin", "plugins"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: --plugin 'strm_no_such_plugin': no installed plugin")
    assert "installed plugins: " in err
    assert "memory_store" in err
    assert len(err.strip().splitlines()) == 1


# -- plugins that are broken --------------------------------------------------------------------


def test_a_misspelt_hook_fails_at_load_naming_the_plugin(sandbox: Sandbox) -> None:
    name = sandbox.module(
        "misspelt",
        """
        @strm.hookimpl
        def strm_storez():
            return []
        """,
    )
    with pytest.raises(PluginError) as info:
        _ = sandbox.app(name).plugins
    message = str(info.value)
    assert message.startswith(f"plugin {name!r} implements a hook strm does not have")
    assert "strm_storez" in message
    assert "strm_stores" in message  # the list of real hooks


def test_a_plugin_that_raises_at_import_is_named(sandbox: Sandbox) -> None:
    name = sandbox.module("explodes", "raise RuntimeError('no config file')\n")
    with pytest.raises(PluginError) as info:
        _ = sandbox.app(name).plugins
    assert str(info.value) == f"plugin {name!r} failed to import: RuntimeError: no config file"


def test_a_plugin_with_a_missing_dependency_is_named_with_it(sandbox: Sandbox) -> None:
    name = sandbox.module("needsdep", "import strm_missing_dependency_xyz\n")
    with pytest.raises(PluginError) as info:
        _ = sandbox.app(name).plugins
    message = str(info.value)
    assert message.startswith(f"plugin {name!r} failed to import")
    assert "strm_missing_dependency_xyz" in message


@pytest.mark.parametrize(
    ("hook", "returned", "expected"),
    [
        (
            "strm_stores",
            "[{'scheme': 'x'}]",
            "expected strm.kernel.records.Provision objects of kind",
        ),
        ("strm_stores", "[records.codec('x', object)]", "of kind 'store'"),
        ("strm_codecs", "['json']", "of kind 'codec'"),
        ("strm_extension_classes", "[records.store('Worker', object)]", "of kind 'class'"),
        ("strm_settings", "[{'name': 'x'}]", "expected strm.kernel.settings.Setting objects"),
    ],
)
def test_a_wrong_record_type_is_an_error_naming_plugin_and_hook(
    sandbox: Sandbox, hook: str, returned: str, expected: str
) -> None:
    name = sandbox.module(
        "wrongtype",
        f"""
        @strm.hookimpl
        def {hook}():
            return {returned}
        """,
    )
    app = sandbox.app(name)
    with pytest.raises(PluginError) as info:
        app.configure()
    message = str(info.value)
    assert message.startswith(f"plugin {name!r} returned ")
    assert f"from {hook}()" in message
    assert expected in message


def test_a_provision_of_an_unknown_kind_is_refused_by_the_record() -> None:
    with pytest.raises(ValueError, match="unknown provision kind 'stores'"):
        strm.Provision("stores", "x", object)
    with pytest.raises(ValueError, match="a store provision needs a name"):
        strm.kernel.records.store("", object)


# -- duplicates and defaults --------------------------------------------------------------------

#: One constructor per kind, to provide the same name from two plugins.
CONSTRUCTORS = {
    "transport": "transport",
    "store": "store",
    "cache": "cache",
    "web": "web_driver",
    "web_transport": "web_transport",
    "codec": "codec",
    "supervisor": "supervisor",
    "partitioner": "partitioner",
    "consumer_scheduler": "consumer_scheduler",
    "sensor": "sensor",
    "class": "extension_class",
    "model_type": "model_type",
}

DESCRIBED = {
    "transport": "the transport scheme 'dup://'",
    "store": "the store scheme 'dup://'",
    "cache": "the cache scheme 'dup://'",
    "web": "the web scheme 'dup://'",
    "web_transport": "the web_transport scheme 'dup://'",
    "codec": "the codec 'dup'",
    "supervisor": "the supervisor 'dup'",
    "partitioner": "the partitioner 'dup'",
    "consumer_scheduler": "the consumer scheduler 'dup'",
    "sensor": "the sensor 'dup'",
    "class": "the dup class",
    "model_type": "the model type 'dup'",
}


def test_the_duplicate_tables_cover_every_kind() -> None:
    assert set(CONSTRUCTORS) == set(KINDS) == set(DESCRIBED)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_two_plugins_providing_one_name_is_an_error_naming_both(
    sandbox: Sandbox, kind: str
) -> None:
    source = f"""
        class Thing:
            pass

        @strm.hookimpl
        def {KINDS[kind]}():
            return [records.{CONSTRUCTORS[kind]}("dup", Thing)]
        """
    first = sandbox.module("first", source)
    second = sandbox.module("second", source)
    app = sandbox.app(first, second)
    with pytest.raises(PluginError) as info:
        app.configure()
    assert str(info.value) == (
        f"two plugins provide {DESCRIBED[kind]}: module {first} and module {second}; "
        "uninstall one of them or block one with --plugin no:NAME"
    )


def test_blocking_one_of_two_providers_resolves_the_conflict(sandbox: Sandbox) -> None:
    first = store_plugin(sandbox, "dup")
    second = store_plugin(sandbox, "dup")
    app = sandbox.app(first, second, f"no:{first}", store="dup://")
    provision = app.configure().resolve_backend("store")
    assert provision.factory is sandbox.imported(second).Store


def test_a_plugin_replaces_a_builtin_codec_of_the_same_name(sandbox: Sandbox) -> None:
    name = sandbox.module(
        "fastjson",
        """
        import json

        class FastJson:
            def dumps(self, obj):
                return json.dumps(obj, sort_keys=True).encode()

            def loads(self, data):
                return json.loads(data)

        @strm.hookimpl
        def strm_codecs():
            return [records.codec("json", FastJson)]
        """,
    )
    app = sandbox.app(name)
    codecs = app.plugins.provisions("codec")
    assert codecs["json"].factory is sandbox.imported(name).FastJson
    assert codecs["json"].distribution == f"module {name}"
    assert codecs["raw"].distribution == "strm"
    assert isinstance(app.serializers.value_codec, sandbox.imported(name).FastJson)
    assert app.serializers.dumps_value({"b": 1, "a": 2}) == b'{"a": 2, "b": 1}'


def test_a_plugin_replaces_the_builtin_memory_store(sandbox: Sandbox) -> None:
    name = store_plugin(sandbox, "memory")
    app = sandbox.app(name, store="memory://")
    assert app.configure().resolve_backend("store").factory is sandbox.imported(name).Store


WORKER_PLUGIN = """
    class PluginWorker(strm.Worker):
        pass

    class UserWorker(strm.Worker):
        pass

    @strm.hookimpl
    def strm_extension_classes():
        return [records.extension_class("Worker", PluginWorker)]
    """


def test_the_builtin_worker_class_is_the_default(sandbox: Sandbox) -> None:
    assert sandbox.app().extension_class("Worker") is strm.Worker


def test_a_plugins_worker_class_replaces_the_default(sandbox: Sandbox) -> None:
    name = sandbox.module("workerplugin", WORKER_PLUGIN)
    app = sandbox.app(name)
    assert app.extension_class("Worker") is sandbox.imported(name).PluginWorker
    assert app.plugins.provisions("class")["Serializers"].distribution == "strm"


def test_an_explicit_worker_setting_beats_every_plugin(sandbox: Sandbox) -> None:
    name = sandbox.module("workerplugin", WORKER_PLUGIN)
    importlib.import_module(name)
    user_worker = sandbox.imported(name).UserWorker
    assert sandbox.app(name, Worker=user_worker).extension_class("Worker") is user_worker
    by_path = sandbox.app(name, Worker=f"{name}.UserWorker")
    assert by_path.extension_class("Worker") is user_worker
    by_colon = sandbox.app(name, Worker=f"{name}:UserWorker")
    assert by_colon.extension_class("Worker") is user_worker


def test_a_bad_worker_path_is_a_configuration_error(sandbox: Sandbox) -> None:
    with pytest.raises(ConfigurationError, match="setting 'Worker'"):
        sandbox.app(Worker="strm_no_such_module.Worker").configure()


def test_a_plugin_setting_that_a_kernel_setting_has_is_refused(sandbox: Sandbox) -> None:
    name = sandbox.module(
        "dupsetting",
        """
        from strm.kernel.settings.setting import Setting
        from strm.kernel.settings.types import Int

        @strm.hookimpl
        def strm_settings():
            return [Setting("topic_partitions", Int(), "mine")]
        """,
    )
    with pytest.raises(PluginError) as info:
        sandbox.app(name).configure()
    assert str(info.value) == (
        f"setting 'topic_partitions' is declared by both strm and module {name}"
    )


# -- entry points of group strm -----------------------------------------------------------------


def test_a_distributions_entry_point_loads_its_plugin(sandbox: Sandbox) -> None:
    module = store_plugin(sandbox, "fromep")
    sandbox.distribution("strm-fake-store", {"fake_store": module}, version="2.3.4")
    app = sandbox.app(entry_points=True, store="fromep://")
    info = {p.name: p for p in app.plugins.plugins()}["fake_store"]
    assert (info.module, info.distribution, info.version, info.builtin) == (
        module, "strm-fake-store", "2.3.4", False,
    )  # fmt: skip
    assert info.hooks == ["strm_stores"]
    provision = app.configure().resolve_backend("store")
    assert provision.factory is sandbox.imported(module).Store
    assert provision.distribution == "strm-fake-store"


def test_entry_points_are_not_loaded_when_turned_off(sandbox: Sandbox) -> None:
    module = store_plugin(sandbox, "fromep")
    sandbox.distribution("strm-fake-store", {"fake_store": module})
    app = sandbox.app(entry_points=False)
    assert "fake_store" not in {p.name for p in app.plugins.plugins()}
    assert module not in sys.modules


def test_an_entry_point_can_be_blocked_by_name(sandbox: Sandbox) -> None:
    module = sandbox.module("neverimported", "raise RuntimeError('must not be imported')\n")
    sandbox.distribution("strm-fake-blocked", {"fake_blocked": module})
    app = sandbox.app("no:fake_blocked", entry_points=True)
    assert "fake_blocked" not in {p.name for p in app.plugins.plugins()}
    assert module not in sys.modules


def test_naming_a_loaded_entry_point_again_loads_it_once(sandbox: Sandbox) -> None:
    module = store_plugin(sandbox, "fromep")
    sandbox.distribution("strm-fake-store", {"fake_store": module})
    for spec in ("fake_store", module):
        plugins = [p.name for p in sandbox.app(spec, entry_points=True).plugins.plugins()]
        assert plugins.count("fake_store") == 1, spec
        assert module not in plugins, spec


def test_an_entry_point_that_fails_to_import_names_its_distribution(sandbox: Sandbox) -> None:
    module = sandbox.module("brokenep", "raise ImportError('libfoo.so not found')\n")
    sandbox.distribution("strm-fake-broken", {"fake_broken": module})
    with pytest.raises(PluginError) as info:
        _ = sandbox.app(entry_points=True).plugins
    assert str(info.value) == (
        f"plugin 'fake_broken' from strm-fake-broken failed to import ({module}): "
        "ImportError: libfoo.so not found"
    )


def test_two_distributions_with_one_entry_point_name_is_an_error_naming_both(
    sandbox: Sandbox,
) -> None:
    first = store_plugin(sandbox, "one")
    second = store_plugin(sandbox, "two")
    sandbox.distribution("strm-fake-one", {"fake_clash": first})
    sandbox.distribution("strm-fake-two", {"fake_clash": second})
    with pytest.raises(PluginError) as info:
        _ = sandbox.app(entry_points=True).plugins
    message = str(info.value)
    assert message.startswith("two installed distributions register a plugin named 'fake_clash'")
    assert "strm-fake-one" in message
    assert "strm-fake-two" in message


def test_two_distributions_providing_one_scheme_is_an_error_naming_both(
    sandbox: Sandbox,
) -> None:
    sandbox.distribution("strm-fake-one", {"fake_one": store_plugin(sandbox, "same")})
    sandbox.distribution("strm-fake-two", {"fake_two": store_plugin(sandbox, "same")})
    with pytest.raises(PluginError) as info:
        sandbox.app(entry_points=True).configure()
    message = str(info.value)
    assert message.startswith("two plugins provide the store scheme 'same://': strm-fake-")
    assert "strm-fake-one" in message
    assert "strm-fake-two" in message


@pytest.mark.parametrize("builtin", BUILTIN_NAMES)
def test_an_entry_point_named_like_a_builtin_plugin_is_an_error(
    sandbox: Sandbox, builtin: str
) -> None:
    sandbox.distribution("strm-fake-impostor", {builtin: store_plugin(sandbox, "impostor")})
    with pytest.raises(PluginError) as info:
        _ = sandbox.app(entry_points=True).plugins
    assert str(info.value) == (
        f"strm-fake-impostor registers a plugin named {builtin!r}, which is the name of a "
        "built-in plugin; rename its entry point"
    )


# -- every registration hook, through the plugin manager ----------------------------------------

EVERYTHING = """
    import click
    from strm.kernel.settings.setting import Setting
    from strm.kernel.settings.types import Int

    class Transport: pass
    class Store: pass
    class Cache: pass
    class WebDriver: pass
    class WebTransport: pass
    class Codec:
        def dumps(self, obj): return repr(obj).encode()
        def loads(self, data): return data.decode()
    class Supervisor: pass
    def partitioner(key, all_partitions, available): return available[0]
    class Scheduler: pass
    class Sensor(strm.sensors.Sensor):
        def __init__(self, app): self.app = app
    class Worker(strm.Worker): pass
    class ModelType:
        def handles(self, tp): return False
        def load(self, tp, data): return data
        def dump(self, tp, value): return value

    FACTORIES = {
        "transport": Transport, "store": Store, "cache": Cache, "web": WebDriver,
        "web_transport": WebTransport, "codec": Codec, "supervisor": Supervisor,
        "partitioner": partitioner, "consumer_scheduler": Scheduler, "sensor": Sensor,
        "class": Worker, "model_type": ModelType,
    }

    @strm.hookimpl
    def strm_transports(): return [records.transport("everyt", Transport)]
    @strm.hookimpl
    def strm_stores(): return [records.store("everys", Store)]
    @strm.hookimpl
    def strm_caches(): return [records.cache("everyc", Cache)]
    @strm.hookimpl
    def strm_web_drivers(): return [records.web_driver("everyw", WebDriver)]
    @strm.hookimpl
    def strm_web_transports(): return [records.web_transport("everywt", WebTransport)]
    @strm.hookimpl
    def strm_web_routes(app): return []
    @strm.hookimpl
    def strm_codecs(): return [records.codec("every_codec", Codec)]
    @strm.hookimpl
    def strm_agent_supervisors(): return [records.supervisor("every_supervisor", Supervisor)]
    @strm.hookimpl
    def strm_producer_partitioners():
        return [records.partitioner("every_partitioner", partitioner)]
    @strm.hookimpl
    def strm_consumer_schedulers():
        return [records.consumer_scheduler("every_scheduler", Scheduler)]
    @strm.hookimpl
    def strm_sensors(): return [records.sensor("every_sensor", Sensor)]
    @strm.hookimpl
    def strm_extension_classes(): return [records.extension_class("Worker", Worker)]
    @strm.hookimpl
    def strm_model_types(): return [records.model_type("every_model_type", ModelType)]

    @strm.hookimpl
    def strm_settings():
        return [Setting("every_limit", Int(min=1), "A limit.", default=3, env="EVERY_LIMIT")]

    @click.command("every-hello")
    def hello():
        from strm.cli.context import cli_state
        click.echo(f"hello {cli_state().plugin_options.get('every_greeting')}")

    @strm.hookimpl
    def strm_cli_commands(): return [hello]
    @strm.hookimpl
    def strm_cli_options():
        return [click.Option(["--every-greeting"]), click.Option(["--every-limit"], type=int)]

    CALLS = []

    @strm.hookimpl
    def strm_app_configured(app): CALLS.append(("configured", app.conf.id))
    @strm.hookimpl
    def strm_worker_starting(app): CALLS.append(("starting", app.is_running))
    @strm.hookimpl
    def strm_worker_stopping(app): CALLS.append(("stopping", app.is_running))
    @strm.hookimpl
    def strm_worker_processes(app, processes, environ): environ["EVERY_PROCESSES"] = str(processes)
    @strm.hookimpl
    def strm_partitions_assigned(app, assigned): CALLS.append(("assigned", list(assigned)))
    @strm.hookimpl
    def strm_partitions_revoked(app, revoked): CALLS.append(("revoked", list(revoked)))
    """

PROVIDED = {
    "transport": "everyt",
    "store": "everys",
    "cache": "everyc",
    "web": "everyw",
    "web_transport": "everywt",
    "codec": "every_codec",
    "supervisor": "every_supervisor",
    "partitioner": "every_partitioner",
    "consumer_scheduler": "every_scheduler",
    "sensor": "every_sensor",
    "class": "Worker",
    "model_type": "every_model_type",
}


@pytest.fixture
def everything(sandbox: Sandbox) -> str:
    return sandbox.module("everything", EVERYTHING)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_registration_hook_provides_through_the_manager(
    sandbox: Sandbox, everything: str, kind: str
) -> None:
    plugins = sandbox.app(everything).plugins
    factory = sandbox.imported(everything).FACTORIES[kind]
    provision = plugins.provisions(kind)[PROVIDED[kind]]
    assert (provision.kind, provision.factory) == (kind, factory)
    assert provision.distribution == f"module {everything}"
    resolved = plugins.resolve(kind, PROVIDED[kind], setting="test")
    assert resolved is provision
    with pytest.raises(BackendNotFoundError, match=PROVIDED[kind]):
        plugins.resolve(kind, "strm_nothing_has_this", setting="test")


def test_backend_settings_pick_the_plugins_backends_by_scheme(
    sandbox: Sandbox, everything: str
) -> None:
    app = sandbox.app(
        everything,
        broker="everyt://localhost",
        store="everys://",
        cache="everyc://",
    ).configure()
    module = sandbox.imported(everything)
    assert app.resolve_backend("broker").factory is module.Transport
    assert app.resolve_backend("broker_consumer").factory is module.Transport
    assert app.resolve_backend("store").factory is module.Store
    assert app.resolve_backend("cache").factory is module.Cache
    # The web settings wait for the web server; an explicit URL resolves through them already.
    assert app.resolve_backend("web", url="everyw://").factory is module.WebDriver
    assert app.resolve_backend("web_transport", url="everywt://").factory is module.WebTransport
    assert app.extension_class("Worker") is module.Worker
    assert app.serializers.codec("every_codec").dumps(1) == b"1"


def test_strm_plugins_describes_everything_a_plugin_provides(
    sandbox: Sandbox, everything: str
) -> None:
    listing = {p["name"]: p for p in sandbox.app(everything).plugins.describe()}
    plugin = listing[everything]
    assert plugin["distribution"] == f"module {everything}"
    assert sorted((p["kind"], p["name"]) for p in plugin["provides"]) == sorted(PROVIDED.items())
    assert plugin["settings"] == ["every_limit"]
    assert plugin["hooks"] == sorted(strm.kernel.hookspecs.hook_names())


def test_a_plugin_setting_is_typed_read_from_its_variable_and_validated(
    sandbox: Sandbox, everything: str
) -> None:
    assert sandbox.app(everything).conf.every_limit == 3
    app = strm.App("t", plugins=[everything], environ={"EVERY_LIMIT": "7"}, entry_points=False)
    assert app.conf.every_limit == 7
    assert app.conf.specs()["every_limit"].distribution == f"module {everything}"
    with pytest.raises(ConfigurationError, match=r"setting 'every_limit'.*must be at least 1"):
        sandbox.app(everything, every_limit=0).configure()
    with pytest.raises(ConfigurationError, match="did you mean 'every_limit'"):
        sandbox.app(everything, every_limt=2).configure()


def test_plugin_cli_commands_and_options_join_the_strm_command(
    sandbox: Sandbox, everything: str
) -> None:
    group = make_cli(sandbox.app(everything).plugins)
    assert isinstance(group.commands["every-hello"], click.Command)
    options = {name for param in group.params for name in param.opts}
    assert {"--every-greeting", "--every-limit", "--plugin", "-A"} <= options


def test_a_plugin_command_runs_and_gets_its_options(
    sandbox: Sandbox, everything: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("STRM_PLUGINS", raising=False)
    with pytest.raises(SystemExit) as info:
        main(["--plugin", everything, "--every-greeting", "world", "every-hello"])
    assert info.value.code == 0
    assert capsys.readouterr().out == "hello world\n"


def test_a_plugin_option_named_after_a_setting_sets_it(
    sandbox: Sandbox, everything: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.delenv("STRM_PLUGINS", raising=False)
    monkeypatch.chdir(sandbox.root)
    app_module = sandbox.module(
        "clisettingapp", f"app = strm.App('cli', plugins=[{everything!r}], environ={{}})\n"
    )
    with pytest.raises(SystemExit) as info:
        main(["-A", app_module, "--every-limit", "9", "plugins"])
    assert info.value.code == 0, capsys.readouterr().err
    app = sandbox.imported(app_module).app
    assert app.conf.every_limit == 9
    assert str(app.conf.source_of("every_limit")) == "command line"


def test_two_plugins_adding_one_command_is_an_error(sandbox: Sandbox) -> None:
    source = """
        import click

        @strm.hookimpl
        def strm_cli_commands():
            return [click.Command("plugins")]
        """
    name = sandbox.module("clashcmd", source)
    with pytest.raises(strm.StrmError, match="adds a command 'plugins', which already exists"):
        make_cli(sandbox.app(name).plugins)


# -- lifecycle notifications --------------------------------------------------------------------


def test_strm_app_configured_is_called_once_per_app(sandbox: Sandbox, everything: str) -> None:
    app = sandbox.app(everything)
    app.configure()
    app.configure()
    _ = app.conf
    calls = sandbox.imported(everything).CALLS
    assert calls == [("configured", "test")]


async def test_strm_partitions_assigned_and_revoked_are_told_the_partitions(
    sandbox: Sandbox, everything: str
) -> None:
    app = sandbox.app(everything).configure()
    calls = sandbox.imported(everything).CALLS
    calls.clear()
    await app.notify_partitions_assigned([TP("orders", 0), TP("orders", 1)])
    await app.notify_partitions_revoked(iter([TP("orders", 1)]))
    assert calls == [
        ("assigned", [TP("orders", 0), TP("orders", 1)]),
        ("revoked", [TP("orders", 1)]),
    ]


async def test_strm_worker_starting_and_stopping_bracket_the_run(
    sandbox: Sandbox, everything: str
) -> None:
    app = sandbox.app(everything)
    worker = strm.Worker(app, shutdown_timeout=5.0)
    task = asyncio.create_task(worker.run())
    async with asyncio.timeout(5.0):
        while not app.is_running:
            assert not task.done(), task
            await asyncio.sleep(0.01)
    worker.stop()
    await asyncio.wait_for(task, timeout=5.0)
    calls = sandbox.imported(everything).CALLS
    assert calls == [("configured", "test"), ("starting", False), ("stopping", True)]
    assert not app.is_running
