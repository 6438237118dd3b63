"""A ``strm worker`` in a subprocess with events flowing, for the dashboard's tests: an agent
keeping a table, a timer sending to it all the time, and one bad record that makes an agent
raise once (so the page has an error to show). On ``memory://`` unless ``DW_BROKER`` names
another broker (``DW_APP`` and ``DW_TOPIC`` then keep runs on one broker apart)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

APP = """\
import os

import strm

app = strm.App(
    os.environ.get("DW_APP", "dashdemo"),
    broker=os.environ.get("DW_BROKER", "memory://"),
    broker_commit_interval=0.5,
)
orders = app.topic(os.environ.get("DW_TOPIC", "orders"), partitions=2, key_type=str, value_type=int)
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

    def __init__(self, directory: Path, env: dict[str, str] | None = None) -> None:
        (directory / "dashdemo.py").write_text(APP)
        env = env or {}
        self.app_id = env.get("DW_APP", "dashdemo")
        self.topic = env.get("DW_TOPIC", "orders")
        self.broker = "kafka" if "DW_BROKER" in env else "memory"
        self.port = free_port()
        self.log = directory / "worker.txt"
        environ = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(directory),
            "PYTHONUTF8": "1",
            **env,
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


async def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    """The topic, before the worker's timer sends to it (Kafka would make it with one)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, num_partitions=partitions, replication_factor=1)]
        )
    finally:
        await admin.close()
