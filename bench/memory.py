"""Memory of a strm worker on a real Kafka broker: table recovery, per key, per in-flight event,
and a slow agent's buffers.

Cases (each in a process of its own; peak RSS is ``VmHWM``):
  recovery    a fresh worker recovers a changelog of R records over K keys (each key written
              R/K times) into an empty ``memory://`` table; seals as a word count writes them
              (``--seal-every`` records of a partition per checkpoint), or one seal per partition
              at the very end (``--seal-every 0``: every record waits for it). Prints the peak
              RSS and, with ``--tracemalloc``, the peak of Python's allocations and where the
              largest of them were made.
  per-key     the Python memory a ``memory://`` table holds per key (int counts, 10-byte keys).
  in-flight   the Python memory a stream holds per event waiting in its buffer (~100-byte JSON
              values).
  slow-agent  an agent that handles one event per millisecond while its topic holds 1,000,000
              events: RSS sampled every second stays flat (the buffers are bounded).
Usage::

    uv run python bench/memory.py recovery [--records 500000 --keys 10000] [--bootstrap HOST:PORT]
    uv run python bench/memory.py per-key in-flight slow-agent
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import tracemalloc
import uuid
from typing import Any

import strm
from kafka import create_topics, produce
from kafka_child import peak_rss_kib
from strm.tables.seals import SEAL_KEY, encode_seal

PARTITIONS = 8
RUN = uuid.uuid4().hex[:8]
MIB = 1024 * 1024


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(row.split()[1]) for row in status if row.startswith("VmRSS:"))


def make_app(app_id: str, bootstrap: str, datadir: str, **options: Any) -> strm.App:
    return strm.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        environ={},
        topic_partitions=PARTITIONS,
        store="memory://",
        datadir=datadir,
        web_enabled=False,
        **options,
    )


# -- recovery -------------------------------------------------------------------------------------


def changelog(records: int, keys: int, seal_every: int) -> list[tuple[int, bytes, bytes]]:
    out: list[tuple[int, bytes, bytes]] = []
    written = [0] * PARTITIONS
    for i in range(records):
        key = i % keys
        partition = key % PARTITIONS
        out.append((partition, json.dumps(f"key{key:06d}").encode(), str(i).encode()))
        written[partition] += 1
        if seal_every and written[partition] % seal_every == 0:
            out.append((partition, SEAL_KEY, encode_seal({})))
    out += [(p, SEAL_KEY, encode_seal({})) for p in range(PARTITIONS)]
    return out


async def recover(bootstrap: str, app_id: str, keys: int, trace: bool) -> dict[str, Any]:
    if trace:
        tracemalloc.start(12)
    with tempfile.TemporaryDirectory() as datadir:
        app = make_app(app_id, bootstrap, datadir)
        table = app.Table("counts", default=int)
        app.conductor.needs_leader = True  # a worker with a table and no agent
        started = time.perf_counter()
        async with asyncio.timeout(600):
            async with app.running():
                elapsed = time.perf_counter() - started
                recovered = sum(1 for _ in table)
    assert recovered == keys, f"recovered {recovered} keys of {keys}"
    figures: dict[str, Any] = {"seconds": elapsed, "peak_rss_mib": peak_rss_kib() / 1024}
    if trace:
        snapshot = tracemalloc.take_snapshot()
        figures["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / MIB
        figures["note"] = "traced after the run; the peak's sites are the largest survivors"
        del snapshot
    return figures


# -- per key and per in-flight event ------------------------------------------------------------------


async def per_key(bootstrap: str, keys: int) -> dict[str, Any]:
    """Python memory of a ``memory://`` table per key: int values under 10-byte str keys, in
    the shard's store (encoded bytes) and its decoded cache, as a word count holds them."""
    topic_name = f"bench-memory-words-{RUN}"
    await create_topics(bootstrap, [topic_name], PARTITIONS)
    await produce(
        bootstrap,
        topic_name,
        [
            (i % PARTITIONS, f"w{i:08d}".encode(), json.dumps(f"w{i:08d}").encode())
            for i in range(keys)
        ],
    )
    with tempfile.TemporaryDirectory() as datadir:
        app = make_app(f"bench-memory-per-key-{RUN}", bootstrap, datadir)
        counts = app.Table("counts", default=int)
        topic = app.topic(topic_name, key_type=str, value_type=str)
        seen = 0
        done = asyncio.Event()

        @app.agent(topic)
        async def count(stream: Any) -> None:
            nonlocal seen
            async for word in stream:
                counts[word] += 1
                seen += 1
                if seen == keys:
                    done.set()

        async with app.running():
            await asyncio.wait_for(done.wait(), 600)
            await app.conductor.checkpoint()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            # What the table holds, measured by building its twin from nothing: the store's
            # bytes and the cache's decoded keys and values.
            twin = {f"w{i:08d}": 1 for i in range(keys)}
            twin_bytes = {json.dumps(k).encode(): b"1" for k in twin}
            after = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            del twin, twin_bytes
    return {"bytes_per_key": (after - before) / keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "cases", nargs="+", choices=["recovery", "per-key", "in-flight", "slow-agent"]
    )
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--seal-every", type=int, nargs="+", default=[0, 1_250])
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--bootstrap")
    args = parser.parse_args()
    print("TODO", args)


if __name__ == "__main__":
    main()
