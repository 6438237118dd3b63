"""What ``strm worker`` tells the person who started it: the banner with the plugins in use, the
ready line, and table recovery progress, on a terminal (a pty) and off one."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

TIMEOUT = 30.0

#: An app whose table must be recovered when its worker starts: at import, a first run of the
#: same app (memory store) fills the changelog on the in-process memory broker; the worker's app
#: then starts on an empty store that is slow to write once, so recovery lasts over a second.
RECOVERING_APP = """\
import asyncio
import time

import strm
from strm.kernel import records
from strm.builtins.memory_store import MemoryStore
from strm.testing import eventually

RECORDS = 5_000


class SlowStore(MemoryStore):
    slept = False

    def write_batch(self, puts, applied=None):
        if not SlowStore.slept:
            SlowStore.slept = True
            time.sleep(1.5)
        super().write_batch(puts, applied)


@strm.hookimpl
def strm_stores():
    return [records.store("slow", SlowStore)]


def make_app(store):
    app = strm.App("rapp", entry_points=False, plugins=[__name__], topic_partitions=2, store=store)
    words = app.topic("words", key_type=str, value_type=str)
    counts = app.Table("counts", default=int)

    @app.agent(words)
    async def count(stream):
        async for word in stream:
            counts[word] += 1

    return app, words, counts


async def first_run():
    first, words, counts = make_app("memory://")
    async with first.running():
        for i in range(RECORDS):
            await words.send(key=f"w{i}", value=f"w{i}")
        await eventually(lambda: len(counts) == RECORDS, timeout=20)


asyncio.run(first_run())
app, _, _ = make_app("slow://")
"""


@dataclass
class Run:
    code: int
    stderr: str


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "strm", *args]


def environment() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "PYTHONUTF8": "1"}


def run_until_ready(directory: Path, *args: str, watch: str = "stderr.txt") -> Run:
    """``strm ARGS worker`` with stderr in a file; stopped with SIGINT once it is ready (its
    console line or its INFO record in ``watch``: stderr, or the log file)."""
    stderr = directory / "stderr.txt"
    watched = directory / watch
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            command(*args, "worker", "--without-web"),
            cwd=directory,
            env=environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if watched.exists() and re.search(r"ready in|is ready", watched.read_text()):
                proc.send_signal(signal.SIGINT)
                break
            time.sleep(0.05)
        code = proc.wait(TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
    return Run(code, stderr.read_text())


def run_on_a_terminal(directory: Path, *args: str) -> Run:
    """``strm ARGS worker`` with a pty as stderr; stopped with SIGINT once it is ready."""
    main, child = pty.openpty()
    proc = subprocess.Popen(
        command(*args, "worker", "--without-web"),
        cwd=directory,
        env=environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=child,
    )
    os.close(child)
    output = b""
    try:
        deadline = time.monotonic() + TIMEOUT
        signalled = False
        while time.monotonic() < deadline:
            readable, _, _ = select.select([main], [], [], 0.1)
            if readable:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # EIO: the worker exited and closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            if not signalled and (b"ready in" in output or b"is ready" in output):
                proc.send_signal(signal.SIGINT)
                signalled = True
        code = proc.wait(TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
        os.close(main)
    return Run(code, output.decode())


@pytest.fixture
def recovering_app(tmp_path: Path) -> Path:
    (tmp_path / "rapp.py").write_text(RECOVERING_APP)
    return tmp_path


# -- the ready line --------------------------------------------------------------------------

WORDS_APP = """\
import strm

app = strm.App("wapp", entry_points=False, topic_partitions=3)
words = app.topic("words", key_type=str, value_type=str)
counts = app.Table("counts", default=int)


@app.agent(words)
async def count(stream):
    async for word in stream:
        counts[word] += 1
