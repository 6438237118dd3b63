"""A stateful word count on Kafka with the RocksDB store: the worker is killed with SIGKILL
mid-run and started again on the same data directory. The final counts equal the input
exactly, and the restarted worker replays only the changelog's tail into its store."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

APP = """
import asyncio
import json
import os

import strm

app = strm.App(
    os.environ["WC_APP"],
    broker=os.environ["WC_BROKER"],
    store="rocksdb://",
    topic_partitions=2,
    broker_commit_interval=0.2,
    processing_guarantee=os.environ["WC_GUARANTEE"],
    # The killed worker's membership ends when its session times out: keep that short.
    broker_session_timeout=6.0,
    broker_heartbeat_interval=1.0,
)
words = app.topic(os.environ["WC_TOPIC"], key_type=str, value_type=str)
counts = app.Table("counts", default=int)
seen = 0


@app.agent(words)
async def count(stream):
    global seen
    async for word in stream:
        seen += 1
        if seen % 20 == 0:
            await asyncio.sleep(0.005)  # slow enough to be killed mid-run
        counts[word] += 1  # the last thing the event does: a checkpoint never splits it


@app.timer(0.25)
async def report():
    print("COUNTS " + json.dumps(counts.as_dict(), sort_keys=True), flush=True)
"""

WORDS = [f"w{i:02d}" for i in range(40)]
TOTAL = 12_000


async def produce(bootstrap: str, topic: str) -> Counter[str]:
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    expected: Counter[str] = Counter()
    try:
        for i in range(TOTAL):
            word = WORDS[(i * 7) % len(WORDS)]
            expected[word] += 1
            await producer.send(topic, key=word.encode(), value=word.encode())
        await producer.flush()
    finally:
        await producer.stop()
    return expected


def start_worker(tmp_path: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "strm", "-A", "killapp", "-l", "info", "worker", "--without-web"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


def latest_counts(log: Path) -> dict[str, int]:
    lines = [line for line in log.read_text(errors="replace").splitlines() if "COUNTS " in line]
    if not lines:
        return {}
    counts: dict[str, int] = json.loads(lines[-1].split("COUNTS ", 1)[1])
    return counts


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.1)


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_sigkill_mid_run_then_restart_counts_exactly(
    kafka_bootstrap: str, tmp_path: Path, guarantee: str
) -> None:
    topic = f"kill-words-{uuid.uuid4().hex[:8]}"
    expected = asyncio.run(produce(kafka_bootstrap, topic))
    (tmp_path / "killapp.py").write_text(APP)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STRM_", "APP_"))},
        "WC_BROKER": f"kafka://{kafka_bootstrap}",
        "WC_TOPIC": topic,
        "WC_APP": f"killwc-{uuid.uuid4().hex[:8]}",
        "WC_GUARANTEE": guarantee,
        "APP_DATADIR": str(tmp_path / "data"),
        "PYTHONPATH": str(tmp_path),
    }
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start_worker(tmp_path, env, first_log)
    counted_at_kill = 0
    try:
        deadline = time.monotonic() + 90
        while counted_at_kill < TOTAL // 3:
            assert time.monotonic() < deadline, "the first worker did not count a third"
            time.sleep(0.05)
            counted_at_kill = sum(latest_counts(first_log).values())
    finally:
        first.send_signal(signal.SIGKILL)  # at once: mid-run
        first.wait(timeout=30)
    assert counted_at_kill < TOTAL, "killed too late: it had finished"

    second = start_worker(tmp_path, env, second_log)
    try:
        wait_for(
            lambda: sum(latest_counts(second_log).values()) >= TOTAL,
            120,
            "the restarted worker to count every word",
        )
        time.sleep(1.0)  # any double counting would show up now
        final = latest_counts(second_log)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
    assert final == dict(expected)
    log = second_log.read_text(errors="replace")
    replayed = [int(n) for n in re.findall(r"(\d+) changelog records to replay", log)]
    # The store kept what the first worker checkpointed: at most the records of the checkpoint
    # the kill interrupted (one per dirty key) are replayed, not the whole changelog.
    assert replayed or "nothing to replay" in log, log[-3000:]
    assert sum(replayed) <= len(WORDS), replayed
