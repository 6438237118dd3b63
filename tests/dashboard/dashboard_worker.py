"""A ``strm worker`` in a subprocess with events flowing, for the dashboard's tests: an agent
keeping a table, a timer sending to it all the time, and one bad record that makes an agent
raise once (so the page has an error to show)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

APP = """\
import strm

app = strm.App("dashdemo", broker="memory://")
orders = app.topic("orders", partitions=2, key_type=str, value_type=int)
counts = app.Table("counts", default=int, partitions=2)
sent = {"n": 0}


@app.agent(orders)
async def tally(stream):
    async for key, value in stream.items():
        counts[key] += value


@app.agent(orders)
async def audit(stream):
    async for value in stream:
        if value < 0:
            raise ValueError(f"negative amount {value}")


@app.timer(0.05)
async def produce():
    for i in range(20):
        await orders.send(key=f"k{i % 7}", value=1)
    sent["n"] += 1
    if sent["n"] == 10:
        await orders.send(key="bad", value=-1)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class DashboardWorker:
    """``python -m strm -A dashdemo worker`` on a free port of 127.0.0.1."""

    def __init__(self, directory: Path) -> None:
        (directory / "dashdemo.py").write_text(APP)
        self.port = free_port()
        self.log = directory / "worker.txt"
        environ = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(directory),
            "PYTHONUTF8": "1",
        }
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable, "-m", "strm", "-A", "dashdemo", "-l", "info",
                    "--datadir", str(directory / "data"), "worker",
                    "--web-port", str(self.port), "--web-bind", "127.0.0.1",
                ],
                cwd=directory, env=environ, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        return self.log.read_text()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while "ready in" not in self.output:
            if self.proc.poll() is not None:
                raise AssertionError(f"the worker exited ({self.proc.returncode}):\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker was not ready in {timeout:g} s:\n{self.output}")
            time.sleep(0.05)

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
            raise
