"""Every distribution of the repository, built as users get it and installed on each supported
Python.

The wheels and sdists are built once with ``uv build``; their metadata must carry the license,
the README and the classifiers the pyprojects declare. Then, for Python 3.11, 3.12 and 3.13, a
fresh virtual environment gets every wheel (and the dependencies from the package index), and in
it ``strm plugins --json`` must list each first-party plugin under its distribution and version,
and ``installed_smoke.py`` must run an app through an agent into the on-disk stores.

An interpreter that cannot be found skips its test, naming the version, unless
``STRM_TESTS_NO_SKIP=1`` (CI) makes that a failure. Nothing downloads an interpreter.
plyvel has no wheel for Python 3.13: there it is built from source, which needs LevelDB's
headers and a C++ compiler (Debian: ``apt-get install libleveldb-dev g++``).
"""

from __future__ import annotations

import email.parser
import email.policy
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from strm.builtins.plugins import BUILTIN_PLUGINS
from strm.kernel.settings.catalogue import KERNEL_SETTINGS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LICENSE = ROOT / "LICENSE"
SMOKE = Path(__file__).with_name("installed_smoke.py")
PLUGIN_DIRS = sorted(path.parent for path in ROOT.glob("plugins/*/pyproject.toml"))
DISTRIBUTION_DIRS = [ROOT / "core", *PLUGIN_DIRS]
FIRST_PARTY_PLUGINS = {
    "store_rocksdb",
    "store_leveldb",
    "store_aerospike",
    "transport_kafka",
    "web_aiohttp",
    "cache_redis",
    "schema_marshmallow",
    "sensor_statsd",
    "sensor_datadog",
    "sensor_otel",
    "sensor_prometheus",
}
PYTHONS = ("3.11", "3.12", "3.13")
NO_SKIP = "STRM_TESTS_NO_SKIP"
URL_LABELS = {"Homepage", "Documentation", "Source", "Issues"}

BUILD_TIMEOUT = 180.0
INSTALL_TIMEOUT = 240.0
RUN_TIMEOUT = 60.0

_SETTING_VARIABLES = {spec.env for spec in KERNEL_SETTINGS if spec.env}


def pyproject(directory: Path) -> dict[str, Any]:
    with (directory / "pyproject.toml").open("rb") as file:
        project: dict[str, Any] = tomllib.load(file)["project"]
    return project


def clean_env() -> dict[str, str]:
    """This environment without what would pick a Python, a path or a strm setting for a child."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("STRM_")
        and key not in _SETTING_VARIABLES
        and key not in {"VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHOME"}
    }


def run(
    args: list[str], *, cwd: Path, timeout: float = RUN_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout
    )


def uv() -> str:
    found = shutil.which("uv")
    assert found is not None, "these tests need uv on PATH (.ci/run installs it)"
    return found


# -- finding interpreters -------------------------------------------------------------------


def interpreter_candidates(version: str, cwd: Path) -> Iterator[str]:
    """Where a Python of ``version`` may be, most likely first; each is verified by running it.

    pyenv's shims are on PATH on many machines but fail for a version not enabled globally,
    and ``uv python find`` gives up on such a shim, so pyenv's own directories come last."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        yield sys.executable
    on_path = shutil.which(f"python{version}")
    if on_path:
        yield on_path
    found = run([uv(), "python", "find", "--system", "--no-python-downloads", version], cwd=cwd)
    if found.returncode == 0 and found.stdout.strip():
        yield found.stdout.strip()
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    if shutil.which("pyenv"):
        asked = run(["pyenv", "root"], cwd=cwd)
        pyenv_root = asked.stdout.strip() if asked.returncode == 0 else pyenv_root
    pattern = os.path.join(pyenv_root, "versions", f"{version}*", "bin", f"python{version}")
    yield from sorted(glob.glob(pattern), key=_natural, reverse=True)


def _natural(path: str) -> list[int | str]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def find_interpreter(version: str, cwd: Path) -> str | None:
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    for candidate in interpreter_candidates(version, cwd):
        try:
            answer = run([candidate, "-c", probe], cwd=cwd, timeout=30.0)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if answer.returncode == 0 and answer.stdout.strip() == version:
            return candidate
    return None


def interpreter_or_skip(version: str, cwd: Path) -> str:
    interpreter = find_interpreter(version, cwd)
    if interpreter is None:
        message = (
            f"Python {version} not found (python{version} on PATH, uv python find, "
            f"pyenv versions); install it, e.g. with pyenv"
        )
        if os.environ.get(NO_SKIP) == "1":
            pytest.fail(f"{message}; {NO_SKIP}=1 forbids skipping")
        pytest.skip(message)
    return interpreter


# -- building ---------------------------------------------------------------------------------


class Built:
    """The artifacts of every distribution, by distribution name."""

    def __init__(self, directory: Path) -> None:
        self.wheels = {_dist_name(p.name): p for p in directory.glob("*.whl")}
        self.sdists = {_dist_name(p.name): p for p in directory.glob("*.tar.gz")}


