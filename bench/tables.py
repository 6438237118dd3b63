"""Stateful word count and table recovery, per table store, on the ``memory://`` transport.

Figures printed, for each store (memory, rocksdb, leveldb):
  * word count: events/s of an agent doing ``counts[word] += 1`` (1,000 distinct words),
    checkpoints included;
  * recovery: changelog records/s replayed into an empty store when a worker starts.
Records are produced before the clock starts. Usage::

    uv run python bench/tables.py [--events 200000] [--changelog 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from typing import Any

import strm
from strm.builtins.memory_transport import drop_broker, get_broker, unique_url
from strm.kernel.spi import ProducerRecord, TopicSpec

STORES = ("memory://", "rocksdb://", "leveldb://")
PARTITIONS = 4


def preload(url: str, topic: str, records: list[tuple[int, bytes, bytes]]) -> None:
    broker = get_broker(url)
    broker.create_topic(TopicSpec(topic, PARTITIONS))
    log = broker.topic(topic, lambda: PARTITIONS)
    for partition, key, value in records:
        log.append(ProducerRecord(topic, partition, key, value))


def make_app(url: str, store: str, datadir: str) -> tuple[strm.App, Any]:
    app = strm.App(
        "bench",
        broker=url,
        store=store,
        datadir=datadir,
        environ={},
        topic_partitions=PARTITIONS,
        stream_buffer_maxsize=65_536,
        web_enabled=False,  # the table path alone
    )
    return app, app.Table("counts", default=int)


async def word_count(store: str, n: int) -> float:
    url = unique_url("bench-wc")
    words = [f"word{i}" for i in range(1000)]
    records = []
    for i in range(n):
        word = words[i % len(words)]
        records.append((hash(word) % PARTITIONS, word.encode(), json.dumps(word).encode()))
    preload(url, "words", records)
    with tempfile.TemporaryDirectory() as datadir:
        app, counts = make_app(url, store, datadir)
        topic = app.topic("words", key_type=str, value_type=str)
        done = asyncio.Event()
        seen = 0

        @app.agent(topic)
        async def count(stream: Any) -> None:
            nonlocal seen
            async for word in stream:
                counts[word] += 1
                seen += 1
                if seen == n:
                    done.set()

        started = time.perf_counter()
        async with app.running():
            await asyncio.wait_for(done.wait(), 600)
            await app.conductor.checkpoint()
            elapsed = time.perf_counter() - started
    drop_broker(url)
    return n / elapsed


async def recovery(store: str, n: int) -> float:
    url = unique_url("bench-recovery")
    records = [(i % PARTITIONS, json.dumps(f"key{i}").encode(), str(i).encode()) for i in range(n)]
    preload(url, "bench-counts-changelog", records)
    with tempfile.TemporaryDirectory() as datadir:
        app, _ = make_app(url, store, datadir)
        app.conductor.needs_leader = True
        started = time.perf_counter()
        async with app.running():
            elapsed = time.perf_counter() - started
            replayed = app.tables.recovered_records
    drop_broker(url)
    assert replayed == n, f"replayed {replayed} of {n}"
    return n / elapsed


async def main(events: int, changelog: int) -> None:
    print(f"word count: {events} events, 1000 words; recovery: {changelog} changelog records")
    print(f"{'store':14} {'word count events/s':>22} {'recovery records/s':>20}")
    for store in STORES:
        rate = await word_count(store, events)
        replay = await recovery(store, changelog)
        print(f"{store:14} {rate:22,.0f} {replay:20,.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--changelog", type=int, default=200_000)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.changelog))
