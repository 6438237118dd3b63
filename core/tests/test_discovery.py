"""``app.discover()`` and the ``autodiscover`` setting: which modules are imported, when, and
Django's ``INSTALLED_APPS`` (with a fake, minimal ``django`` package)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from strm.app import App
from strm.kernel.errors import ConfigurationError
from strm.runtime.discovery import main_origin, origin_package

AppFactory = Callable[..., App]

#: The modules a discovery test imports record themselves here (``strm_discovery_log``).
LOG = "strm_discovery_log"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def recording(name: str) -> str:
    """Module source that appends ``name`` to the log when imported."""
    return f"import {LOG}\n{LOG}.imported.append({name!r})\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on ``sys.path`` holding ``shop``, a package with modules, subpackages and
    test modules; every module imported from it is forgotten afterwards."""
    root = tmp_path / "src"
    write(
        root,
        {
            f"{LOG}.py": "imported = []\n",
            "shop/__init__.py": recording("shop"),
            "shop/orders.py": recording("shop.orders"),
            "shop/agents/__init__.py": recording("shop.agents"),
            "shop/agents/billing.py": recording("shop.agents.billing"),
            "shop/agents/tests/__init__.py": recording("shop.agents.tests"),
            "shop/agents/tests/test_billing.py": recording("shop.agents.tests.test_billing"),
            "shop/test_orders.py": recording("shop.test_orders"),
            "shop/tests.py": recording("shop.tests"),
            "shop/__main__.py": recording("shop.__main__"),
            "shop/data.txt": "not a module\n",
            "extra.py": recording("extra"),
        },
    )
    monkeypatch.syspath_prepend(str(root))
    before = set(sys.modules)
    yield root
    for name in set(sys.modules) - before:
        del sys.modules[name]


def imported() -> list[str]:
    log = __import__(LOG)
    names: list[str] = log.imported
    return names


SHOP = ["shop", "shop.agents", "shop.agents.billing", "shop.orders"]


def test_discover_imports_every_module_but_tests_and_main(
    project: Path, strm_app_factory: AppFactory
) -> None:
    app = strm_app_factory()
    assert app.discover("shop", "extra") == [*SHOP, "extra"]
    assert imported() == [*SHOP, "extra"]
    # Imported modules are not imported again.
    assert app.discover("shop") == SHOP
    assert imported() == [*SHOP, "extra"]


def test_decorators_in_discovered_modules_register(
    project: Path, strm_app_factory: AppFactory
) -> None:
    write(
        project,
        {
            "reg/__init__.py": "",
            "reg/app.py": "import strm\napp = strm.App('reg', entry_points=False)\n",
            "reg/jobs.py": """\
                from reg.app import app

                @app.timer(60.0)
                async def refresh():
                    pass

                @app.command()
                async def hello():
                    pass
                """,
        },
    )
    from reg.app import app

    assert app.discover("reg") == ["reg", "reg.app", "reg.jobs"]
    assert [job.name for job in app.background.jobs] == ["reg.jobs.refresh"]
    assert list(app.commands) == ["hello"]


def test_an_import_error_names_the_discovery(project: Path, strm_app_factory: AppFactory) -> None:
    write(project, {"broken/__init__.py": "", "broken/bad.py": "raise ValueError('nope')\n"})
    app = strm_app_factory()
    with pytest.raises(ValueError, match="nope") as info:
        app.discover("broken")
    assert "(strm imported 'broken.bad' to discover its agents, tasks and commands)" in (
        info.value.__notes__
    )


# -- the autodiscover setting --------------------------------------------------------------------


