"""``strm worker --processes N``: the command line of each child, and its refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import strm
from strm.cli.processes import child_argv, child_environ

#: A transport standing in for a broker the processes share: each child has a memory broker of
#: its own, which is enough to start, run and stop several workers.
EACH_ALONE = """\
import strm
from strm.kernel import records
from strm.builtins.memory_transport import MemoryTransport


def each_alone(*, context, urls):
    return MemoryTransport(context=context, urls=["memory://"])


@strm.hookimpl
def strm_transports():
    return [records.transport("alone", each_alone)]
"""


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
        [
            sys.executable,
            "-m",
            "strm",
            "-A",
            "procapp",
            "worker",
            "--processes",
            "2",
            "--without-web",
        ],
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


def test_processes_of_an_app_file_stop_cleanly_on_one_ctrl_c(tmp_path: Path) -> None:
    """The children run the same ``-A proj/app.py``; a Ctrl-C reaches the whole foreground
    process group, and each child must take it once (forwarded by the parent), or it would
    take the second delivery as a request to exit without a clean stop."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "app.py").write_text(
        "import strm\napp = strm.App('papp', entry_points=False, broker='alone://')\n"
    )
    (tmp_path / "eachalone.py").write_text(EACH_ALONE)
    stderr = tmp_path / "stderr.txt"
    argv = ["-A", "proj/app.py", "--plugin", "eachalone", "worker", "--processes", "2"]
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "strm", *argv],
            cwd=tmp_path,
            env={"PATH": os.environ.get("PATH", ""), "PYTHONUTF8": "1"},
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # a group of its own, as a shell gives a foreground job
        )
    try:
        deadline = time.monotonic() + 60
        while stderr.read_text().count("ready in") < 2:
            assert proc.poll() is None and time.monotonic() < deadline, stderr.read_text()
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(60) == 0, stderr.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(60)
    text = stderr.read_text()
    assert text.count("strm worker: app 'papp' ready in") == 2
    assert text.count("SIGINT received: stopping") == 2
    assert "second SIGINT" not in text


def test_each_child_gets_its_number_and_no_instance_id_without_static_membership() -> None:
    app = strm.App("papp", entry_points=False, environ={})
    assert child_environ(app, {"PATH": "/bin"}, 1) == {"PATH": "/bin", "STRM_WORKER_INDEX": "1"}


def test_under_static_membership_each_child_joins_with_an_instance_id_of_its_own() -> None:
    """One id for all would let each child's join fence the one before (the broker keeps one
    member per instance id), and none would keep its partitions."""
    app = strm.App("papp", entry_points=False, environ={}, consumer_group_instance_id="host-a")
    ids = []
    for index in (0, 1):
        environ = child_environ(app, {}, index)
        # what the child resolves: its environment wins over the App(...) argument
        child = strm.App(
            "papp", entry_points=False, environ=environ, consumer_group_instance_id="host-a"
        )
        ids.append(child.conf.consumer_group_instance_id)
    assert ids == ["host-a-0", "host-a-1"]


def test_the_instance_id_follows_the_env_prefix() -> None:
    app = strm.App(
        "papp",
        entry_points=False,
        environ={"APP_ENV_PREFIX": "MYAPP_", "MYAPP_CONSUMER_GROUP_INSTANCE_ID": "host-b"},
    )
    environ = child_environ(app, {"APP_ENV_PREFIX": "MYAPP_"}, 1)
    assert environ["MYAPP_CONSUMER_GROUP_INSTANCE_ID"] == "host-b-1"
    child = strm.App("papp", entry_points=False, environ=environ)
    assert child.conf.consumer_group_instance_id == "host-b-1"
