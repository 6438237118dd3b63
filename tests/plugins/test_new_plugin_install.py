"""Generated plugins and the SQLite example, installed for real, pass their own tests.

One fresh virtual environment gets strm (``core/``), a distribution of every kind that
``strm new-plugin`` makes, and ``examples/sqlite_store``, all non-editable through
``uv pip install``. Each distribution's tests then run with that environment's Python against
the installed copies, so the entry-point tests, which skip where a plugin is only on the path,
run here and must pass.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from strm.cli.new_plugin import KINDS, create_plugin

from tests.plugins.test_install_entry_point import clean_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SQLITE_EXAMPLE = ROOT / "examples" / "sqlite_store"
SQLITE_DIST = "strm-example-sqlite"
TIMEOUT = 300.0


class Installed:
    def __init__(self, root: Path, plugins: dict[str, Path]) -> None:
        self.python = str(root / "bin" / "python")
        self.strm = str(root / "bin" / "strm")
        self.plugins = plugins  # distribution -> its source directory


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=TIMEOUT
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    uv = shutil.which("uv")
    assert uv is not None, "these tests need uv on PATH"
    where = tmp_path_factory.mktemp("new-plugins")
    plugins = {f"strm-gen-{kind}": create_plugin(kind, f"gen-{kind}", where) for kind in KINDS} | {
        "strm-example-sqlite": SQLITE_EXAMPLE
    }
    venv = where / "venv"
    created = run([uv, "venv", "--quiet", str(venv), "--python", sys.executable], cwd=where)
    assert created.returncode == 0, created.stderr
    refresh = [arg for dist in ["strm", *plugins] for arg in ("--refresh-package", dist)]
    sources = [str(ROOT / "core"), *(str(path) for path in plugins.values())]
    done = run(
        [uv, "pip", "install", "--python", str(venv / "bin" / "python"), *refresh, *sources,
         "pytest>=8", "pytest-asyncio>=0.24"],
        cwd=where,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return Installed(venv, plugins)


def test_strm_lists_every_installed_plugin(installed: Installed, tmp_path: Path) -> None:
    listing = run([installed.strm, "plugins", "--json"], cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    found = {p["distribution"]: p for p in json.loads(listing.stdout) if not p["builtin"]}
    assert set(found) == set(installed.plugins)
    for kind in KINDS:
        assert {"kind": kind, "name": f"gen-{kind}"} in found[f"strm-gen-{kind}"]["provides"]
    assert {"kind": "store", "name": "sqlite"} in found[SQLITE_DIST]["provides"]


@pytest.mark.parametrize("distribution", [*(f"strm-gen-{kind}" for kind in KINDS), SQLITE_DIST])
def test_the_installed_plugin_passes_its_own_tests(installed: Installed, distribution: str) -> None:
    source = installed.plugins[distribution]
    result = run(
        [installed.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", "tests"],
        cwd=source,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "skipped" not in result.stdout, output  # the entry-point test ran too
    assert re.search(r"\d+ passed", result.stdout), output


def test_the_installed_strm_has_the_templates(installed: Installed, tmp_path: Path) -> None:
    """The templates are package data of the wheel, not only files of the source tree."""
    made = run([installed.strm, "new-plugin", "codec", "packed", "-d", str(tmp_path)], cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    codec = tmp_path / "strm-packed" / "src" / "strm_packed" / "codec.py"
    assert "class PackedCodec:" in codec.read_text()
