"""Peak RSS of table recovery on a real Kafka broker.

A changelog of R records over K keys (each key written R/K times, 8 partitions) with a
checkpoint seal after every ``--seal-every`` records of a partition (0: one seal per partition,
at its end), then a fresh worker with an empty ``memory://`` table recovers it, in a process of
its own; prints the time, the keys recovered (checked) and the peak RSS (``VmHWM``). Usage::

    uv run python bench/memory.py [--records 500000] [--keys 10000] [--seal-every 1250 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import strm
from kafka import create_topics, produce, start_broker, stop_broker
from kafka_child import peak_rss_kib
from strm.runtime.seals import SEAL_KEY, encode_seal

PARTITIONS = 8


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
    return out + [(p, SEAL_KEY, encode_seal({})) for p in range(PARTITIONS)]


async def recover(bootstrap: str, app_id: str, keys: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as datadir:
        app = strm.App(
            app_id,
            broker=f"kafka://{bootstrap}",
            environ={},
            topic_partitions=PARTITIONS,
            store="memory://",
            datadir=datadir,
            web_enabled=False,
        )
        table = app.Table("counts", default=int)
        app.conductor.needs_leader = True  # a worker with a table and no agent
        started = time.perf_counter()
        async with asyncio.timeout(600), app.running():
            seconds = time.perf_counter() - started
            recovered = sum(1 for _ in table)
    assert recovered == keys, f"recovered {recovered} keys of {keys}"
    return {"seconds": seconds, "keys": recovered, "peak_rss_mib": peak_rss_kib() / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--seal-every", type=int, nargs="+", default=[1_250, 0])
    parser.add_argument("--bootstrap")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="strm-bench-memory-") as workdir:
        bootstrap = args.bootstrap or start_broker(str(Path(workdir) / "broker"))["bootstrap"]
        try:
            for seal_every in args.seal_every:
                app_id = f"bench-memory-{seal_every}-{uuid.uuid4().hex[:8]}"
                name = f"{app_id}-counts-changelog"
                asyncio.run(create_topics(bootstrap, [name], PARTITIONS))
                asyncio.run(
                    produce(bootstrap, name, changelog(args.records, args.keys, seal_every))
                )
                out = subprocess.run(
                    [sys.executable, __file__, "--child", bootstrap, app_id, str(args.keys)],
                    capture_output=True,
                    text=True,
                    timeout=900,
                    check=True,
                )
                figures = json.loads(out.stdout.splitlines()[-1])
                print(
                    f"{args.records:,} records, {args.keys:,} keys, seal every "
                    f"{seal_every or 'end'}: {figures}",
                    flush=True,
                )
        finally:
            if args.bootstrap is None:
                stop_broker(str(Path(workdir) / "broker"))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        bootstrap, app_id, keys = sys.argv[2:5]
        print(json.dumps(asyncio.run(recover(bootstrap, app_id, int(keys)))))
    else:
        main()
