"""``strm worker --processes N``: the command line of each child, and its refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from strm.cli.processes import child_argv


def test_children_run_the_same_command_without_processes_with_their_own_datadir() -> None:
    argv = ["-A", "proj.app", "-l", "info", "worker", "--processes", "3"]
    assert child_argv(argv, 0, "/data") == [
        "-A",
        "proj.app",
        "-l",
        "info",
        "--datadir",
        "/data/worker-0",
        "worker",
    ]
    assert child_argv(["-A", "p", "worker", "--processes=2"], 1, "d") == [
        "-A",
        "p",
        "--datadir",
        "d/worker-1",
        "worker",
    ]
    assert child_argv(["-A", "p", "worker", "-n", "2"], 1, "d")[-1] == "worker"


def test_processes_on_the_memory_transport_is_refused(tmp_path: Path) -> None:
    (tmp_path / "procapp.py").write_text("import strm\napp = strm.App('procapp')\n")
    result = subprocess.run(
        [sys.executable, "-m", "strm", "-A", "procapp", "worker", "--processes", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "--processes needs a broker the processes share" in result.stderr


def test_the_short_option_glued_to_its_value_is_removed_too() -> None:
    assert child_argv(["-A", "p", "worker", "-n2"], 0, "d") == [
        "-A",
        "p",
        "--datadir",
        "d/worker-0",
        "worker",
    ]