def _dist_name(filename: str) -> str:
    """``strm_store_rocksdb-0.1.0-py3-none-any.whl`` -> ``strm-store-rocksdb``."""
    return filename.split("-")[0].replace("_", "-")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("dist")
    result = run(
        [uv(), "build", "--all-packages", "--out-dir", str(out)], cwd=ROOT, timeout=BUILD_TIMEOUT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    artifacts = Built(out)
    names = {pyproject(directory)["name"] for directory in DISTRIBUTION_DIRS}
    assert set(artifacts.wheels) == names, result.stderr
    assert set(artifacts.sdists) == names, result.stderr
    return artifacts


def wheel_metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (path,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser(policy=email.policy.compat32).parsestr(
            archive.read(path).decode()
        )


@pytest.mark.parametrize("directory", DISTRIBUTION_DIRS, ids=lambda d: d.name)
def test_artifacts_carry_the_license_the_readme_and_the_metadata(
    directory: Path, built: Built
) -> None:
    project = pyproject(directory)
    name = project["name"]
    license_text = LICENSE.read_bytes()
    with zipfile.ZipFile(built.wheels[name]) as wheel:
        files = wheel.namelist()
        (licensed,) = [n for n in files if n.endswith(".dist-info/licenses/LICENSE")]
        assert wheel.read(licensed) == license_text
        assert any(n.endswith("/py.typed") for n in files), "Typing :: Typed needs py.typed"
    with tarfile.open(built.sdists[name]) as sdist:
        member = sdist.extractfile(f"{sdist.getnames()[0].split('/')[0]}/LICENSE")
        assert member is not None and member.read() == license_text

    metadata = wheel_metadata(built.wheels[name])
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Requires-Python"] == ">=3.11"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload() == (directory / "README.md").read_text(encoding="utf-8")
    classifiers = set(metadata.get_all("Classifier") or [])
    expected = {f"Programming Language :: Python :: {v}" for v in PYTHONS}
    expected |= {"Development Status :: 3 - Alpha", "Framework :: AsyncIO", "Typing :: Typed"}
    assert expected <= classifiers
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert set(urls) == URL_LABELS
    assert all(u.startswith("https://github.com/strm-project/strm") for u in urls.values())


def test_the_kernel_wheel_carries_the_dashboard_page(built: Built) -> None:
    """The page is package data read with importlib.resources: it must be in the wheel."""
    from strm.web.apps.dashboard import FILES

    with zipfile.ZipFile(built.wheels["strm"]) as wheel:
        files = set(wheel.namelist())
        for name in FILES:
            path = f"strm/web/apps/dashboard_files/{name}"
            assert path in files, f"{path} is missing from the strm wheel"
            source = ROOT / "core" / "src" / path
            assert wheel.read(path) == source.read_bytes()


# -- installing -------------------------------------------------------------------------------


def plugins_by_name(listing: str) -> dict[str, Mapping[str, Any]]:
    return {plugin["name"]: plugin for plugin in json.loads(listing)}


@pytest.mark.parametrize("version", PYTHONS)
def test_wheels_install_and_work_on(version: str, built: Built, tmp_path: Path) -> None:
    interpreter = interpreter_or_skip(version, tmp_path)
    venv = tmp_path / "venv"
    python, strm = str(venv / "bin" / "python"), str(venv / "bin" / "strm")
    created = run(
        [uv(), "venv", "--quiet", "--no-python-downloads", "--python", interpreter, str(venv)],
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    wheels = [str(wheel) for wheel in built.wheels.values()]
    installed = run(
        [uv(), "pip", "install", "--python", python, *wheels], cwd=tmp_path, timeout=INSTALL_TIMEOUT
    )
    hint = ""
    if "leveldb/db.h" in installed.stderr:
        hint = "\nplyvel is built from source here: apt-get install libleveldb-dev g++"
    assert installed.returncode == 0, installed.stderr + hint

    listing = run([strm, "plugins", "--json"], cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    plugins = plugins_by_name(listing.stdout)
    assert set(plugins) == set(BUILTIN_PLUGINS) | FIRST_PARTY_PLUGINS
    for directory in PLUGIN_DIRS:
        project = pyproject(directory)
        entry_points = project.get("entry-points", {}).get("strm", {})
        if not entry_points:  # an import shim (strm-mode-compat): no plugin to list
            continue
        (entry_point,) = entry_points
        plugin = plugins[entry_point]
        assert plugin["distribution"] == project["name"]
        assert plugin["version"] == project["version"]
        assert plugin["builtin"] is False
    kernel = pyproject(ROOT / "core")
    builtins = {(p["distribution"], p["version"]) for p in plugins.values() if p["builtin"]}
    assert builtins == {(kernel["name"], kernel["version"])}

    smoke = run([python, str(SMOKE)], cwd=tmp_path)
    assert smoke.returncode == 0, smoke.stderr
    counts = {"rocksdb://": {"hello": 1}, "leveldb://": {"hello": 1}}
    assert json.loads(smoke.stdout) == {"first": [0, counts], "second": [0, counts]}
