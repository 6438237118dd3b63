"""One measurement of ``bench/kafka.py`` in a process of its own: the raw aiokafka loop or a strm
app, so that its peak RSS and its spawn-to-first-event are its own and nothing else's.

Run by ``bench/kafka.py`` as ``python bench/kafka_child.py KIND JSON-ARGS``; prints one JSON
object: ``started`` (``time.perf_counter()`` just before the client or app starts, after the
imports), ``first`` (the first event, or null), ``ended``, ``n``, ``rss_kib`` (the peak RSS,
``VmHWM``) and ``cpu`` (the CPU seconds this process had used at its first event, or at the
end when there is none: ``time.process_time()``, imports included, which the machine's load
changes far less than the clock). ``perf_counter`` is ``CLOCK_MONOTONIC`` on Linux, so the
parent compares it with the time it spawned this process.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from typing import Any

import strm
from aiokafka import AIOKafkaConsumer, TopicPartition

WAIT = 600.0  # the longest any single step may take, in seconds
Result = dict[str, Any]


def peak_rss_kib() -> int:
    """``VmHWM``: the peak RSS of this process's memory since its ``exec``. (``ru_maxrss``
    would not do: Linux carries it over ``fork`` and ``exec``, so a child reports its parent's
    peak when that is higher.)"""
    with open("/proc/self/status") as status:
        for row in status:
            if row.startswith("VmHWM:"):
                return int(row.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def result(n: int, started: float, first: float | None, ended: float, cpu: float) -> Result:
    return {
        "n": n,
        "started": started,
        "first": first,
        "ended": ended,
        "rss_kib": peak_rss_kib(),
        "cpu": cpu,
    }


async def raw_aiokafka(bootstrap: str, topic: str, n: int, partitions: int) -> Result:
    """The client's own speed: no group, the partitions assigned, ``json.loads`` per value."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    started = time.perf_counter()
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        await consumer.seek_to_beginning()
        count = 0
        first = None
        cpu = 0.0
        deadline = time.monotonic() + WAIT
        while count < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"raw aiokafka read {count} of {n}")
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    json.loads(record.value)
                count += len(records)
                if first is None:
                    first, cpu = time.perf_counter(), time.process_time()
        return result(n, started, first, time.perf_counter(), cpu)
    finally:
        await consumer.stop()


def make_app(app_id: str, bootstrap: str, partitions: int, **options: Any) -> strm.App:
    return strm.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        environ={},
        topic_partitions=partitions,
        stream_buffer_maxsize=65_536,
        web_enabled=False,  # the stream path alone, as the others' sides
        **options,
    )


async def strm_stateless(
    bootstrap: str, topic_name: str, n: int, partitions: int, app_id: str
) -> Result:
    app = make_app(app_id, bootstrap, partitions, broker_commit_every=100_000)
    topic = app.topic(topic_name)
    done = asyncio.Event()
    count = 0
    first: list[float] = []

    @app.agent(topic)
    async def consume(stream: Any) -> None:
        nonlocal count
        async for _value in stream:
            count += 1
            if count == 1:
                first.extend((time.perf_counter(), time.process_time()))
            if count == n:
                done.set()

    started = time.perf_counter()
    async with app.running():
        await asyncio.wait_for(done.wait(), WAIT)
        ended = time.perf_counter()
    return result(n, started, first[0], ended, first[1])


async def strm_word_count(
    bootstrap: str,
    topic_name: str,
    n: int,
    partitions: int,
    words: int,
    store: str,
    guarantee: str,
    app_id: str,
    commit_interval: float | None = None,
) -> Result:
    """With ``commit_interval``, checkpoints run on that timer alone (Quix Streams' policy:
    ``commit_interval=5.0``, no commit by count), not also every ``broker_commit_every``
    (10,000) events: a checkpoint writes each key changed since the last one, so fewer
    checkpoints write fewer changelog records."""
    policy: dict[str, Any] = {}
    if commit_interval is not None:
        policy = {"broker_commit_interval": commit_interval, "broker_commit_every": 2**62}
    with tempfile.TemporaryDirectory() as datadir:
        app = make_app(
            app_id,
            bootstrap,
            partitions,
            store=store,
            datadir=datadir,
            processing_guarantee=guarantee,
            **policy,
        )
        counts = app.Table("counts", default=int)
        topic = app.topic(topic_name, key_type=str, value_type=str)
        done = asyncio.Event()
        seen = 0
        first: list[float] = []

        @app.agent(topic)
        async def count(stream: Any) -> None:
            nonlocal seen
            async for word in stream:
                counts[word] += 1
                seen += 1
                if seen == 1:
                    first.extend((time.perf_counter(), time.process_time()))
                if seen == n:
                    done.set()

        started = time.perf_counter()
        async with app.running():
            await asyncio.wait_for(done.wait(), WAIT)
            await asyncio.wait_for(app.conductor.checkpoint(), WAIT)
            ended = time.perf_counter()
            total, distinct = sum(counts.values()), len(list(counts.keys()))
        assert (total, distinct) == (n, words), f"counted {total} of {n}, {distinct} words"
    return result(n, started, first[0], ended, first[1])


async def strm_recovery(bootstrap: str, app_id: str, m: int, partitions: int, store: str) -> Result:
    with tempfile.TemporaryDirectory() as datadir:
        app = make_app(app_id, bootstrap, partitions, store=store, datadir=datadir)
        table = app.Table("counts", default=int)
        app.conductor.needs_leader = True  # a worker with a table and no agent
        started = time.perf_counter()
        async with asyncio.timeout(WAIT):
            async with app.running():
                ended = time.perf_counter()
                keys = sum(1 for _ in table)
    assert keys == m, f"recovered {keys} keys of {m}"
    return result(m, started, None, ended, time.process_time())


KINDS = {
    "raw": raw_aiokafka,
    "stateless": strm_stateless,
    "word-count": strm_word_count,
    "recovery": strm_recovery,
}

if __name__ == "__main__":
    kind, arguments = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(asyncio.run(KINDS[kind](**arguments))), flush=True)
