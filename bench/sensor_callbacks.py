"""Microseconds the statsd and otel sensors spend per batch: ``on_batch_in`` and
``on_agent_batch`` for one batch, averaged over 20,000 calls (the statsd lines go to a UDP
socket of this process on 127.0.0.1; the otel figures into the SDK with an in-memory reader).

Usage::

    uv run python bench/sensor_callbacks.py
"""

import asyncio
import time

import strm
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from strm.kernel.spi import TP
from strm_sensor_otel.sensor import OtelSensor
from strm_sensor_statsd.sensor import StatsdSensor
from strm_sensor_statsd.testing import UdpListener


async def main() -> None:
    async with UdpListener.bound() as listener:
        app = strm.App(
            "b",
            environ={},
            entry_points=False,
            plugins=["strm_sensor_statsd", "strm_sensor_otel"],
            statsd_port=listener.port,
            statsd_host="127.0.0.1",
            otel_meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()]),
        ).configure()
        s = StatsdSensor(app)
        o = OtelSensor(app)
        await s.start()
        tp = TP("input", 1)
        n = 20000
        for name, sensor in (("statsd", s), ("otel", o)):
            t = time.perf_counter()
            for _ in range(n):
                sensor.on_batch_in(tp, 500)
                sensor.on_agent_batch("consume", tp, 500, 0.01)
            print(
                name,
                "on_batch_in + on_agent_batch, us per batch:",
                round((time.perf_counter() - t) / n * 1e6, 2),
            )
        await s.stop()


asyncio.run(main())
