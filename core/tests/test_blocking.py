"""The blocking detector: in this process, and turned on in a worker by setting or option."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from strm.runtime.blocking import BlockingDetector


def blocking_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "strm.blocking"]


def block_the_loop_for_a_while(seconds: float) -> None:
    time.sleep(seconds)


async def test_a_blocked_loop_is_reported_with_its_stack(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="strm.blocking")
    async with BlockingDetector(0.2):
        await asyncio.sleep(0.05)
        block_the_loop_for_a_while(0.5)
        await asyncio.sleep(0)
    records = blocking_records(caplog)
    assert len(records) == 1, "one blocking episode is reported once"
    assert records[0].levelno == logging.WARNING
    message = records[0].getMessage()
    assert "The event loop has been blocked for" in message
    assert "blocking_timeout=0.20 s" in message
    assert "in block_the_loop_for_a_while" in message
    assert "time.sleep(seconds)" in message


async def test_a_loop_that_keeps_turning_is_not_reported(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="strm.blocking")
    async with BlockingDetector(0.3):
        for _ in range(5):
            block_the_loop_for_a_while(0.03)
            await asyncio.sleep(0.03)
    assert blocking_records(caplog) == []


async def test_two_blocks_are_two_reports(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="strm.blocking")
    async with BlockingDetector(0.1):
        block_the_loop_for_a_while(0.3)
        await asyncio.sleep(0.1)
        block_the_loop_for_a_while(0.3)
        await asyncio.sleep(0)
    assert len(blocking_records(caplog)) == 2


async def test_the_detector_stops_with_its_context(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="strm.blocking")
    before = set(threading.enumerate())
    async with BlockingDetector(0.1):
        watchers = [t for t in threading.enumerate() if t.name == "strm-blocking-watch"]
        assert len(watchers) == 1
    watchers[0].join(1)
    assert not watchers[0].is_alive()
    assert set(threading.enumerate()) <= before
    block_the_loop_for_a_while(0.3)
    assert blocking_records(caplog) == []


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_the_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        BlockingDetector(timeout)


# -- in a worker -------------------------------------------------------------------------------

BLOCKING_APP = """
import contextlib
import time

import strm

app = strm.App("wapp", entry_points=False, **SETTINGS)


@contextlib.asynccontextmanager
async def slow_start(app):
    time.sleep(0.5)
    yield


app.add_service(slow_start)
"""


def run_worker(directory: Path, source: str, *args: str) -> tuple[int, str]:
    """Run a worker on ``source`` until it is ready, stop it with SIGINT; exit code, stderr."""
    (directory / "wapp.py").write_text(textwrap.dedent(source))
    stderr = directory / "stderr.txt"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONUTF8": "1"}
    command = [
        sys.executable,
        "-m",
        "strm",
        "-A",
        "wapp",
        "-l",
        "info",
        *args,
        "worker",
        "--without-web",
    ]
    with stderr.open("w") as err:
        proc = subprocess.Popen(command, cwd=directory, env=env, stderr=err)
    try:
        deadline = time.monotonic() + 10
        for _ in range(1000):
            if "is ready" in stderr.read_text() or proc.poll() is not None:
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    return code, stderr.read_text()


@pytest.mark.parametrize(
    ("settings", "args"),
    [("{'blocking_timeout': 0.1}", ()), ("{}", ("--blocking-timeout", "0.1"))],
    ids=["setting", "option"],
)
def test_a_worker_reports_a_blocking_service(
    tmp_path: Path, settings: str, args: tuple[str, ...]
) -> None:
    code, stderr = run_worker(tmp_path, BLOCKING_APP.replace("SETTINGS", settings), *args)
    assert code == 0, stderr
    assert "[WARNING] strm.blocking: The event loop has been blocked for" in stderr
    assert "blocking_timeout=0.10 s" in stderr
    assert "in slow_start" in stderr
    assert "time.sleep(0.5)" in stderr
    assert "is ready" in stderr


def test_the_detector_is_off_by_default(tmp_path: Path) -> None:
    code, stderr = run_worker(tmp_path, BLOCKING_APP.replace("SETTINGS", "{}"))
    assert code == 0, stderr
    assert "is ready" in stderr
    assert "blocked" not in stderr
