"""What the Monitor and the Prometheus sensor cost together on the stream path (issue 14's
budget: at most 5 % against both off).

The stateless agent of ``stream_path.py`` on ``memory://``, run in ``--rounds`` interleaved
pairs: once with the Monitor (the default) and strm-sensor-prometheus attached, once with
``Monitor=strm.NoMonitor`` and no sensor plugin; the order within a pair alternates, and the
figure reported is the median of the pairs' ratios, so a machine slowed by other work slows
both runs of a pair alike. Each run is timed twice: wall-clock, and this process's CPU time
(``time.process_time``), which a machine busy with other processes disturbs far less. A scrape
of ``/metrics`` is not part of the path and not timed.
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
from strm.builtins.memory_transport import drop_broker, unique_url
from strm_sensor_prometheus import PrometheusSensor


async def run_app(n: int, *, observed: bool) -> tuple[float, float]:
    """Events per second of wall-clock time and per second of this process's CPU time."""
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

    started, cpu = time.perf_counter(), time.process_time()
    async with app.running():
        await asyncio.wait_for(done.wait(), 600)
        elapsed, cpu_elapsed = time.perf_counter() - started, time.process_time() - cpu
    sensors = [s for s in app.sensors.sensors if isinstance(s, PrometheusSensor)]
    assert len(sensors) == (1 if observed else 0), app.sensors.sensors
    drop_broker(url)
    return n / elapsed, n / cpu_elapsed


async def main(n: int, rounds: int) -> None:
    runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    wall, cpu = [], []
    for i in range(rounds):
        order = (False, True) if i % 2 else (True, False)
        pair = {observed: await run_app(n, observed=observed) for observed in order}
        for observed, figures in pair.items():
            runs[observed].append(figures)
        wall.append(pair[True][0] / pair[False][0])
        cpu.append(pair[True][1] / pair[False][1])
    print(f"events: {n}, 100-byte JSON values, memory:// transport, {rounds} interleaved pairs")
    for observed, label in ((True, "Monitor + Prometheus sensor on"), (False, "both off")):
        w = statistics.median(f[0] for f in runs[observed])
        c = statistics.median(f[1] for f in runs[observed])
        print(f"{label:32} {w:10,.0f} events/s wall  {c:10,.0f} events/CPU-s  (medians)")
    print(
        f"on/off, median of the pairs' ratios: wall {statistics.median(wall):.3f}, "
        f"CPU {statistics.median(cpu):.3f}"
    )
    print("pairs (CPU): " + ", ".join(f"{r:.3f}" for r in cpu))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.rounds))
