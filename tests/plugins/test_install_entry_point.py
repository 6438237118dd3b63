"""The worked example plugin, installed for real into a fresh virtual environment.

``examples/plugin`` is built and installed non-editable, with strm itself, by ``uv pip install``;
then strm must find it through its entry point alone, ``--plugin no:NAME`` must block it, and its
own tests must pass against the installed copy. The workspace environment, where it is not
installed, loads it by module path with ``--plugin``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from strm.builtins.plugins import BUILTIN_PLUGINS
from strm.kernel.settings.catalogue import KERNEL_SETTINGS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "plugin"
EXAMPLE_DIST = "strm-example-dictstore"
EXAMPLE_MODULE = "strm_example_dictstore"
EXAMPLE_ENTRY_POINT = "example_dictstore"
BUILTINS = set(BUILTIN_PLUGINS)
TIMEOUT = 120.0

_SETTING_VARIABLES = {spec.env for spec in KERNEL_SETTINGS if spec.env}


def clean_env(extra: Mapping[str, str] = {}) -> dict[str, str]:
    """This process's environment without anything that would pick a Python, a path or a
    setting for the child: no virtualenv, no PYTHONPATH, no STRM_* or setting variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STRM_", "DICTSTORE_"))
        and key not in _SETTING_VARIABLES
        and key not in {"VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHOME"}
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run(
    args: list[str], *, cwd: Path, env: Mapping[str, str] = {}
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=clean_env(env), capture_output=True, text=True, timeout=TIMEOUT
    )


def plugin_listing(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return {plugin["name"]: plugin for plugin in json.loads(result.stdout)}


class Venv:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = str(root / "bin" / "python")
        self.strm = str(root / "bin" / "strm")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """strm and the example plugin (and pytest, for the plugin's tests) installed non-editable."""
    uv = shutil.which("uv")
    assert uv is not None, "these tests need uv on PATH (.ci/run installs it)"
    where = tmp_path_factory.mktemp("install")
    env = Venv(where / "venv")
    created = run([uv, "venv", "--quiet", str(env.root), "--python", sys.executable], cwd=where)
    assert created.returncode == 0, created.stderr
    installed = run(
        [
            uv, "pip", "install", "--python", env.python,
            # Local directories: always rebuild them from the current sources.
            "--refresh-package", "strm", "--refresh-package", EXAMPLE_DIST,
            str(ROOT / "core"), str(EXAMPLE), "pytest", "pytest-asyncio",
        ],
        cwd=where,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return env


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory with an app on ``dictstore://``, to run commands from."""
    (tmp_path / "dictapp.py").write_text(
        textwrap.dedent(
            f"""\
            import strm

            app = strm.App("dictapp", store="dictstore://", datadir={str(tmp_path / "data")!r})
            """
        )
    )
    return tmp_path


def test_strm_plugins_lists_the_plugin_from_its_entry_point(venv: Venv, workdir: Path) -> None:
    plugins = plugin_listing(run([venv.strm, "plugins", "--json"], cwd=workdir))
    assert set(plugins) == BUILTINS | {EXAMPLE_ENTRY_POINT}
    plugin = plugins[EXAMPLE_ENTRY_POINT]
    assert plugin["distribution"] == EXAMPLE_DIST
    assert plugin["version"] == "0.1.0"
    assert plugin["module"] == EXAMPLE_MODULE
    assert plugin["builtin"] is False
    assert {"kind": "store", "name": "dictstore"} in plugin["provides"]
    assert {"kind": "codec", "name": "reverse"} in plugin["provides"]
    assert plugin["settings"] == ["dictstore_max_keys"]
    assert {"strm_stores", "strm_settings", "strm_cli_commands", "strm_app_configured"} <= set(
        plugin["hooks"]
    )


def test_an_app_resolves_the_scheme_to_the_plugins_store(venv: Venv, workdir: Path) -> None:
    snippet = textwrap.dedent(
        """\
        import strm
        provision = strm.App("t", store="dictstore://").configure().resolve_backend("store")
        factory = provision.factory
        print(factory.__module__, factory.__qualname__, provision.distribution)
        """
    )
    result = run([venv.python, "-c", snippet], cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"{EXAMPLE_MODULE}.store", "DictStore", EXAMPLE_DIST]


def test_the_plugins_command_and_option_come_from_the_entry_point(
    venv: Venv, workdir: Path
) -> None:
    result = run([venv.strm, "-A", "dictapp", "--dictstore-max-keys", "5", "dictstore-info"],
                 cwd=workdir)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"{EXAMPLE_ENTRY_POINT}: {EXAMPLE_DIST} 0.1.0" in result.stdout
    assert "dictstore_max_keys = 5 (command line)" in result.stdout

    bad = run([venv.strm, "dictstore-info"], cwd=workdir, env={"DICTSTORE_MAX_KEYS": "abc"})
    assert bad.returncode == 2
    assert bad.stderr.startswith("Error: setting 'dictstore_max_keys' (from environment ")


def test_naming_an_installed_plugin_by_module_is_harmless(venv: Venv, workdir: Path) -> None:
    listing = run([venv.strm, "--plugin", EXAMPLE_MODULE, "plugins", "--json"], cwd=workdir)
    plugins = plugin_listing(listing)
    assert set(plugins) == BUILTINS | {EXAMPLE_ENTRY_POINT}


def test_no_name_blocks_the_installed_plugin(venv: Venv, workdir: Path) -> None:
    blocked = f"no:{EXAMPLE_ENTRY_POINT}"
    plugins = plugin_listing(
        run([venv.strm, "--plugin", blocked, "plugins", "--json"], cwd=workdir)
    )
    assert set(plugins) == BUILTINS

    result = run([venv.strm, "-A", "dictapp", "--plugin", blocked, "worker"], cwd=workdir)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        "Error: store 'dictstore://': no installed plugin provides the store scheme "
        "'dictstore://'; installed: memory"
    )

    by_env = run([venv.strm, "-A", "dictapp", "worker"], cwd=workdir, env={"STRM_PLUGINS": blocked})
    assert by_env.returncode == 2
    assert "installed: memory" in by_env.stderr


def test_the_example_plugins_own_tests_pass_when_installed(venv: Venv, tmp_path: Path) -> None:
    result = run(
        [venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
    assert "failed" not in result.stdout


def test_the_workspace_loads_the_uninstalled_plugin_by_module_path(workdir: Path) -> None:
    env = {"PYTHONPATH": str(EXAMPLE / "src")}
    strm = [sys.executable, "-m", "strm"]
    without = plugin_listing(run([*strm, "plugins", "--json"], cwd=workdir, env=env))
    assert all(p["module"] != EXAMPLE_MODULE for p in without.values()), "installed here?"

    plugins = plugin_listing(
        run([*strm, "--plugin", EXAMPLE_MODULE, "plugins", "--json"], cwd=workdir, env=env)
    )
    plugin = plugins[EXAMPLE_MODULE]
    assert plugin["distribution"] == f"module {EXAMPLE_MODULE}"
    assert {"kind": "store", "name": "dictstore"} in plugin["provides"]
