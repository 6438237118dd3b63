"""``strm new-plugin``: the generated distribution lints clean and passes its own tests.

Here the generated tests run in this environment with the new plugin's ``src`` on the path (its
entry-point test skips: it is not installed); ``tests/plugins/test_new_plugin_install.py``
installs the distributions into a fresh virtual environment, where that test runs too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from strm.cli.loading import pre_parse
from strm.cli.main import run
from strm.cli.new_plugin import KINDS, PluginNames, create_plugin, plugin_files
from strm.kernel.errors import StrmError

TIMEOUT = 240.0


def run_generated_tests(directory: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(directory / "src"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("STRM_PLUGINS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def passed(output: str) -> int:
    found = re.search(r"(\d+) passed", output)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_generated_plugin_passes_its_own_tests(kind: str, tmp_path: Path) -> None:
    directory = create_plugin(kind, f"demo-{kind}", tmp_path)
    result = run_generated_tests(directory)
    assert result.returncode == 0, result.stdout + result.stderr
    # Every test but the installed entry point's ran and passed.
    assert "1 skipped" in result.stdout and "is not installed" in result.stdout, result.stdout
    assert passed(result.stdout) >= 3, result.stdout


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_generated_plugin_lints_clean(kind: str, tmp_path: Path) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff is not None, "ruff is a development dependency of the workspace"
    directory = create_plugin(kind, f"demo-{kind}", tmp_path)
    for args in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = subprocess.run(
            [ruff, *args], cwd=directory, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_distribution_has_every_part(tmp_path: Path) -> None:
    directory = create_plugin("store", "my-store", tmp_path)
    assert directory == tmp_path / "strm-my-store"
    found = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}
    assert found == {
        "pyproject.toml",
        "README.md",
        ".gitignore",
        ".github/workflows/ci.yml",
        "src/strm_my_store/__init__.py",
        "src/strm_my_store/store.py",
        "src/strm_my_store/py.typed",
        "tests/test_plugin.py",
        "tests/test_store.py",
    }
    project = tomllib.loads((directory / "pyproject.toml").read_text())
    assert project["project"]["name"] == "strm-my-store"
    assert project["project"]["entry-points"]["strm"] == {"my_store": "strm_my_store"}
    assert project["project"]["dependencies"][0].startswith("strm")
    assert "pytest-asyncio>=0.24" in project["project"]["optional-dependencies"]["test"]
    workflow = (directory / ".github" / "workflows" / "ci.yml").read_text()
    assert 'pip install ".[test]"' in workflow and "python -m pytest" in workflow
    assert "${{ matrix.python-version }}" in workflow  # the workflow's own syntax is kept
    assert "class MyStore:" in (directory / "src/strm_my_store/store.py").read_text()


def test_no_placeholder_is_left_in_any_kind() -> None:
    for kind in KINDS:
        for path, text in plugin_files(PluginNames.parse(kind, "x")).items():
            assert "{{strm:" not in text, (kind, path)


@pytest.mark.parametrize(
    ("raw", "distribution", "module", "class_name"),
    [
        ("mystore", "strm-mystore", "strm_mystore", "MystoreStore"),
        ("strm-My_Store", "strm-my-store", "strm_my_store", "MyStore"),
        ("pg2", "strm-pg2", "strm_pg2", "Pg2Store"),
    ],
)
def test_names_are_derived_from_the_one_given(
    raw: str, distribution: str, module: str, class_name: str
) -> None:
    names = PluginNames.parse("store", raw)
    assert (names.distribution, names.module, names.class_name) == (
        distribution,
        module,
        class_name,
    )
    assert names.entry_point == module.removeprefix("strm_")


@pytest.mark.parametrize("raw", ["", "2fast", "my store", "a/b", "-x", "x--y"])
def test_a_bad_name_is_refused(raw: str, tmp_path: Path) -> None:
    with pytest.raises(StrmError, match="lowercase letters, digits and dashes"):
        create_plugin("store", raw, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_builtin_plugins_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StrmError, match="built-in plugin"):
        create_plugin("store", "memory-store", tmp_path)


def test_an_existing_directory_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "strm-mine").mkdir()
    (tmp_path / "strm-mine" / "keep.txt").write_text("mine")
    with pytest.raises(StrmError, match="already exists"):
        create_plugin("codec", "mine", tmp_path)
    assert [p.name for p in (tmp_path / "strm-mine").iterdir()] == ["keep.txt"]


def strm(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run(args, pre_parse(args))
    out, err = capsys.readouterr()
    return code, out + err


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = strm(["new-plugin", "cache", "fastcache", "-d", str(tmp_path)], capsys)
    assert code == 0, output
    assert "strm-fastcache" in output and "pytest" in output
    assert (tmp_path / "strm-fastcache" / "src" / "strm_fastcache" / "cache.py").is_file()


def test_an_unknown_kind_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = strm(["new-plugin", "widget", "x", "-d", str(tmp_path)], capsys)
    assert code == 2
    assert "store" in output and "transport" in output
    assert list(tmp_path.iterdir()) == []
