"""Events per second on a real Kafka broker: aiokafka alone, strm, faust-streaming and Quix
Streams, side by side on one broker in one run.

Measures, against one broker (started here with ``scripts/kafka`` in a temporary directory, or
given with ``--bootstrap``), on topics filled before any clock starts, each case in a process of
its own (so that its peak RSS and its spawn-to-first-event are its own):
  1. a raw aiokafka ``getmany`` loop reading the N records (``json.loads`` per value): the
     client's own speed, the reference of every ratio;
  2. a strm stateless agent on ``kafka://`` counting the N records (clock: from the app's start,
     group join included, until the agent has seen N);
  3. a strm word count (``counts[word] += 1``, ``--words`` distinct words) with the ``memory://``
     store and with ``rocksdb://`` under both guarantees (clock: app start until N seen, plus a
     final checkpoint), with strm's Faust-default checkpoints and again with Quix Streams'
     commit policy (``broker_commit_interval=5.0``, none by count);
  4. table recovery: a fresh worker with an empty store replaying a changelog of M records
     (clock: app start, which returns once the tables are recovered);
  5. faust-streaming (an agent counting the N records, and the word count with its
     ``memory://`` store, a changelog record per update as faust writes them; the clock stops
     at the N-th event, without a final commit) and Quix Streams (the stateless count,
     the word count in RocksDB state under both guarantees, and the recovery of a table of M
     keys), each installed by ``uv`` into a throwaway virtual environment.
Usage::

    uv run python bench/kafka.py [--events 200000] [--changelog 200000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from kafka_others import FAUST_AGENT, QUIX_APP, framework_python, run_script, version
from strm.runtime.seals import SEAL_KEY, encode_seal

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().parent / "kafka_child.py"
VALUE = json.dumps({"word": "x" * 80, "n": 1}).encode()  # ~100-byte values
SEAL_EVERY = 5_000  # records of a changelog partition per checkpoint seal
WAIT = 600.0  # the longest any single step may take, in seconds
RUN = uuid.uuid4().hex[:8]  # topics and groups of this run never meet an earlier run's
#: Quix Streams' default commit policy (every 5 s, none by count), given to its apps here and
#: to strm's extra word-count lines, beside strm's own Faust defaults (every 2.8 s or 10,000
#: events, whichever comes first).
QUIX_COMMIT_INTERVAL = 5.0
QUIX_COMMITS = {"commit_interval": QUIX_COMMIT_INTERVAL}
Figure = dict[str, Any]


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


async def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, records: list[tuple[int, bytes, bytes]]) -> float:
    """Send ``(partition, key, value)`` records in large batches; return records/s."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1_048_576, acks=1
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


# -- the cases ------------------------------------------------------------------------------------


def child(kind: str, **arguments: Any) -> Figure | None:
    """One case of ``kafka_child.py`` in a fresh interpreter of this environment."""
    spawned = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(CHILD), kind, json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    if out.returncode != 0:
        print(f"{kind} failed (exit {out.returncode}):\n{out.stderr[-3000:]}", file=sys.stderr)
        return None
    return {"spawned": spawned, **json.loads(out.stdout.splitlines()[-1])}


def line(name: str, figure: Figure | None, floor: Figure | None, unit: str = "ev/s") -> None:
    if figure is None:
        print(f"{name:48} no figure (see the error above)", flush=True)
        return
    n, started, first, ended = figure["n"], figure["started"], figure["first"], figure["ended"]
    rate = n / (ended - started)
    ratio = f"{rate / (floor['n'] / (floor['ended'] - floor['started'])):5.3f}" if floor else ""
    start = (first or ended) - started
    spawn = (first or ended) - figure["spawned"]
    steady = f"{(n - 1) / (ended - first):12,.0f}" if first else f"{'':12}"
    rss = figure["rss_kib"] / 1024
    cpu = f"{figure['cpu']:6.2f}" if "cpu" in figure else f"{'':6}"  # the others' have none
    print(
        f"{name:48} {rate:10,.0f} {unit:5} {ratio:>5}  {start:6.2f} {spawn:6.2f} {cpu}  "
        f"{steady} {rss:7.1f}",
        flush=True,
    )


def header() -> None:
    print(
        f"{'':48} {'rate':>10} {'':5} {'ratio':>5}  {'start':>6} {'spawn':>6} {'cpu':>6}  "
        f"{'after 1st':>12} {'RSS MiB':>7}",
        flush=True,
    )


