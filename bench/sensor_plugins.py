"""What the sensor plugins cost the stateless agent on ``memory://``, in one run on this machine.

Each variant runs the stateless agent of ``stream_path.py`` (records produced before the clock
starts) next to the baseline (the Monitor on, no plugin sensor), in interleaved pairs, and
prints the median ratio variant/baseline:

- ``statsd``: strm-sensor-statsd on, sending to a UDP socket of this process on 127.0.0.1;
- ``otel metrics``: strm-sensor-otel on, into the SDK's ``MeterProvider`` with an in-memory
  reader;
- ``otel spans``: the same with ``otel_event_spans`` on: a span per event, the SDK's
  ``TracerProvider`` without an exporter (the span's cost, not an exporter's).

Usage::

    uv run python bench/sensor_plugins.py [--events 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import strm
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from stream_path import preload
from strm.builtins.memory_transport import drop_broker, unique_url
from strm_sensor_statsd.testing import UdpListener


async def run(n: int, plugins: list[str], settings: dict[str, Any]) -> float:
    url = unique_url("bench")
    app = strm.App(
        "bench",
        broker=url,
        environ={},
        entry_points=False,
        plugins=plugins,
        topic_partitions=4,
        stream_buffer_maxsize=65_536,
        broker_commit_every=100_000,
        web_enabled=False,
        **settings,
    )
    preload(url, "input", n, 4)
    done = asyncio.Event()
    count = 0

    @app.agent(app.topic("input"))
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
    drop_broker(url)
    return n / elapsed


async def main(n: int, rounds: int) -> None:
    async with UdpListener.bound() as listener:
        variants: dict[str, Callable[[], tuple[list[str], dict[str, Any]]]] = {
            "statsd": lambda: (
                ["strm_sensor_statsd"],
                {"statsd_enabled": True, "statsd_host": "127.0.0.1", "statsd_port": listener.port},
            ),
            "otel metrics": lambda: (
                ["strm_sensor_otel"],
                {
                    "otel_enabled": True,
                    "otel_meter_provider": MeterProvider(metric_readers=[InMemoryMetricReader()]),
                },
            ),
            "otel spans": lambda: (
                ["strm_sensor_otel"],
                {
                    "otel_enabled": True,
                    "otel_meter_provider": MeterProvider(metric_readers=[InMemoryMetricReader()]),
                    "otel_event_spans": True,
                    "otel_tracer_provider": TracerProvider(),
                },
            ),
        }
        print(f"events: {n}, 100-byte JSON values, memory:// transport, {rounds} pairs each")
        for name, make in variants.items():
            ratios, speeds, bases = [], [], []
            for i in range(rounds):
                plugins, settings = make()
                if i % 2:
                    with_it = await run(n, plugins, settings)
                    base = await run(n, [], {})
                else:
                    base = await run(n, [], {})
                    with_it = await run(n, plugins, settings)
                ratios.append(with_it / base)
                speeds.append(with_it)
                bases.append(base)
            print(
                f"{name:14} {statistics.median(speeds):10,.0f} events/s against "
                f"{statistics.median(bases):10,.0f}: median ratio {statistics.median(ratios):.3f}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.rounds))
