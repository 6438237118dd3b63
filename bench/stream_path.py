"""Events per second of the stream path on the embedded ``memory://`` transport.

Measures, in one run on this machine:
  1. a bare ``asyncio.Queue`` consumer loop (the floor any asyncio framework pays),
  2. a stateless agent reading a topic (decode JSON, iterate, acknowledge, commit),
  3. ``group_by`` + agent (re-key, produce to a repartition topic, read it again),
and prints each with its ratio to the bare loop. Records are produced before the clock starts,
so only consumption is timed. Usage::

    uv run python bench/stream_path.py [--events 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import strm
from strm.builtins.memory_transport import drop_broker, get_broker, unique_url
from strm.kernel.spi import ProducerRecord, TopicSpec

VALUE = json.dumps({"word": "x" * 80, "n": 1}).encode()  # ~100-byte values


async def bare_queue(n: int) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for _ in range(n):
        queue.put_nowait(VALUE)
    count = 0
    started = time.perf_counter()
    while count < n:
        value = await queue.get()
        json.loads(value)
        count += 1
    return n / (time.perf_counter() - started)


def preload(url: str, topic: str, n: int, partitions: int) -> None:
    broker = get_broker(url)
    broker.create_topic(TopicSpec(topic, partitions))
    log = broker.topic(topic, lambda: partitions)
    for i in range(n):
        log.append(ProducerRecord(topic, i % partitions, str(i).encode(), VALUE))


async def run_app(n: int, *, group_by: bool) -> float:
    url = unique_url("bench")
    app = strm.App(
        "bench",
        broker=url,
        environ={},
        entry_points=False,
        topic_partitions=4,
        stream_buffer_maxsize=65_536,
        broker_commit_every=100_000,
    )
    preload(url, "input", n, 4)
    topic = app.topic("input")
    done = asyncio.Event()
    count = 0

    @app.agent(topic)
    async def consume(stream: Any) -> None:
        nonlocal count
        source = stream.group_by(lambda v: v["word"], name="word") if group_by else stream
        async for _value in source:
            count += 1
            if count == n:
                done.set()

    started = time.perf_counter()
    async with app.running():
        await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - started
    drop_broker(url)
    return n / elapsed


async def main(n: int) -> None:
    floor = await bare_queue(n)
    stateless = await run_app(n, group_by=False)
    grouped = await run_app(n // 4, group_by=True)
    print(f"events: {n} (group_by: {n // 4}), 100-byte JSON values, memory:// transport")
    print(f"{'bare asyncio.Queue loop':32} {floor:12,.0f} events/s  1.00")
    print(f"{'stateless agent':32} {stateless:12,.0f} events/s  {stateless / floor:.2f}")
    print(f"{'group_by + agent':32} {grouped:12,.0f} events/s  {grouped / floor:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    asyncio.run(main(parser.parse_args().events))