class Topics:
    """The names of one run's topics and groups."""

    def __init__(self) -> None:
        self.input = f"bench-input-{RUN}"
        self.words = f"bench-words-{RUN}"
        self.keys = f"bench-keys-{RUN}"  # M distinct keys, for Quix's table
        self.recovery = {
            store: f"bench-recovery-{store.split(':')[0]}-{RUN}"
            for store in ("memory://", "rocksdb://")
        }
        self.changelogs = [f"{app_id}-counts-changelog" for app_id in self.recovery.values()]


def changelog(m: int, p: int) -> list[tuple[int, bytes, bytes]]:
    """M records of distinct keys as a strm word count writes them: a checkpoint seal after
    every ``SEAL_EVERY`` records of a partition, and after its last (recovery applies only
    sealed records)."""
    records: list[tuple[int, bytes, bytes]] = []
    for i in range(m):
        records.append((i % p, json.dumps(f"key{i}").encode(), str(i).encode()))
        if (i // p + 1) % SEAL_EVERY == 0 or i >= m - p:
            records.append((i % p, SEAL_KEY, encode_seal({})))
    return records


async def fill(bootstrap: str, topics: Topics, n: int, m: int, words: int, p: int) -> float:
    await create_topics(bootstrap, [topics.input, topics.words, topics.keys, *topics.changelogs], p)
    produced = await produce(
        bootstrap, topics.input, [(i % p, str(i).encode(), VALUE) for i in range(n)]
    )
    vocabulary = [f"word{i}" for i in range(words)]
    await produce(
        bootstrap,
        topics.words,
        [
            (hash(w) % p, w.encode(), json.dumps(w).encode())
            for w in (vocabulary[i % words] for i in range(n))
        ],
    )
    for name in topics.changelogs:
        await produce(bootstrap, name, changelog(m, p))
    await produce(bootstrap, topics.keys, [(i % p, f"key{i}".encode(), b"1") for i in range(m)])
    await warm_up_groups(bootstrap, topics.input)
    return produced


def repetition(
    rep: int,
    bootstrap: str,
    topics: Topics,
    args: argparse.Namespace,
    workdir: str,
    quix: str | None,
    faust: str | None,
) -> None:
    n, m, p, words = args.events, args.changelog, args.partitions, args.words
    print(f"-- repetition {rep + 1}", flush=True)
    header()
    floor = child("raw", bootstrap=bootstrap, topic=topics.input, n=n, partitions=p)
    line("raw aiokafka getmany loop", floor, floor)
    line(
        "strm stateless agent",
        child(
            "stateless",
            bootstrap=bootstrap,
            topic_name=topics.input,
            n=n,
            partitions=p,
            app_id=f"bench-stateless-{rep}-{RUN}",
        ),
        floor,
    )
    if quix:
        line(
            "Quix Streams stateless",
            quix_case(quix, workdir, "stateless", rep, bootstrap, topics.input, n),
            floor,
        )
    if faust:
        for case, topic, label in (
            ("stateless", topics.input, "faust-streaming agent"),
            ("word-count", topics.words, "faust-streaming word count, memory://"),
        ):
            group = f"bench-faust-{case}-{rep}-{RUN}"
            figure = run_script(
                faust,
                workdir,
                "faust_agent",
                FAUST_AGENT,
                [
                    bootstrap,
                    topic,
                    str(n),
                    group,
                    str(Path(workdir) / f"faust-{case}-{rep}"),
                    "{result}",
                    str(p),
                    case,
                    "worker",
                ],
            )
            line(label, figure, floor)
    for store, guarantee, policy in (
        ("memory://", "at_least_once", {}),
        ("rocksdb://", "at_least_once", {}),
        ("rocksdb://", "exactly_once", {}),
        ("rocksdb://", "at_least_once", QUIX_COMMITS),
        ("rocksdb://", "exactly_once", QUIX_COMMITS),
    ):
        app_id = f"bench-wc-{store.split(':')[0]}-{guarantee[:2]}-{len(policy)}-{rep}-{RUN}"
        figure = child(
            "word-count",
            bootstrap=bootstrap,
            topic_name=topics.words,
            n=n,
            partitions=p,
            words=words,
            store=store,
            guarantee=guarantee,
            app_id=app_id,
            **policy,
        )
        label = ", Quix's commits" if policy else ""
        line(f"strm word count, {store} {guarantee[:2]}{label}", figure, floor)
    if quix:
        for guarantee in ("at-least-once", "exactly-once"):
            figure = quix_case(
                quix, workdir, "word-count", rep, bootstrap, topics.words, n, guarantee
            )
            line(f"Quix word count, RocksDB {guarantee[:2]}", figure, floor)
    for store, app_id in topics.recovery.items():
        figure = child(
            "recovery", bootstrap=bootstrap, app_id=app_id, m=m, partitions=p, store=store
        )
        line(f"strm recovery, {store}", figure, floor, "rec/s")
    if quix:
        line(
            "Quix recovery, RocksDB",
            quix_recovery(quix, workdir, rep, bootstrap, topics, m),
            floor,
            "rec/s",
        )


def quix_case(
    python: str,
    workdir: str,
    case: str,
    rep: int,
    bootstrap: str,
    topic: str,
    n: int,
    guarantee: str = "at-least-once",
    group: str | None = None,
    state: str | None = None,
) -> Figure | None:
    group = group or f"bench-quix-{case}-{guarantee[:2]}-{rep}-{RUN}"
    state = state or str(Path(workdir) / f"quix-state-{group}")
    return run_script(
        python,
        workdir,
        "quix_app",
        QUIX_APP,
        [
            case,
            bootstrap,
            topic,
            str(n),
            group,
            state,
            "{result}",
            guarantee,
            str(QUIX_COMMIT_INTERVAL),
        ],
    )


def quix_recovery(
    python: str, workdir: str, rep: int, bootstrap: str, topics: Topics, m: int
) -> Figure | None:
    """Quix's changelog is its own format, so Quix writes it: a word count over M distinct
    keys (once per run, untimed) fills table and changelog; then, per repetition, one more
    record follows and a fresh state directory in the same group recovers the M keys before
    it sees that record. The clock runs from the start until that record."""
    group = f"bench-quix-recovery-{RUN}"
    if rep == 0:
        filled = quix_case(
            python, workdir, "word-count", rep, bootstrap, topics.keys, m, group=group
        )
        if filled is None:
            return None
    asyncio.run(produce(bootstrap, topics.keys, [(0, f"extra{rep}".encode(), b"1")]))
    figure = quix_case(
        python,
        workdir,
        "word-count",
        rep,
        bootstrap,
        topics.keys,
        1,
        group=group,
        state=str(Path(workdir) / f"quix-recovered-{rep}"),
    )
    if figure is None:
        return None
    return {**figure, "n": m, "ended": figure["first"], "first": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--changelog", type=int, default=None, help="default: --events")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--words", type=int, default=10_000, help="distinct words")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions, each of every case")
    parser.add_argument("--bootstrap", help="use this broker instead of starting one")
    parser.add_argument("--no-faust", action="store_true", help="skip faust-streaming")
    parser.add_argument("--no-quix", action="store_true", help="skip Quix Streams")
    args = parser.parse_args()
    args.changelog = args.changelog or args.events
    with tempfile.TemporaryDirectory(prefix="strm-bench-kafka-") as workdir:
        rundir = str(Path(workdir) / "broker")
        bootstrap = args.bootstrap
        if bootstrap is None:
            state = start_broker(rundir)
            bootstrap = state["bootstrap"]
            print(f"Kafka {state['version']} (KRaft, 1 broker) at {bootstrap}")
        try:
            run(bootstrap, args, workdir)
        finally:
            if args.bootstrap is None:
                stop_broker(rundir)


def run(bootstrap: str, args: argparse.Namespace, workdir: str) -> None:
    faust = None if args.no_faust else framework_python(workdir, "faust-venv", "faust-streaming")
    quix = None if args.no_quix else framework_python(workdir, "quix-venv", "quixstreams")
    for name, python, dist in (("faust", faust, "faust-streaming"), ("Quix", quix, "quixstreams")):
        print(f"{name}: {version(python, dist) if python else 'not available'}")
    topics = Topics()
    produced = asyncio.run(
        fill(bootstrap, topics, args.events, args.changelog, args.words, args.partitions)
    )
    print(
        f"events: {args.events}, ~100-byte JSON values, {args.partitions} partitions, "
        f"{args.words} distinct words; changelog: {args.changelog} records; produced at "
        f"{produced:,.0f} records/s (aiokafka, linger 20 ms); load {os.getloadavg()[0]:.1f}"
    )
    for rep in range(args.repeat):
        repetition(rep, bootstrap, topics, args, workdir, quix, faust)
        print(f"load average after repetition {rep + 1}: {os.getloadavg()[0]:.1f}")
    print(
        "rate: N / (end - start), the start included; start: seconds from the client's or "
        "app's start (after the imports) to the first event (recovery: to the end); spawn: "
        "the same from the process's spawn, imports included; cpu: the CPU seconds the process "
        "had used by then (process_time(), imports included; strm and aiokafka only); after "
        "1st: (N - 1) / (end - first event); RSS: the process's peak"
    )


if __name__ == "__main__":
    main()
