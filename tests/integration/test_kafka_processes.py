"""``strm worker --processes 2`` on Kafka: two children join one group at the same instant,
share the partitions of a RocksDB word count (with a standby each), count every word exactly
once, and stop with the parent on SIGTERM.

Both children start together, which is what made groups rebalance without end while aiokafka
sent one JoinGroup per assignor (see test_kafka_group_protocol in the plugin's tests): the log
must show a group that settles after a handful of generations."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from itest_helpers import create_topic, unique_name, wait_for, worker_env

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

PARTITIONS = 6
TOTAL = 3_000
WORDS = [f"p{i:02d}" for i in range(40)]

APP = """
import json
import os

import strm

app = strm.App(
    os.environ["PW_APP"],
    broker=os.environ["PW_BROKER"],
    store="rocksdb://",
    table_standby_replicas=1,
    broker_commit_interval=0.2,
    broker_heartbeat_interval=0.5,
)
words = app.topic(os.environ["PW_TOPIC"], key_type=str, value_type=str)
counts = app.Table("counts", default=int, partitions=6)


@app.agent(words)
async def count(stream):
    async for word in stream:
        counts[word] += 1


@app.timer(0.25)
async def report():
    topic = words.get_topic_name()
    state = {
        "assigned": sorted(tp.partition for tp in app.conductor.assignment if tp.topic == topic),
        "counts": counts.as_dict(),
    }
    print(f"STATE {os.environ['STRM_WORKER_INDEX']} " + json.dumps(state), flush=True)
"""


def states(log: Path) -> dict[str, dict[str, Any]]:
    """The last state each child printed, by its ``STRM_WORKER_INDEX``."""
    found: dict[str, dict[str, Any]] = {}
    for line in log.read_text(errors="replace").splitlines():
        match = re.search(r"STATE (\d+) (\{.*\})", line)
        if match:
            found[match.group(1)] = json.loads(match.group(2))
    return found


def settled(log: Path) -> bool:
    found = states(log)
    parts = [state["assigned"] for state in found.values()]
    flat = sorted(p for ps in parts for p in ps)
    return len(found) == 2 and all(parts) and flat == list(range(PARTITIONS))


async def produce(bootstrap: str, topic: str) -> tuple[Counter[str], dict[str, int]]:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    expected: Counter[str] = Counter()
    partition_of: dict[str, int] = {}
    try:
        sends = []
        for i in range(TOTAL):
            word = WORDS[(i * 11) % len(WORDS)]
            expected[word] += 1
            sends.append((word, await producer.send(topic, key=word.encode(), value=word.encode())))
        await producer.flush()
        for word, sent in sends:
            partition_of[word] = (await sent).partition
    finally:
        await producer.stop()
    return expected, partition_of


def owned_counts(log: Path, partition_of: dict[str, int]) -> dict[str, int]:
    union: dict[str, int] = {}
    for state in states(log).values():
        owned = set(state["assigned"])
        for word, n in state["counts"].items():
            if partition_of.get(word) in owned:
                union[word] = n
    return union


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static-membership"])
def test_two_processes_share_a_group_and_count_exactly(
    kafka_bootstrap: str, tmp_path: Path, static: bool
) -> None:
    """With ``consumer_group_instance_id`` set (``static``), each child must join with an id of
    its own: with the same one, each join fenced the other child and both failed."""
    topic = unique_name("proc-words")
    asyncio.run(create_topic(kafka_bootstrap, topic, PARTITIONS))
    (tmp_path / "procapp.py").write_text(APP)
    app_id = unique_name("procs")
    log = tmp_path / "worker.log"
    datadir = tmp_path / "data"
    extra = {"PW_BROKER": f"kafka://{kafka_bootstrap}", "PW_TOPIC": topic, "PW_APP": app_id}
    if static:
        extra["CONSUMER_GROUP_INSTANCE_ID"] = "host-a"
    env = worker_env(extra, tmp_path)
    command = [sys.executable, "-m", "strm", "-A", "procapp", "-l", "info"]
    command += ["--datadir", str(datadir), "worker", "--processes", "2", "--without-web"]
    parent = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb")
    )
    try:
        wait_for(lambda: settled(log), 60, "the two children to share the six partitions")
        expected, partition_of = asyncio.run(produce(kafka_bootstrap, topic))
        wait_for(
            lambda: sum(owned_counts(log, partition_of).values()) >= TOTAL,
            60,
            "the children to count every word",
        )
        time.sleep(1.0)  # a double count would show now
        final = owned_counts(log, partition_of)
        assert settled(log), states(log)
    finally:
        if parent.poll() is None:
            parent.send_signal(signal.SIGTERM)
        try:
            code = parent.wait(timeout=60)
        except subprocess.TimeoutExpired:
            parent.kill()
            raise
    assert code == 0, log.read_text(errors="replace")[-3000:]
    assert final == dict(expected)
    # Each child its own datadir (strm-sensor-prometheus, installed in the workspace, keeps
    # the children's shared metrics directory beside them).
    children = sorted(p.name for p in datadir.iterdir() if p.name != "prometheus-multiproc")
    assert children == ["worker-0", "worker-1"]
    text = log.read_text(errors="replace")
    generations = len(re.findall(r"Joined group .* \(generation \d+\)", text))
    # Two first joins and a rebalance or two; a rebalance storm makes dozens.
    assert 2 <= generations <= 8, f"{generations} group joins:\n{text[-3000:]}"
