"""Three worker processes of one group on a 6-partition topic, a stateful word count with the
RocksDB store. The partitions are spread over the three; one is killed with SIGKILL mid-run;
the two survivors take over its partitions and its part of the table (from the changelog), and
once all input is consumed the survivors' counts — each word read from the worker that owns its
partition — cover every word with exactly its input count (the victim's counts live on
through the changelog: the survivors' standby copies or a replay), with either guarantee."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from itest_helpers import (
    create_topic,
    latest_json,
    start_worker,
    stop_worker,
    unique_name,
    wait_for,
    worker_env,
)

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

PARTITIONS = 6
WORDS = [f"w{i:02d}" for i in range(60)]
TOTAL = 9_000

APP = """
import asyncio
import json
import os

import strm

app = strm.App(
    os.environ["TW_APP"],
    broker=os.environ["TW_BROKER"],
    store="rocksdb://",
    topic_partitions=6,
    broker_commit_interval=0.2,
    processing_guarantee=os.environ["TW_GUARANTEE"],
    # a killed member leaves the group when its session times out: keep that short
    broker_session_timeout=6.0,
    broker_heartbeat_interval=0.5,
    broker_rebalance_timeout=10.0,
)
TOPIC = os.environ["TW_TOPIC"]
words = app.topic(TOPIC, key_type=str, value_type=str)
counts = app.Table("counts", default=int)
seen = 0


@app.agent(words)
async def count(stream):
    global seen
    async for word in stream:
        seen += 1
        if seen % 10 == 0:
            await asyncio.sleep(0.02)  # slow enough to be killed mid-run
        counts[word] += 1


@app.timer(0.25)
async def report():
    assigned = sorted(tp.partition for tp in app.conductor.assignment if tp.topic == TOPIC)
    state = {"assigned": assigned, "counts": counts.as_dict()}
    print("STATE " + json.dumps(state, sort_keys=True), flush=True)
"""


async def produce(bootstrap: str, topic: str) -> tuple[Counter[str], dict[str, int]]:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    expected: Counter[str] = Counter()
    partition_of: dict[str, int] = {}
    try:
        futures = []
        for i in range(TOTAL):
            word = WORDS[(i * 7) % len(WORDS)]
            expected[word] += 1
            sent = await producer.send(topic, key=word.encode(), value=word.encode())
            futures.append((word, sent))
        await producer.flush()
        for word, future in futures:
            partition_of[word] = (await future).partition
    finally:
        await producer.stop()
    return expected, partition_of


def state(log: Path) -> dict[str, Any]:
    return latest_json(log, "STATE ") or {"assigned": [], "counts": {}}


def owned_counts(logs: list[Path], partition_of: dict[str, int]) -> dict[str, int]:
    """Each word's count as the worker owning its partition reports it (stale keys of
    partitions a worker no longer owns are left out)."""
    union: dict[str, int] = {}
    for log in logs:
        st = state(log)
        owned = set(st["assigned"])
        for word, n in st["counts"].items():
            if partition_of.get(word) in owned:
                union[word] = n
    return union


def all_assigned_once(logs: list[Path]) -> bool:
    parts = [state(log)["assigned"] for log in logs]
    flat = [p for ps in parts for p in ps]
    return sorted(flat) == list(range(PARTITIONS)) and all(parts)


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_three_workers_one_killed_survivors_take_over_and_count_exactly(
    kafka_bootstrap: str, tmp_path: Path, guarantee: str
) -> None:
    t0 = time.monotonic()
    topic = unique_name("three-words")
    asyncio.run(create_topic(kafka_bootstrap, topic, PARTITIONS))
    (tmp_path / "threeapp.py").write_text(APP)
    app_id = unique_name("three")
    logs = [tmp_path / f"worker-{i}.log" for i in range(3)]
    procs = []
    try:
        for i in range(3):
            env = worker_env(
                {
                    "TW_BROKER": f"kafka://{kafka_bootstrap}",
                    "TW_TOPIC": topic,
                    "TW_APP": app_id,
                    "TW_GUARANTEE": guarantee,
                    "APP_DATADIR": str(tmp_path / f"data-{i}"),
                },
                tmp_path,
            )
            procs.append(start_worker("threeapp", tmp_path, env, logs[i]))
        # all three join at once; the group settles: every worker owns some partitions, each
        # partition one owner
        wait_for(lambda: all_assigned_once(logs), 45, "the three workers to share the topic")
        spread = [state(log)["assigned"] for log in logs]
        assert all(1 <= len(p) <= 4 for p in spread), spread

        expected, partition_of = asyncio.run(produce(kafka_bootstrap, topic))
        victim = procs[1]
        victim_log, survivor_logs = logs[1], [logs[0], logs[2]]
        victim_partitions = set(state(victim_log)["assigned"])

        def victim_midway() -> bool:
            done = sum(state(victim_log)["counts"].values())
            return done >= 300

        wait_for(victim_midway, 30, "the victim to count some words")
        victim.send_signal(signal.SIGKILL)  # at once: mid-run
        victim.wait(timeout=30)
        at_kill = sum(state(victim_log)["counts"].values())
        victim_total = sum(n for w, n in expected.items() if partition_of[w] in victim_partitions)
        assert at_kill < victim_total, "killed too late: the victim had finished its share"

        # the survivors take over the victim's partitions ...
        wait_for(
            lambda: (
                sorted(p for log in survivor_logs for p in state(log)["assigned"])
                == list(range(PARTITIONS))
            ),
            40,
            "the survivors to own all six partitions",
        )
        taken = [set(state(log)["assigned"]) & victim_partitions for log in survivor_logs]
        assert set().union(*taken) == victim_partitions
        # ... and count everything
        wait_for(
            lambda: sum(owned_counts(survivor_logs, partition_of).values()) >= TOTAL,
            60,
            "the survivors to count every word",
        )
        time.sleep(1.0)  # any double counting would show up now
        final = owned_counts(survivor_logs, partition_of)
    finally:
        for proc in procs:
            stop_worker(proc)
    assert set(final) == set(expected)
    assert all(final[w] >= expected[w] for w in expected), "lost counts"
    assert final == dict(expected), {
        w: (final[w], expected[w]) for w in expected if final[w] != expected[w]
    }
    assert time.monotonic() - t0 < 60
