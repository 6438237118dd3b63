"""The suite and the scripts stand on the repository's own files.

``repository_guard.py`` fails a test of this process that opens a file outside the repository;
the tests below check that it does, and check the sources of what runs in other processes (the
scripts, CI, benchmarks, subprocess tests) for paths that climb out of the repository.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.repository_guard import REPOSITORY

#: A path outside the repository and outside every place a test may read (it need not exist:
#: the audit sees the attempt). Not beside the checkout: a checkout in the temporary directory
#: has its siblings there, which tests may read; the scan below covers the team folder.
OUTSIDE = Path("/") / "strm-guard-probe" / "shared" / "reference.txt"

SOURCES = ("*.py", "*.sh", "*.toml", "*.md")
SCRIPTS = (".ci/run", "scripts/kafka")
SKIPPED_DIRS = {".venv", ".git", "__pycache__", ".mypy_cache", ".ruff_cache", "node_modules"}
PARENTS = re.compile(r"Path\(__file__\)(?:\.resolve\(\))?\.parents\[(\d+)\]")


def _run_pytest(tmp_path: Path, test_source: str) -> subprocess.CompletedProcess[str]:
    """Run pytest with only the guard on one test module written to ``tmp_path``."""
    module = tmp_path / "test_reads_outside.py"
    module.write_text(textwrap.dedent(test_source))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    guard_only = ["-p", "tests.repository_guard", "-p", "no:cacheprovider"]
    own_config = ["-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path)]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *guard_only, *own_config, str(module)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_test_that_opens_a_file_outside_the_repository_fails(tmp_path: Path) -> None:
    result = _run_pytest(
        tmp_path,
        f"""
        import contextlib

        def test_reads_a_sibling_of_the_checkout():
            with contextlib.suppress(OSError):
                open({str(OUTSIDE)!r})

        def test_reads_its_own_temporary_files(tmp_path):
            (tmp_path / "data.txt").write_text("ok")
            assert (tmp_path / "data.txt").read_text() == "ok"
        """,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "2 passed, 1 error" in output  # the error: the guard's, at the first test's teardown
    assert "test_reads_a_sibling_of_the_checkout opened files outside the repository" in output
    assert str(OUTSIDE) in output


def test_a_test_that_binds_a_socket_outside_loopback_fails(tmp_path: Path) -> None:
    result = _run_pytest(
        tmp_path,
        """
        import socket

        def test_binds_every_interface():
            with socket.socket() as sock:
                sock.bind(("0.0.0.0", 0))

        def test_binds_loopback():
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
        """,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "2 passed, 1 error" in output
    assert "test_binds_every_interface opened" in output and "bind to 0.0.0.0" in output


def test_a_module_that_opens_a_file_outside_the_repository_at_import_fails_the_session(
    tmp_path: Path,
) -> None:
    result = _run_pytest(
        tmp_path,
        f"""
        import contextlib

        with contextlib.suppress(OSError):
            open({str(OUTSIDE)!r})

        def test_nothing_wrong_here():
            pass
        """,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 passed" in output
    assert "collection opened files outside the repository" in output


def _sources() -> list[Path]:
    found: list[Path] = [REPOSITORY / script for script in SCRIPTS]
    for pattern in SOURCES:
        for path in REPOSITORY.rglob(pattern):
            if not SKIPPED_DIRS.intersection(path.relative_to(REPOSITORY).parts):
                found.append(path)
    return found


#: The folder this team's machines lay beside the checkout, which a user's clone lacks.
TEAM_FOLDER = "shared"


@pytest.mark.parametrize("pattern", [f"../{TEAM_FOLDER}", f"{TEAM_FOLDER}/reference"])
def test_no_source_names_the_team_folder_beside_the_checkout(pattern: str) -> None:
    offenders = [
        str(path.relative_to(REPOSITORY))
        for path in _sources()
        if path != Path(__file__) and pattern in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_no_source_climbs_above_the_repository_from_its_own_location() -> None:
    """``Path(__file__).parents[k]`` must stay inside the repository."""
    offenders = []
    for path in _sources():
        for match in PARENTS.finditer(path.read_text(encoding="utf-8")):
            depth = int(match.group(1))
            parents = path.parents
            if depth >= len(parents) or not parents[depth].is_relative_to(REPOSITORY):
                offenders.append(f"{path.relative_to(REPOSITORY)}: {match.group(0)}")
    assert offenders == []
    assert _sources(), "no source found to check"
