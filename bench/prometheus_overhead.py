"""What the Monitor and the Prometheus sensor cost together on the stream path (issue 14's
budget: at most 5 % against both off).

The stateless agent of ``stream_path.py`` on ``memory://``, run in ``--rounds`` interleaved
pairs: once with the Monitor (the default) and strm-sensor-prometheus attached, once with
``Monitor=strm.NoMonitor`` and no sensor plugin; the order within a pair alternates, and the
figure reported is the median of the pairs' ratios, so a machine slowed by other work slows
both runs of a pair alike. A scrape of ``/metrics`` is not part of the path and not timed.
Usage::

    uv run python bench/prometheus_overhead.py [--events 200000] [--rounds 9]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import strm
from stream_path import preload
from strm.transports.memory import drop_broker, unique_url
from strm_sensor_prometheus import PrometheusSensor


async def run_app(n: int, *, observed: bool) -> float:
    url = unique_url("bench")
    app = strm.App(
        "bench",
        broker=url,
        environ={},
        entry_points=False,
        plugins=["strm_sensor_prometheus"] if observed else [],
        web_enabled=False,
        topic_partitions=4,
        stream_buffer_maxsize=65_536,
        broker_commit_every=100_000,
        **({} if observed else {"Monitor": strm.NoMonitor}),
    )
    preload(url, "input", n, 4)
    topic = app.topic("input")
    done = asyncio.Event()
    count = 0

    @app.agent(topic)
    async def consume(stream: Any) -> None:
        nonlocal count
        async for _value in stream:
            count += 1
            if count == n:
                done.set()

    started = time.perf_counter()
    async with app.running():
        await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - started
    sensors = [s for s in app.sensors.sensors if isinstance(s, PrometheusSensor)]
    assert len(sensors) == (1 if observed else 0), app.sensors.sensors
    drop_broker(url)
    return n / elapsed


async def main(n: int, rounds: int) -> None:
    on, off, ratios = [], [], []
    for i in range(rounds):
        if i % 2:
            b = await run_app(n, observed=False)
            a = await run_app(n, observed=True)
        else:
            a = await run_app(n, observed=True)
            b = await run_app(n, observed=False)
        on.append(a)
        off.append(b)
        ratios.append(a / b)
    print(f"events: {n}, 100-byte JSON values, memory:// transport, {rounds} interleaved pairs")
    print(f"{'Monitor + Prometheus sensor on':34} {statistics.median(on):12,.0f} events/s (median)")
    print(f"{'both off':34} {statistics.median(off):12,.0f} events/s (median)")
    print(f"on/off, median of the pairs' ratios: {statistics.median(ratios):.3f}")
    print("pairs: " + ", ".join(f"{r:.3f}" for r in ratios))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.rounds))
