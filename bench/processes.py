"""``strm worker --processes 2`` against one process: a word count on a real Kafka broker.

N words (``--words`` distinct, RocksDB table, at-least-once) are produced up front to an
8-partition topic; then ``strm -A processes_app worker [--processes 2]`` runs with a fresh group
until the group's committed offsets cover the topic, and is stopped with SIGTERM. The two
configurations alternate, ``--repeat`` times each. Progress is read from the broker every
0.1 s; the rate is taken between 10% and 100% committed, which leaves out the start-up (spawn,
imports, group join, changelog topic creation). Usage::

    uv run python bench/processes.py [--events 1000000] [--repeat 2] [--bootstrap HOST:PORT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from kafka import create_topics, produce, start_broker, stop_broker

HERE = Path(__file__).resolve().parent
PARTITIONS = 8
RUN = uuid.uuid4().hex[:8]
WAIT = 900.0


async def committed(admin: AIOKafkaAdminClient, group: str, topic: str) -> int:
    offsets = await admin.list_consumer_group_offsets(group)
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


async def watch(bootstrap: str, group: str, topic: str, n: int) -> tuple[float, float]:
    """When the group's committed offsets first reach 10% and 100% of the topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    tenth = None
    deadline = time.monotonic() + WAIT
    try:
        while time.monotonic() < deadline:
            done = await committed(admin, group, topic)
            if tenth is None and done >= n // 10:
                tenth = (time.perf_counter(), done)
            if done >= n:
                assert tenth is not None
                return tenth[0], (n - tenth[1]) / (time.perf_counter() - tenth[0])
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
    raise TimeoutError(f"group {group} did not commit {n} records within {WAIT:.0f} s")


def run(bootstrap: str, topic: str, n: int, processes: int, rep: int, workdir: str) -> float:
    app_id = f"bench-processes-{processes}-{rep}-{RUN}"
    env = {
        **os.environ,
        "BENCH_BOOTSTRAP": bootstrap,
        "BENCH_TOPIC": topic,
        "BENCH_APP_ID": app_id,
        "PYTHONPATH": str(HERE),
    }
    argv = [
        sys.executable,
        "-m",
        "strm",
        "-A",
        "processes_app",
        "--datadir",
        str(Path(workdir) / app_id),
        "worker",
        "-l",
        "warning",
    ]
    if processes > 1:
        argv += ["--processes", str(processes)]
    log = open(Path(workdir) / f"{app_id}.log", "w")  # noqa: SIM115 - closed below
    spawned = time.perf_counter()
    worker = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=HERE)
    try:
        tenth, rate = asyncio.run(watch(bootstrap, app_id, topic, n))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(120)
        log.close()
    print(
        f"{processes} process(es), run {rep + 1}: {rate:10,.0f} events/s after 10% "
        f"(10% committed {tenth - spawned:5.1f} s after the spawn); load "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--bootstrap")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="strm-bench-processes-") as workdir:
        bootstrap = args.bootstrap
        if bootstrap is None:
            bootstrap = start_broker(str(Path(workdir) / "broker"))["bootstrap"]
        try:
            topic = f"bench-processes-{RUN}"
            vocabulary = [f"word{i}" for i in range(args.words)]
            records = [
                (hash(w) % PARTITIONS, w.encode(), json.dumps(w).encode())
                for w in (vocabulary[i % args.words] for i in range(args.events))
            ]
            asyncio.run(create_topics(bootstrap, [topic], PARTITIONS))
            asyncio.run(produce(bootstrap, topic, records))
            del records
            rates: dict[int, list[float]] = {1: [], 2: []}
            for rep in range(args.repeat):
                for processes in (1, 2):
                    rates[processes].append(
                        run(bootstrap, topic, args.events, processes, rep, workdir)
                    )
            for rep in range(args.repeat):
                print(
                    f"run {rep + 1}: 2 processes / 1 process = {rates[2][rep] / rates[1][rep]:.2f}"
                )
        finally:
            if args.bootstrap is None:
                stop_broker(str(Path(workdir) / "broker"))


if __name__ == "__main__":
    main()
