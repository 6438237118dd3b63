"""Bounded buffers: a slow agent over a topic that holds 1,000,000 events keeps its memory flat.

A consumer that fetched whatever the broker has would hold the whole backlog in memory while a
slow agent works through it. strm fetches only as much as the stream buffers have room for
(``stream_buffer_maxsize`` per stream), so what a worker holds is bounded by its settings, not
by the backlog. This runs, on the embedded ``memory://`` transport or, with ``--kafka``, on a
Kafka broker (started here with ``scripts/kafka``, or given with ``--bootstrap``):

  1. ``--events`` records (~100-byte values) on a 4-partition topic before the app starts (on
     ``memory://`` the broker's log lives in this process, so its memory is in the baseline; on
     Kafka a separate process produces them, so this one never held them);
  2. an agent that sleeps 10 ms every 100 events (about 10,000 events/s at most), for
     ``--seconds`` seconds;
  3. every 0.25 s: the process's resident memory (``/proc/self/status``), the records fetched
     (the Monitor's ``messages_received_total``) and the records the agent finished.

It prints the resident memory over the run (baseline, median, peak, last, and the slope of a
least-squares line over the second half) and the most records ever fetched but not finished,
against the bound the settings give
(a fetch asks for at most the room left in the buffers). Usage::

    uv run python bench/slow_agent.py [--events 1000000] [--seconds 20] [--buffer 4096]
        [--kafka [--bootstrap HOST:PORT]]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import strm
from kafka import create_topics, produce, start_broker, stop_broker
from stream_path import VALUE, preload
from strm.builtins.memory_transport import drop_broker, unique_url

PARTITIONS = 4
SAMPLE_EVERY = 0.25


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB): how fast memory grows, in MiB/s."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def fill_kafka(bootstrap: str, topic: str, events: int) -> None:
    """Create and fill the Kafka topic (run in a process of its own: the records it builds
    never count in the worker's resident memory)."""
    records = [(i % PARTITIONS, str(i).encode(), VALUE) for i in range(events)]
    asyncio.run(create_topics(bootstrap, [topic], PARTITIONS))
    asyncio.run(produce(bootstrap, topic, records))


@contextmanager
def kafka_backlog(bootstrap: str | None, events: int) -> Iterator[tuple[str, str]]:
    """A broker (``bootstrap``, or one started here for the run) with ``events`` records on a
    new topic: yields the broker URL and the topic's name."""
    topic = f"bench-slow-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="strm-bench-slow-") as workdir:
        rundir = str(Path(workdir) / "broker")
        address = bootstrap or start_broker(rundir)["bootstrap"]
        try:
            filler = multiprocessing.get_context("spawn").Process(
                target=fill_kafka, args=(address, topic, events)
            )
            filler.start()
            filler.join(600)
            if filler.exitcode != 0:
                raise SystemExit(f"filling {topic} failed (exit {filler.exitcode})")
            yield f"kafka://{address}", topic
        finally:
            if bootstrap is None:
                stop_broker(rundir)


async def main(url: str, topic_name: str, events: int, seconds: float, buffer: int) -> None:
    app = strm.App(
        f"slow-{uuid.uuid4().hex[:8]}",
        broker=url,
        environ={},
        entry_points=url.startswith("kafka://"),  # the Kafka transport is a plugin
        web_enabled=False,
        topic_partitions=PARTITIONS,
        stream_buffer_maxsize=buffer,
        consumer_auto_offset_reset="earliest",
    )
    topic = app.topic(topic_name)
    finished = 0

    @app.agent(topic)
    async def slow(stream: Any) -> None:
        nonlocal finished
        async for _value in stream:
            finished += 1
            if finished % 100 == 0:
                await asyncio.sleep(0.01)

    samples: list[tuple[float, float]] = []
    most_in_flight = 0
    async with app.running():
        baseline = rss_mib()
        started = time.monotonic()
        while (now := time.monotonic() - started) < seconds:
            await asyncio.sleep(SAMPLE_EVERY)
            samples.append((now, rss_mib()))
            fetched = app.monitor.messages_received_total
            most_in_flight = max(most_in_flight, fetched - finished)
        fetched = app.monitor.messages_received_total
    second_half = [p for p in samples if p[0] >= seconds / 2]
    values = [mib for _, mib in samples]
    transport = url.partition("://")[0]
    print(f"backlog: {events:,} records on {PARTITIONS} partitions ({transport}://)")
    print(f"agent: ~10,000 events/s at most, for {seconds:.0f} s; stream_buffer_maxsize={buffer}")
    print(
        f"finished {finished:,} records; fetched {fetched:,}; left in the topic "
        f"{events - fetched:,}"
    )
    print(
        f"most records fetched but not finished at a sample: {most_in_flight:,} "
        f"(bound: stream_buffer_maxsize, {buffer:,}: a fetch asks for the room left at most)"
    )
    print(
        f"RSS MiB: baseline {baseline:.1f} (app started; on memory:// the backlog too), median "
        f"{statistics.median(values):.1f}, peak {max(values):.1f}, last {values[-1]:.1f}"
    )
    print(
        f"RSS slope over the second half: {slope(second_half) * 60:+.2f} MiB/min "
        f"({len(second_half)} samples)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--buffer", type=int, default=4096)
    parser.add_argument("--kafka", action="store_true", help="on Kafka, not memory://")
    parser.add_argument("--bootstrap", help="with --kafka: this broker, not one started here")
    args = parser.parse_args()
    if args.kafka:
        with kafka_backlog(args.bootstrap, args.events) as (url, name):
            asyncio.run(main(url, name, args.events, args.seconds, args.buffer))
    else:
        url = unique_url("slow")
        preload(url, "backlog", args.events, PARTITIONS)
        try:
            asyncio.run(main(url, "backlog", args.events, args.seconds, args.buffer))
        finally:
            drop_broker(url)
