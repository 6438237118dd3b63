"""Events per second on a real Kafka broker: aiokafka alone, strm, and faust-streaming.

Measures, in one run against one broker (started here with ``scripts/kafka`` in a temporary
directory, or given with ``--bootstrap``), on topics of 4 partitions filled before any clock
starts:
  1. a raw aiokafka ``getmany`` loop reading the N records (``json.loads`` per value): the
     client's own speed, the reference of every ratio;
  2. a strm stateless agent on ``kafka://`` counting the N records (clock: from the app's start,
     group join included, until the agent has seen N);
  3. a strm word count (``counts[word] += 1``, 1,000 distinct words) with the ``memory://`` and
     ``rocksdb://`` stores (clock: app start until N seen, plus a final checkpoint);
  4. table recovery: a fresh worker with an empty store replaying a changelog of M records
     (clock: app start, which returns once the tables are recovered);
  5. when ``uv`` can install faust-streaming into a throwaway virtual environment: a faust
     agent counting the N records, in a subprocess (clock: from the worker's start);
  6. the stateless agent with the Monitor on and off (``Monitor=strm.NoMonitor``) in
     ``--monitor-rounds`` interleaved pairs, each run a group of its own: the median ratio of
     the pairs' steady rates (after the first event) is the Monitor's overhead.
Usage::

    uv run python bench/kafka.py [--events 200000] [--changelog 200000] [--bootstrap HOST:PORT]
                                 [--monitor-rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import strm
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = 4
VALUE = json.dumps({"word": "x" * 80, "n": 1}).encode()  # ~100-byte values
WAIT = 600.0  # the longest any single step may take, in seconds
RUN = uuid.uuid4().hex[:8]  # topics and groups of this run never meet an earlier run's


class Rate(NamedTuple):
    """N items between ``started`` and ``ended``; ``first``: when the first one was seen."""

    n: int
    started: float
    first: float | None
    ended: float

    @property
    def rate(self) -> float:
        return self.n / (self.ended - self.started)

    @property
    def startup(self) -> float:
        return (self.first or self.ended) - self.started

    @property
    def steady(self) -> float:
        return (self.n - 1) / (self.ended - (self.first or self.started))


# -- the broker -----------------------------------------------------------------------------------


def start_broker(rundir: str) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "kafka"),
            "start",
            "--dir",
            rundir,
            "--json",
            "--timeout",
            "120",
            "--owner-pid",
            str(os.getpid()),
        ],
        capture_output=True,
        text=True,
        timeout=900,  # a first fetch of the jars runs Maven
    )
    if out.returncode != 0:
        raise SystemExit(f"scripts/kafka start failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout)


def stop_broker(rundir: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "kafka"), "stop", "--dir", rundir],
        capture_output=True,
        timeout=60,
    )


async def create_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names])
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, records: list[tuple[int, bytes, bytes]]) -> float:
    """Send ``(partition, key, value)`` records in large batches; return records/s."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        linger_ms=20,
        max_batch_size=1_048_576,
        acks=1,
    )
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for partition, key, value in records:
            pending.append(await producer.send(topic, value, key=key, partition=partition))
            if len(pending) >= 50_000:
                await asyncio.wait_for(asyncio.gather(*pending), WAIT)
                pending.clear()
        await asyncio.wait_for(asyncio.gather(*pending), WAIT)
    finally:
        await producer.stop()
    return len(records) / (time.perf_counter() - started)


# -- 1. raw aiokafka ------------------------------------------------------------------------------


