"""The agent of ``bench/latency.py``, in a process of its own: ``latency_agent.py BOOTSTRAP TOPIC
CASE APP_ID WARM_UP [BACKLOG]``. Prints ``ready`` once the app runs; then records, per event,
``time.time()`` minus the produce time carried in the value, until no event came for 3 s, and
prints the percentiles of the events produced after ``WARM_UP`` seconds. With ``BACKLOG``: reads
that many events already in the topic and prints the rate after the first one."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from typing import Any

import strm

IDLE = 3.0  # seconds without events that end a run


async def main(
    bootstrap: str, topic_name: str, case: str, app_id: str, warm_up: float, backlog: int | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as datadir:
        app = strm.App(
            app_id,
            broker=f"kafka://{bootstrap}",
            environ={},
            topic_partitions=8,
            store="rocksdb://",
            datadir=datadir,
            web_enabled=False,
            consumer_auto_offset_reset="earliest",
        )
        counts = app.Table("counts", default=int) if case == "word-count" else None
        topic = app.topic(topic_name, key_type=str, value_type=None)
        latencies: list[float] = []
        produced: list[float] = []
        seen_before = 0
        quiet_since = time.monotonic()
        first: list[float] = []
        now = time.time

        @app.agent(topic)
        async def consume(stream: Any) -> None:
            async for value in stream:
                if counts is not None:
                    counts[value["w"]] += 1
                t = value["t"]
                latencies.append(now() - t)
                produced.append(t)
                if not first:
                    first.append(time.perf_counter())
                if backlog is not None and len(latencies) == backlog:
                    first.append(time.perf_counter())

        async with app.running():
            print("ready", flush=True)
            while True:
                await asyncio.sleep(0.5)
                if backlog is not None:
                    if len(first) == 2:
                        return {"rate": (backlog - 1) / (first[1] - first[0])}
                    continue
                if len(latencies) != seen_before:
                    seen_before = len(latencies)
                    quiet_since = time.monotonic()
                elif latencies and time.monotonic() - quiet_since > IDLE:
                    break
    start = produced[0] + warm_up
    kept = sorted(lat for lat, t in zip(latencies, produced, strict=True) if t >= start)
    if not kept:
        raise SystemExit("no event after the warm-up")
    return {
        "p50": kept[len(kept) // 2],
        "p99": kept[min(len(kept) - 1, int(len(kept) * 0.99))],
        "max": kept[-1],
        "events": len(kept),
    }


if __name__ == "__main__":
    bootstrap, topic, case, app_id, warm_up = sys.argv[1:6]
    backlog = int(sys.argv[6]) if len(sys.argv) > 6 else None
    print(json.dumps(asyncio.run(main(bootstrap, topic, case, app_id, float(warm_up), backlog))))
