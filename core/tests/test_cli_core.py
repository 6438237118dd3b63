"""The ``strm`` command's core: help, ``strm plugins``, finding the app with ``-A``, and
``python -m strm``."""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

STRM_SCRIPT = Path(sys.executable).with_name("strm")


def strm(cwd: Path, *args: str, script: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``python -m strm ARGS`` (or the ``strm`` console script) in ``cwd``."""
    command = [str(STRM_SCRIPT)] if script else [sys.executable, "-m", "strm"]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONUTF8": "1"}
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=30
    )


# -- help ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("script", [True, False], ids=["console-script", "python-m"])
def test_help_lists_the_core_commands_and_options(tmp_path: Path, script: bool) -> None:
    result = strm(tmp_path, "--help", script=script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: strm [OPTIONS] COMMAND [ARGS]...")
    commands = result.stdout.split("Commands:")[1]
    assert "worker " in commands
    assert "plugins " in commands
    for option in ("-A, --app", "--plugin", "-l, --loglevel", "-f, --logfile", "--loop"):
        assert option in result.stdout


def test_an_unknown_command(tmp_path: Path) -> None:
    result = strm(tmp_path, "frobnicate")
    assert result.returncode == 2
    assert "No such command 'frobnicate'" in result.stderr


def test_worker_needs_an_app(tmp_path: Path) -> None:
    result = strm(tmp_path, "worker")
    assert result.returncode == 2
    assert result.stderr.strip() == "Error: 'strm worker' needs an app: strm -A yourproject.app ..."


# -- strm plugins ------------------------------------------------------------------------------

#: name: (module, hooks, provides); default_classes gains a class with each new extension setting,
#: so for it these are the classes it provides at least.
BUILTINS = {
    "default_classes": (
        "strm.builtins.default_classes",
        ["strm_extension_classes"],
        [("class", "Serializers"), ("class", "Worker")],
    ),
    "codecs": (
        "strm.builtins.codecs",
        ["strm_codecs"],
        [("codec", "raw"), ("codec", "json"), ("codec", "pickle"), ("codec", "binary")],
    ),
    "memory_store": ("strm.builtins.memory_store", ["strm_stores"], [("store", "memory")]),
    "memory_cache": ("strm.builtins.memory_cache", ["strm_caches"], [("cache", "memory")]),
}


@pytest.mark.parametrize("args", [("plugins", "--json"), ("--json", "plugins")])
def test_plugins_as_json(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = strm(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    listing = {plugin["name"]: plugin for plugin in json.loads(result.stdout)}
    assert set(BUILTINS) <= set(listing)
    for name, (module, hooks, provides) in BUILTINS.items():
        plugin = listing[name]
        assert plugin["distribution"] == "strm"
        assert plugin["version"] == metadata.version("strm")
        assert plugin["builtin"] is True
        assert plugin["module"] == module
        assert plugin["hooks"] == hooks
        provided = [(p["kind"], p["name"]) for p in plugin["provides"]]
        if name == "default_classes":
            assert set(provides) <= set(provided)
            assert {kind for kind, _ in provided} == {"class"}
        else:
            assert provided == provides


def test_plugins_as_text(tmp_path: Path) -> None:
    result = strm(tmp_path, "plugins")
    assert result.returncode == 0, result.stderr
    version = metadata.version("strm")
    lines = result.stdout.splitlines()
    assert f"codecs (built-in): strm {version} [strm.builtins.codecs]" in lines
    codecs = lines.index(f"codecs (built-in): strm {version} [strm.builtins.codecs]")
    assert lines[codecs + 1 : codecs + 3] == [
        "  hooks: strm_codecs",
        "  provides: codec raw, codec json, codec pickle, codec binary",
    ]
    assert f"memory_store (built-in): strm {version} [strm.builtins.memory_store]" in lines
    assert "  provides: store memory" in lines
    assert "  provides: cache memory" in lines
    classes = lines[
        lines.index(f"default_classes (built-in): strm {version} [strm.builtins.default_classes]")
        + 2
    ]
    assert classes.startswith("  provides: class ")
    assert "class Serializers, " in classes
    assert "class Worker" in classes


@pytest.mark.parametrize("args", [("--plugin", "no:memory_cache"), ("--plugin=no:memory_cache",)])
def test_plugins_blocked_on_the_command_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = strm(tmp_path, *args, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    names = [plugin["name"] for plugin in json.loads(result.stdout)]
    assert "memory_cache" not in names
    assert "memory_store" in names


# -- finding the app ---------------------------------------------------------------------------

#: A module that is its own plugin: it adds an ``app-id`` command printing the app's id.
APP_ID_COMMAND = """\
import click

import strm
from strm.cli.context import current_app


@click.command("app-id")
def app_id():
    click.echo(current_app().conf.id)


@strm.hookimpl
def strm_cli_commands():
    return [app_id]


def make(name):
    return strm.App(name, plugins=[__name__], entry_points=False)

"""


def app_module(directory: Path, name: str, body: str) -> None:
    (directory / f"{name}.py").write_text(APP_ID_COMMAND + textwrap.dedent(body))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("proj:second", "second"),
        ("proj:app", "first"),
        ("proj", "first"),
        ("--app=proj:second", "second"),
        ("lone", "lonely"),
        ("pkg.apps:main", "packaged"),
        ("pkg.apps", "packaged"),
    ],
)
def test_the_app_is_found(tmp_path: Path, spec: str, expected: str) -> None:
    app_module(tmp_path, "proj", 'app = make("first")\nsecond = make("second")\n')
    app_module(tmp_path, "lone", 'the_app = make("lonely")\n')
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    app_module(tmp_path / "pkg", "apps", 'main = make("packaged")\n')
    args = (spec,) if spec.startswith("--app=") else ("-A", spec)
    result = strm(tmp_path, *args, "app-id")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{expected}\n"


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("two", "-A two: two has no strm.App named 'app'; use -A two:NAME"),
        ("two:third", "-A two:third: two has no strm.App named 'third'; use -A two:NAME"),
        ("two:helper", "-A two:helper: two has no strm.App named 'helper'; use -A two:NAME"),
        ("missing", "-A missing: no module named 'missing'"),
        ("missing.sub:app", "-A missing.sub:app: no module named 'missing.sub'"),
    ],
)
def test_an_app_that_is_not_found(tmp_path: Path, spec: str, error: str) -> None:
    app_module(tmp_path, "two", 'one = make("one")\nother = make("other")\nhelper = 42\n')
    result = strm(tmp_path, "-A", spec, "plugins")
    assert result.returncode == 2
    assert result.stderr.strip() == f"Error: {error}"


def test_an_import_error_inside_the_app_module_is_not_hidden(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import no_such_dependency\n")
    result = strm(tmp_path, "-A", "broken", "plugins")
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'no_such_dependency'" in result.stderr


# -- -A as a file path -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("src/proj/app.py", "first"),
        ("src/proj/app.py:second", "second"),
        ("{root}/src/proj/app.py:second", "second"),
    ],
    ids=["relative", "relative-with-attribute", "absolute"],
)
def test_the_app_is_found_in_a_file(tmp_path: Path, spec: str, expected: str) -> None:
    """Its directory comes first on sys.path, so a neighbour shadowing nothing is imported."""
    project = tmp_path / "src" / "proj"
    project.mkdir(parents=True)
    (project / "names.py").write_text('FIRST = "first"\n')
    app_module(
        project, "app", 'from names import FIRST\napp = make(FIRST)\nsecond = make("second")\n'
    )
    result = strm(tmp_path, "-A", spec.format(root=tmp_path), "app-id")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{expected}\n"


def test_an_app_file_that_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    app_module(tmp_path / "proj", "wordcount", 'app = make("wc")\n')
    result = strm(tmp_path, "-A", "proj/wordcont.py", "plugins")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: -A proj/wordcont.py: no such file 'proj/wordcont.py'; "
        "did you mean 'proj/wordcount.py'?"
    )


def test_an_app_file_whose_module_name_is_taken(tmp_path: Path) -> None:
    """``asyncio.py`` would silently be the asyncio module strm imported already."""
    (tmp_path / "proj").mkdir()
    app_module(tmp_path / "proj", "asyncio", 'app = make("shadowed")\n')
    result = strm(tmp_path, "-A", "proj/asyncio.py", "plugins")
    assert result.returncode == 2
    error = result.stderr.strip()
    assert error.startswith("Error: -A proj/asyncio.py: the module name 'asyncio' is already taken")
    assert error.endswith("; rename proj/asyncio.py")


# -- did you mean ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (
            "pkg.wordcont",
            "-A pkg.wordcont: no module named 'pkg.wordcont'; did you mean 'pkg.wordcount'?",
        ),
        (
            "pkg.wordcont:app",
            "-A pkg.wordcont:app: no module named 'pkg.wordcont'; "
            "did you mean 'pkg.wordcount:app'?",
        ),
        ("wordcont", "-A wordcont: no module named 'wordcont'; did you mean 'wordcount'?"),
        (
            "pkg.wordcount:ap",
            "-A pkg.wordcount:ap: pkg.wordcount has no strm.App named 'ap'; "
            "did you mean 'pkg.wordcount:app'?",
        ),
        (
            "pkg/wordcount.py:apps",
            "-A pkg/wordcount.py:apps: pkg/wordcount.py has no strm.App named 'apps'; "
            "did you mean 'pkg/wordcount.py:app'?",
        ),
    ],
)
def test_a_misspelt_app_gets_a_suggestion(tmp_path: Path, spec: str, error: str) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    app_module(tmp_path / "pkg", "wordcount", 'app = make("wc")\napply = 42\n')
    app_module(tmp_path, "wordcount", 'app = make("wc")\n')
    result = strm(tmp_path, "-A", spec, "plugins")
    assert result.returncode == 2
    assert result.stderr.strip() == f"Error: {error}"


# -- strm --version --------------------------------------------------------------------------


@pytest.mark.parametrize("script", [True, False], ids=["console-script", "python-m"])
def test_version(tmp_path: Path, script: bool) -> None:
    result = strm(tmp_path, "--version", script=script)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"strm, version {metadata.version('strm')}"
    installed = {
        f"{ep.dist.name} {ep.dist.version}"
        for ep in metadata.entry_points(group="strm")
        if ep.dist is not None
    }
    if installed:
        assert lines[1:] == [f"plugins: {', '.join(sorted(installed))}"]
    else:
        assert lines[1:] == []
    assert result.stderr == ""


def test_version_lists_a_plugin_named_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "localplugin.py").write_text("")
    result = strm(tmp_path, "--plugin", "localplugin", "--version")
    assert result.returncode == 0, result.stderr
    assert "module localplugin" in result.stdout.splitlines()[-1]