def test_autodiscover_false_scans_nothing(project: Path, strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(origin="shop")
    assert app.discover() == []
    assert app.autodiscover() == []


@pytest.mark.parametrize("origin", ["shop", "shop.orders"])
def test_autodiscover_true_scans_the_origin_package(
    project: Path, strm_app_factory: AppFactory, origin: str
) -> None:
    app = strm_app_factory(autodiscover=True, origin=origin)
    assert app.autodiscover() == SHOP
    assert app.autodiscover() == []  # once


def test_a_top_level_module_origin_is_only_imported(
    project: Path, strm_app_factory: AppFactory
) -> None:
    assert origin_package("extra") == "extra"
    app = strm_app_factory(autodiscover=True, origin="extra")
    assert app.discover() == ["extra"]


def test_autodiscover_true_needs_an_origin(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(autodiscover=True)
    with pytest.raises(ConfigurationError, match="origin is not set: start the worker with"):
        app.discover()


def test_autodiscover_a_list_or_a_callable(project: Path, strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(autodiscover=["extra"], origin="shop")
    assert app.discover() == ["extra"]
    app = strm_app_factory(autodiscover=lambda: ["shop.agents"])
    assert app.discover("extra") == ["shop.agents", "shop.agents.billing", "extra"]
    assert imported() == ["extra", "shop", "shop.agents", "shop.agents.billing"]
    app = strm_app_factory(autodiscover=lambda: ["shop", 3])
    with pytest.raises(ConfigurationError, match="expected package names, got 3"):
        app.discover()


def test_autodiscover_is_a_supported_setting(strm_app_factory: AppFactory) -> None:
    with pytest.raises(ConfigurationError, match="setting 'autodiscover': bad value 42"):
        strm_app_factory(autodiscover=42).configure()
    assert strm_app_factory(autodiscover="yes").conf.autodiscover is True


async def test_the_app_discovers_when_it_starts_before_its_agents(
    project: Path, strm_app_factory: AppFactory
) -> None:
    write(
        project,
        {
            "late/__init__.py": "",
            "late/app.py": """\
                import strm
                app = strm.App('late', entry_points=False, autodiscover=True, origin='late')
                ran = []
                """,
            "late/jobs.py": """\
                from late.app import app, ran

                @app.task
                async def job():
                    ran.append('task')

                @app.agent(app.channel())
                async def agent(stream):
                    async for value in stream:
                        ran.append(value)
                """,
        },
    )
    from late.app import app, ran

    assert app.agents == {} and app.background.jobs == []
    async with app.running():
        assert list(app.agents) == ["late.jobs.agent"]
        agent = app.agents["late.jobs.agent"]
        await agent.send(value="event")
        for _ in range(200):
            if len(ran) == 2:
                break
            await asyncio.sleep(0.005)
    assert sorted(ran) == ["event", "task"]
    assert app.autodiscover() == []


# -- Django ------------------------------------------------------------------------------------

FAKE_DJANGO = {
    "django/__init__.py": """\
        setup_calls = []

        def setup():
            setup_calls.append(1)
        """,
    "django/conf/__init__.py": """\
        class _Settings:
            INSTALLED_APPS = [
                "django.contrib.admin",
                "shop",
                "billing.apps.BillingConfig",
            ]

        settings = _Settings()
        """,
    "django/contrib/__init__.py": "",
    "django/contrib/admin/__init__.py": "raise RuntimeError('django.contrib is not scanned')\n",
    "billing/__init__.py": recording("billing"),
    "billing/apps.py": """\
        class BillingConfig:
            name = "billing"
        """,
    "billing/models.py": recording("billing.models"),
}


def test_django_installed_apps_are_scanned(project: Path, strm_app_factory: AppFactory) -> None:
    write(project, FAKE_DJANGO)
    app = strm_app_factory(autodiscover=True, environ={"DJANGO_SETTINGS_MODULE": "site"})
    assert app.discover() == [*SHOP, "billing", "billing.apps", "billing.models"]
    assert __import__("django").setup_calls == [1]
    # An origin is scanned as well.
    app = strm_app_factory(
        autodiscover=True, origin="extra", environ={"DJANGO_SETTINGS_MODULE": "site"}
    )
    assert app.discover() == [*SHOP, "billing", "billing.apps", "billing.models", "extra"]


def test_django_only_with_its_settings_module_and_autodiscover_true(
    project: Path, strm_app_factory: AppFactory
) -> None:
    write(project, FAKE_DJANGO)
    app = strm_app_factory(autodiscover=["extra"], environ={"DJANGO_SETTINGS_MODULE": "site"})
    assert app.discover() == ["extra"]
    app = strm_app_factory(autodiscover=True)
    with pytest.raises(ConfigurationError, match="origin is not set"):
        app.discover()
    assert __import__("django").setup_calls == []


def test_a_bad_installed_apps_entry(project: Path, strm_app_factory: AppFactory) -> None:
    write(project, {**FAKE_DJANGO, "billing/apps.py": "class BillingConfig:\n    pass\n"})
    app = strm_app_factory(autodiscover=True, environ={"DJANGO_SETTINGS_MODULE": "site"})
    with pytest.raises(ConfigurationError, match=r"'billing\.apps\.BillingConfig' is neither"):
        app.discover()


# -- origins and the command line ----------------------------------------------------------------


def test_main_origin_of_imported_modules() -> None:
    assert main_origin("proj.app") == "proj.app"
    assert main_origin("proj.__main__") == "proj"


def run_python(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONUTF8": "1"}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=30
    )


PROJECT_APP = """\
import strm

print("importing", __name__)
app = strm.App("proj", entry_points=False, autodiscover=True)

if __name__ == "__main__":
    app.main()
"""

PROJECT_COMMANDS = """\
from proj.app import app


@app.command()
async def where():
    print("origin", app.conf.origin)
"""


def test_the_command_line_discovers_commands_in_the_origin_package(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "proj/__init__.py": "",
            "proj/app.py": PROJECT_APP,
            "proj/commands.py": PROJECT_COMMANDS,
            "proj/tests/__init__.py": "raise RuntimeError('tests are not discovered')\n",
        },
    )
    result = run_python(tmp_path, "-m", "strm", "-A", "proj.app", "where")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "importing proj.app\norigin proj.app\n"


def test_app_main_does_not_import_its_script_twice(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "proj/app.py": PROJECT_APP.replace(
                "if __name__",
                "@app.command()\nasync def hello():\n    print('hello')\n\n\nif __name__",
            ),
        },
    )
    result = run_python(tmp_path, "proj/app.py", "hello")
    assert result.returncode == 0, result.stderr
    # origin 'app' is the script itself: discovery does not import it again as 'app'.
    assert result.stdout == "importing __main__\nhello\n"