"""

READY = re.compile(
    r"strm worker: app 'wapp' ready in \d+\.\d\d s: 3 partitions of 1 topic assigned, "
    r"1 table up to date \(0 changelog records replayed\)"
)


def test_the_ready_line_at_the_default_level(tmp_path: Path) -> None:
    (tmp_path / "wapp.py").write_text(WORDS_APP)
    run = run_until_ready(tmp_path, "-A", "wapp")
    assert run.code == 0, run.stderr
    assert len(READY.findall(run.stderr)) == 1, run.stderr
    assert "[INFO]" not in run.stderr


def test_at_info_level_the_log_says_it_instead(tmp_path: Path) -> None:
    (tmp_path / "wapp.py").write_text(WORDS_APP)
    run = run_until_ready(tmp_path, "-A", "wapp", "-l", "info")
    assert run.code == 0, run.stderr
    assert not READY.search(run.stderr)
    assert re.search(
        r"\[INFO\] strm.worker: worker of app 'wapp' is ready in \d+\.\d\d s: "
        r"3 partitions of 1 topic assigned, 1 table up to date",
        run.stderr,
    ), run.stderr


def test_with_a_logfile_the_ready_line_stays_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "wapp.py").write_text(WORDS_APP)
    run = run_until_ready(tmp_path, "-A", "wapp", "-l", "info", "-f", "worker.log")
    assert run.code == 0, run.stderr
    assert len(READY.findall(run.stderr)) == 1, run.stderr
    assert "worker of app 'wapp' is ready" in (tmp_path / "worker.log").read_text()


def test_with_json_logs_stderr_carries_no_console_line(tmp_path: Path) -> None:
    (tmp_path / "wapp.py").write_text(WORDS_APP)
    args = ("-A", "wapp", "--log-format", "json", "-l", "info", "-f", "worker.log")
    run = run_until_ready(tmp_path, *args, watch="worker.log")
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    records = [json.loads(line) for line in (tmp_path / "worker.log").read_text().splitlines()]
    assert any(record["message"].startswith("worker of app 'wapp' is ready") for record in records)


def test_an_app_without_topics(tmp_path: Path) -> None:
    (tmp_path / "idle.py").write_text("import strm\napp = strm.App('idle', entry_points=False)\n")
    run = run_until_ready(tmp_path, "-A", "idle")
    assert run.code == 0, run.stderr
    assert re.search(
        r"strm worker: app 'idle' ready in \d+\.\d\d s: no topics to read\n", run.stderr
    )


# -- table recovery --------------------------------------------------------------------------

RECOVERED = re.compile(
    r"\r\x1b\[Kstrm worker: recovered 1 table \(2 partitions\): ([\d,]+) records in "
    r"(\d+\.\d\d) s \([\d,]+ records/s\)\r\n"
)


def test_recovery_progress_on_a_terminal(recovering_app: Path) -> None:
    run = run_on_a_terminal(recovering_app, "-A", "rapp")
    assert run.code == 0, run.stderr
    updates = re.findall(
        r"\r\x1b\[Kstrm worker: recovering tables: ([\d,]+)/([\d,]+) records \(\d+%\), "
        r"[\d,]+ records/s, ETA [^:]+: counts 2 partitions [\d,]+/[\d,]+(?=\r)",
        run.stderr,
    )
    assert updates, run.stderr
    recovered = RECOVERED.search(run.stderr)
    assert recovered, run.stderr
    records, seconds = int(recovered[1].replace(",", "")), float(recovered[2])
    assert records > 5_000  # the keys, and the checkpoint's seals
    assert all(int(total.replace(",", "")) == records for _, total in updates)
    assert len(updates) <= seconds + 1, "progress is shown at most once a second"
    ready = re.search(r"strm worker: app 'rapp' ready in .*\r\n", run.stderr)
    assert ready, run.stderr
    assert ready[0].endswith(f"1 table up to date ({records:,} changelog records replayed)\r\n")
    assert "[INFO]" not in run.stderr


def test_no_progress_display_when_the_log_shows_recovery_on_the_terminal(
    recovering_app: Path,
) -> None:
    run = run_on_a_terminal(recovering_app, "-A", "rapp", "-l", "info")
    assert run.code == 0, run.stderr
    assert "\x1b[K" not in run.stderr
    assert "[INFO] strm.tables: recovered 1 table (2 partitions)" in run.stderr


def test_recovery_off_a_terminal_is_in_the_log_at_info(recovering_app: Path) -> None:
    quiet = run_until_ready(recovering_app, "-A", "rapp")
    assert quiet.code == 0, quiet.stderr
    assert "recover" not in quiet.stderr.replace("changelog records replayed", "")
    assert "\x1b" not in quiet.stderr
    assert re.search(
        r"ready in .*1 table up to date \([\d,]+ changelog records replayed\)", quiet.stderr
    )

    logged = run_until_ready(recovering_app, "-A", "rapp", "-l", "info")
    assert logged.code == 0, logged.stderr
    assert re.search(
        r"\[INFO\] strm.tables: recovering tables: [\d,]+/[\d,]+ records \(\d+%\), "
        r"[\d,]+ records/s, ETA [^:]+: counts 2 partitions",
        logged.stderr,
    ), logged.stderr
    assert "[INFO] strm.tables: recovered 1 table (2 partitions): " in logged.stderr


# -- the banner ------------------------------------------------------------------------------

#: A plugin of the test's own: a store scheme the app selects, so that it is in use.
LOCAL_STORE = """\
import strm
from strm.kernel import records
from strm.builtins.memory_store import MemoryStore


@strm.hookimpl
def strm_stores():
    return [records.store("local", MemoryStore)]
"""


def banner(stderr: str) -> dict[str, str]:
    """The banner's ``  name  value`` lines, by name."""
    rows = (line.split(None, 1) for line in stderr.splitlines() if line.startswith("  "))
    return {name: value for name, value in rows}


def test_the_banner_lists_the_plugins_in_use(tmp_path: Path) -> None:
    (tmp_path / "localstore.py").write_text(LOCAL_STORE)
    (tmp_path / "wapp.py").write_text(
        textwrap.dedent(
            """\
            import strm

            app = strm.App(
                "wapp", entry_points=False, store="local://", value_serializer="json|binary"
            )
            """
        )
    )
    run = run_until_ready(tmp_path, "-A", "wapp", "--plugin", "localstore")
    assert run.code == 0, run.stderr
    lines = banner(run.stderr)
    assert lines["plugins"] == (
        "memory_transport: transport memory; localstore (module localstore): store local; "
        "memory_cache: cache memory; codecs: codec raw, codec json, codec binary"
    )
    assert "loaded" not in lines


def test_at_info_level_the_banner_lists_every_loaded_plugin(tmp_path: Path) -> None:
    (tmp_path / "localstore.py").write_text(LOCAL_STORE)
    (tmp_path / "wapp.py").write_text("import strm\napp = strm.App('wapp', entry_points=False)\n")
    run = run_until_ready(tmp_path, "-A", "wapp", "--plugin", "localstore", "-l", "info")
    assert run.code == 0, run.stderr
    lines = banner(run.stderr)
    assert lines["plugins"] == (
        "memory_transport: transport memory; memory_store: store memory; "
        "memory_cache: cache memory; codecs: codec raw, codec json"
    )
    loaded = lines["loaded"].split(", ")
    assert loaded[-1] == "localstore (module localstore)"
    assert {"default_classes", "codecs", "memory_store", "memory_transport", "supervisors"} <= set(
        loaded
    )
