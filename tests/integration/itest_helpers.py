"""Helpers of the integration tests on a real Kafka broker (imported by the test modules;
the fixtures are in conftest.py)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any


def unique_name(prefix: str) -> str:
    """A name no other test uses: topics and groups live as long as the broker."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


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


async def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 20.0) -> list[Any]:
    """The first ``count`` records of ``topic`` (all partitions, from the start), read with a
    plain aiokafka consumer; fewer if they do not arrive within ``timeout``."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=500,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(records) < count and loop.time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


# ---------------------------------------------------------------------------------------------
# subprocess workers
# ---------------------------------------------------------------------------------------------


def worker_env(extra: dict[str, str], pythonpath: Path) -> dict[str, str]:
    """The test's environment without strm/app settings, plus ``extra``."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STRM_", "APP_"))},
        "PYTHONPATH": str(pythonpath),
        **extra,
    }


def start_worker(module: str, cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "strm", "-A", module, "-l", "info", "worker", "--without-web"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


def stop_worker(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def latest_json(log: Path, marker: str) -> Any:
    """The JSON after the last ``marker`` in ``log`` (None if there is none yet)."""
    try:
        text = log.read_text(errors="replace")
    except FileNotFoundError:
        return None
    lines = [line for line in text.splitlines() if marker in line]
    if not lines:
        return None
    return json.loads(lines[-1].split(marker, 1)[1])


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.1)