async def warm_up_groups(bootstrap: str, topic: str) -> None:
    """Join and commit in a throwaway group, so that the broker creates ``__consumer_offsets``
    before any clock starts (the first group of a fresh broker waits for it)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-warm-up-{RUN}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await asyncio.wait_for(consumer.start(), 120)
    try:
        await asyncio.wait_for(consumer.getone(), 120)
        await asyncio.wait_for(consumer.commit(), 120)
    finally:
        await consumer.stop()


async def raw_aiokafka(bootstrap: str, topic: str, n: int) -> Rate:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    started = time.perf_counter()
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        await consumer.seek_to_beginning()
        count = 0
        first = None
        deadline = time.monotonic() + WAIT
        while count < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"raw aiokafka read {count} of {n}")
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    json.loads(record.value)
                count += len(records)
                if first is None:
                    first = time.perf_counter()
        return Rate(n, started, first, time.perf_counter())
    finally:
        await consumer.stop()


# -- 2. strm stateless agent ----------------------------------------------------------------------


def make_app(app_id: str, bootstrap: str, **options: Any) -> strm.App:
    return strm.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        environ={},
        topic_partitions=PARTITIONS,
        stream_buffer_maxsize=65_536,
        web_enabled=False,  # the stream path alone, as faust's side below
        **options,
    )


async def strm_stateless(
    bootstrap: str, topic_name: str, n: int, group: str = "", **options: Any
) -> Rate:
    app = make_app(
        f"bench-stateless-{RUN}{group}", bootstrap, broker_commit_every=100_000, **options
    )
    topic = app.topic(topic_name)
    done = asyncio.Event()
    count = 0

    @app.agent(topic)
    async def consume(stream: Any) -> None:
        nonlocal count
        async for _value in stream:
            count += 1
            if count == 1:
                first.append(time.perf_counter())
            if count == n:
                done.set()

    first: list[float] = []
    started = time.perf_counter()
    async with app.running():
        await asyncio.wait_for(done.wait(), WAIT)
        ended = time.perf_counter()
    return Rate(n, started, first[0], ended)


# -- 3. strm word count ---------------------------------------------------------------------------


async def strm_word_count(bootstrap: str, topic_name: str, n: int, store: str) -> Rate:
    with tempfile.TemporaryDirectory() as datadir:
        app_id = f"bench-wc-{store.split(':')[0]}-{RUN}"
        app = make_app(app_id, bootstrap, store=store, datadir=datadir)
        counts = app.Table("counts", default=int)
        topic = app.topic(topic_name, key_type=str, value_type=str)
        done = asyncio.Event()
        seen = 0

        @app.agent(topic)
        async def count(stream: Any) -> None:
            nonlocal seen
            async for word in stream:
                counts[word] += 1
                seen += 1
                if seen == 1:
                    first.append(time.perf_counter())
                if seen == n:
                    done.set()

        first: list[float] = []
        started = time.perf_counter()
        async with app.running():
            await asyncio.wait_for(done.wait(), WAIT)
            await asyncio.wait_for(app.conductor.checkpoint(), WAIT)
            ended = time.perf_counter()
            total, distinct = sum(counts.values()), len(list(counts.keys()))
        assert (total, distinct) == (n, 1000), f"counted {total} of {n}, {distinct} words"
    return Rate(n, started, first[0], ended)


# -- 4. strm recovery -----------------------------------------------------------------------------


async def strm_recovery(bootstrap: str, app_id: str, m: int, store: str) -> Rate:
    with tempfile.TemporaryDirectory() as datadir:
        app = make_app(app_id, bootstrap, store=store, datadir=datadir)
        app.Table("counts", default=int)
        app.conductor.needs_leader = True  # a worker with a table and no agent
        started = time.perf_counter()
        async with asyncio.timeout(WAIT):
            async with app.running():
                ended = time.perf_counter()
                replayed = app.tables.recovered_records
    assert replayed == m, f"replayed {replayed} of {m}"
    return Rate(m, started, None, ended)


# -- 5. faust-streaming in a throwaway venv -------------------------------------------------------

FAUST_AGENT = textwrap.dedent("""
    import json, os, sys, time
    import faust

    bootstrap, topic_name, n, group, datadir, result_path = sys.argv[1:7]
    n = int(n)
    sys.argv[1:] = sys.argv[7:]  # what faust's command line reads: "worker"
    app = faust.App(
        group, broker=f"kafka://{bootstrap}", store="memory://", web_enabled=False,
        topic_partitions=4, consumer_auto_offset_reset="earliest", datadir=datadir,
    )
    topic = app.topic(topic_name, key_serializer="raw", value_serializer="json")
    count = 0
    started = first = None

    @app.agent(topic)
    async def consume(stream):
        global count
        global first
        async for _value in stream:
            count += 1
            if count == 1:
                first = time.perf_counter()
            if count == n:
                with open(result_path, "w") as result:  # faust takes over stdout
                    result.write(json.dumps([started, first, time.perf_counter()]))
                os._exit(0)

    if __name__ == "__main__":
        started = time.perf_counter()
        faust.Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()
