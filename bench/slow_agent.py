"""Bounded buffers: a slow agent over a topic that holds 1,000,000 events keeps its memory flat.

A consumer that fetched whatever the broker has would hold the whole backlog in memory while a
slow agent works through it. strm fetches only as much as the stream buffers have room for
(``stream_buffer_maxsize`` per stream), so what a worker holds is bounded by its settings, not
by the backlog. This runs, on the embedded ``memory://`` transport:

  1. ``--events`` records appended to a 4-partition topic before the app starts (the broker's
     log lives in this process: its memory is in the baseline, taken after the app started);
  2. an agent that sleeps 10 ms every 100 events (about 10,000 events/s at most), for
     ``--seconds`` seconds;
  3. every 0.25 s: the process's resident memory (``/proc/self/status``), the records fetched
     (the Monitor's ``messages_received_total``) and the records the agent finished.

It prints the resident memory over the run (baseline, median, peak, last, and the slope of a
least-squares line over the second half) and the most records ever fetched but not finished,
against the bound the settings give
(a fetch asks for at most the room left in the buffers). Usage::

    uv run python bench/slow_agent.py [--events 1000000] [--seconds 20] [--buffer 4096]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import strm
from stream_path import preload
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


async def main(events: int, seconds: float, buffer: int) -> None:
    url = unique_url("slow")
    preload(url, "backlog", events, PARTITIONS)
    app = strm.App(
        "slow",
        broker=url,
        environ={},
        entry_points=False,
        web_enabled=False,
        topic_partitions=PARTITIONS,
        stream_buffer_maxsize=buffer,
    )
    topic = app.topic("backlog")
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
    drop_broker(url)
    second_half = [p for p in samples if p[0] >= seconds / 2]
    values = [mib for _, mib in samples]
    print(f"backlog: {events:,} records on {PARTITIONS} partitions (memory://)")
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
        f"RSS MiB: baseline {baseline:.1f} (app started, backlog loaded), median "
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
    args = parser.parse_args()
    asyncio.run(main(args.events, args.seconds, args.buffer))
