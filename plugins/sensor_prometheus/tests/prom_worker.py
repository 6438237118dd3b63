"""A ``strm worker`` with the Prometheus sensor in a subprocess, on the real Kafka broker: an app
whose agent reads a topic the test fills, a web server on free ports of 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

APP = """\
import os

import strm

app = strm.App(
    os.environ["PW_APP"],
    broker=os.environ["PW_BROKER"],
    broker_commit_interval=0.2,
    broker_heartbeat_interval=0.5,
)
orders = app.topic(os.environ["PW_TOPIC"], key_type=str, value_type=int)


@app.agent(orders)
async def tally(stream):
    async for _ in stream:
        pass
"""


def unique_name(prefix: str) -> str:
    """Topics and groups live as long as the broker: every test gets its own."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def free_ports(count: int) -> int:
    """A port p with p + 1 ... p + count - 1 free too (bounded tries)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port + count > 65535:
            continue
        try:
            for offset in range(1, count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        return port
    raise AssertionError(f"no {count} consecutive free ports found in 50 tries")


async def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, num_partitions=partitions, replication_factor=1)]
        )
    finally:
        await admin.close()


async def send_events(bootstrap: str, topic: str, count: int, partitions: int) -> None:
    """``count`` records, spread evenly over the partitions, acknowledged by the broker."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(count):
            key = json.dumps(f"k{i}").encode()
            await producer.send(topic, value=b"1", key=key, partition=i % partitions)
        await producer.flush()
    finally:
        await producer.stop()


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


class PromWorker:
    """``python -m strm -A promworker ... worker ARGS`` in ``directory``."""

    def __init__(self, directory: Path, bootstrap: str, topic: str, *args: str) -> None:
        (directory / "promworker.py").write_text(APP)
        self.datadir = directory / "data"
        self.log = directory / "worker.txt"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("STRM_", "PROMETHEUS_"))},
            "PYTHONPATH": str(directory),
            "PYTHONUTF8": "1",
            "PW_APP": unique_name("prom"),
            "PW_BROKER": f"kafka://{bootstrap}",
            "PW_TOPIC": topic,
        }
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable, "-m", "strm", "-A", "promworker", "-l", "info",
                    "--datadir", str(self.datadir), "worker", *args,
                ],
                cwd=directory, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    @property
    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, count: int = 1, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while self.output.count(text) < count:
            if self.proc.poll() is not None:
                raise AssertionError(f"the worker exited ({self.proc.returncode}):\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} within {timeout:g} s:\n{self.output}")
            time.sleep(0.1)

    def stop(self, timeout: float = 120.0) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
            raise


def run(coro: Any) -> Any:
    return asyncio.run(coro)