""")


def faust_python(workdir: str) -> str | None:
    """A Python with faust-streaming installed in a throwaway venv, or None."""
    uv = shutil.which("uv")
    if uv is None:
        return None
    venv = Path(workdir) / "faust-venv"
    python = venv / "bin" / "python"
    try:
        subprocess.run(
            [uv, "venv", "-q", "--python", "3.11", str(venv)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        subprocess.run(
            [uv, "pip", "install", "-q", "--python", str(python), "faust-streaming"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError):
        return None
    return str(python)


def faust_agent(python: str, workdir: str, bootstrap: str, topic: str, n: int) -> Rate | None:
    script = Path(workdir) / "faust_agent.py"
    script.write_text(FAUST_AGENT)
    result = Path(workdir) / "faust_result.json"
    try:
        out = subprocess.run(
            [
                python,
                str(script),
                bootstrap,
                topic,
                str(n),
                f"bench-faust-{RUN}",
                str(Path(workdir) / "faust-data"),
                str(result),
                "worker",
            ],
            capture_output=True,
            text=True,
            timeout=WAIT,
            cwd=workdir,
        )
    except subprocess.TimeoutExpired:
        print(f"faust agent: no result within {WAIT:.0f} s", file=sys.stderr)
        return None
    if result.exists():
        return Rate(n, *json.loads(result.read_text()))
    print(f"faust agent failed (exit {out.returncode}):\n{out.stderr[-3000:]}", file=sys.stderr)
    return None


# -- the run --------------------------------------------------------------------------------------


def line(name: str, rate: Rate, floor: Rate, unit: str = "events/s") -> None:
    steady = f"{rate.steady:12,.0f} {rate.steady / floor.steady:6.3f}" if rate.first else ""
    print(
        f"{name:32} {rate.rate:10,.0f} {unit:9} {rate.rate / floor.rate:5.3f}  "
        f"{rate.startup:6.2f}  {steady}",
        flush=True,
    )


async def monitor_pairs(bootstrap: str, topic: str, n: int, rounds: int) -> None:
    """Monitor on / off in interleaved pairs (the order alternating), each run a new group."""
    on, off, ratios = [], [], []
    for i in range(rounds):
        runs = [("on", {}), ("off", {"Monitor": strm.NoMonitor})]
        rates = {}
        for label, options in runs if i % 2 == 0 else runs[::-1]:
            rate = await strm_stateless(bootstrap, topic, n, f"-{label}-{i}", **options)
            rates[label] = rate.steady
        on.append(rates["on"])
        off.append(rates["off"])
        ratios.append(rates["on"] / rates["off"])
    print(
        f"stateless agent, Monitor on / off, {rounds} interleaved pairs (after the 1st event): "
        f"on {statistics.median(on):,.0f}, off {statistics.median(off):,.0f} events/s (medians); "
        f"median ratio {statistics.median(ratios):.3f} (pairs: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + ")"
    )


async def measure(
    bootstrap: str,
    n: int,
    m: int,
    workdir: str,
    faust: bool,
    monitor_rounds: int = 0,
    only_monitor: bool = False,
) -> None:
    topic = f"bench-input-{RUN}"
    words_topic = f"bench-words-{RUN}"
    recovery_ids = {
        store: f"bench-recovery-{store.split(':')[0]}-{RUN}"
        for store in ("memory://", "rocksdb://")
    }
    changelogs = [f"{app_id}-counts-changelog" for app_id in recovery_ids.values()]
    await create_topics(bootstrap, [topic, words_topic, *changelogs])

    words = [f"word{i}" for i in range(1000)]
    produced = await produce(
        bootstrap, topic, [(i % PARTITIONS, str(i).encode(), VALUE) for i in range(n)]
    )
    await produce(
        bootstrap,
        words_topic,
        [
            (hash(w) % PARTITIONS, w.encode(), json.dumps(w).encode())
            for w in (words[i % len(words)] for i in range(n))
        ],
    )
    changelog = [
        (i % PARTITIONS, json.dumps(f"key{i}").encode(), str(i).encode()) for i in range(m)
    ]
    for name in changelogs:
        await produce(bootstrap, name, changelog)
    print(
        f"events: {n}, ~100-byte JSON values, {PARTITIONS} partitions; changelog: {m} "
        f"records; produced at {produced:,.0f} records/s (aiokafka, linger 20 ms)"
    )
    print(
        f"{'':32} {'rate':>10} {'':9} {'ratio':>5}  {'start':>6}  {'after the 1st':>12} "
        f"{'ratio':>6}"
    )

    await warm_up_groups(bootstrap, topic)
    floor = await raw_aiokafka(bootstrap, topic, n)
    line("raw aiokafka getmany loop", floor, floor)
    line("strm stateless agent", await strm_stateless(bootstrap, topic, n), floor)
    if monitor_rounds:
        await monitor_pairs(bootstrap, topic, n, monitor_rounds)
    if only_monitor:
        return
    for store in ("memory://", "rocksdb://"):
        line(
            f"strm word count, {store}",
            await strm_word_count(bootstrap, words_topic, n, store),
            floor,
        )
    for store, app_id in recovery_ids.items():
        line(
            f"strm recovery, {store}",
            await strm_recovery(bootstrap, app_id, m, store),
            floor,
            "records/s",
        )
    if not faust:
        return
    python = await asyncio.to_thread(faust_python, workdir)
    if python is None:
        print("faust-streaming not available")
        return
    rate = await asyncio.to_thread(faust_agent, python, workdir, bootstrap, topic, n)
    if rate is None:
        print("faust-streaming agent: no figure (see the error above)")
    else:
        line("faust-streaming agent", rate, floor)
    print(
        "rate: N / (end - start), the start included; start: seconds until the first event "
        "(or, for recovery, the whole run); after the 1st: (N - 1) / (end - first event)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--changelog", type=int, default=None, help="default: --events")
    parser.add_argument("--bootstrap", help="use this broker instead of starting one")
    parser.add_argument("--no-faust", action="store_true", help="skip faust-streaming")
    parser.add_argument("--monitor-rounds", type=int, default=5, help="0: skip")
    parser.add_argument(
        "--only-monitor", action="store_true", help="only the floor, stateless and Monitor pairs"
    )
    args = parser.parse_args()
    m = args.changelog or args.events
    with tempfile.TemporaryDirectory(prefix="strm-bench-kafka-") as workdir:
        rundir = str(Path(workdir) / "broker")
        bootstrap = args.bootstrap
        if bootstrap is None:
            state = start_broker(rundir)
            bootstrap = state["bootstrap"]
            print(f"Kafka {state['version']} (KRaft, 1 broker) at {bootstrap}")
        try:
            asyncio.run(
                measure(
                    bootstrap,
                    args.events,
                    m,
                    workdir,
                    not args.no_faust,
                    args.monitor_rounds,
                    args.only_monitor,
                )
            )
        finally:
            if args.bootstrap is None:
                stop_broker(rundir)


if __name__ == "__main__":
    main()
