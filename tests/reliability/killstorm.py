"""The kill storm: a word count on a real Kafka broker whose worker processes are killed with
SIGKILL again and again, then the counts it left in its changelog are compared with the input.

Used by ``test_kill_storm.py`` (a bounded size, in CI) and ``bench/kill_storm.py`` (larger runs).
One case runs like this:

1. N words (W distinct, from a seeded ``random.Random``) are produced up front, with raw
   aiokafka, to a fresh topic of 8 partitions: keyed by the word without group_by (each word
   lives in one partition), keyed by the event's number with group_by (each word is spread over
   every partition and meets in one partition of the repartition topic).
2. One or two workers (``strm -A kill_storm_app worker``, RocksDB store, each with a data
   directory of its own) count them, throttled so that the job outlasts the storm.
3. ``kills`` times, a worker picked by the seeded generator is killed with SIGKILL 1 to 4 s
   after it reported ready, and started again at once on the same data directory.
4. The workers run until the group's committed offsets show every input record processed, then
   stop cleanly.
5. The table is read from its changelog as a recovering worker reads it: with
   ``read_committed`` under exactly-once, per partition only the records up to the last seal,
   the last value of each key winning.

The seeded generator makes the words, the victims and the delays the same on every run; the
moments the kills land in the checkpoint protocol still vary with the machine's timing.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import (  # type: ignore[import-untyped]
    AIOKafkaConsumer,
    AIOKafkaProducer,
    TopicPartition,
)
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]
from strm.runtime.seals import SEAL_KEY

from tests.integration.itest_helpers import (
    create_topic,
    start_worker,
    stop_worker,
    unique_name,
    wait_for,
    worker_env,
)

PARTITIONS = 8
APP_MODULE = "kill_storm_app"
APP_DIRECTORY = Path(__file__).resolve().parent
READY_MARKER = "is ready in"
#: A victim dies this many seconds (uniformly drawn) after it reported ready.
KILL_DELAY = (1.0, 4.0)
#: The throttle makes the job last this many times the storm's longest possible sum of delays
#: (plus a margin for the first start), so the last kill still finds work in progress.
STORM_SHARE = 1.5
FIRST_START_MARGIN = 10.0
#: Bounds of single steps, in seconds: a worker's start (Python, group join, recovery), one
#: broker request, reading a topic.
START_TIMEOUT = 120.0
REQUEST_TIMEOUT = 30.0
READ_TIMEOUT = 120.0
POLL_INTERVAL = 1.0


@dataclass(frozen=True)
class Case:
    workers: int
    guarantee: str
    group_by: bool
    events: int
    kills: int
    words: int = 1000
    seed: int = 1

    @property
    def name(self) -> str:
        route = "group_by" if self.group_by else "direct"
        return f"{self.workers}w-{self.guarantee}-{route}"

    @property
    def rate(self) -> float:
        """Events per second each worker may count (see ``STORM_SHARE``)."""
        storm = self.kills * KILL_DELAY[1] * STORM_SHARE + FIRST_START_MARGIN
        return self.events / storm / self.workers

    @property
    def finish_timeout(self) -> float:
        """How long the workers may take to finish after the last kill: the whole job at the
        throttled rate twice over, plus a start."""
        return 2 * self.events / (self.rate * self.workers) + START_TIMEOUT


@dataclass(frozen=True)
class Outcome:
    case: Case
    kills: int
    keys_wrong: int
    missing: int
    doubled: int
    seconds: float
    #: Input records not yet processed (committed) right after each kill.
    unprocessed_at_kills: list[int]
    #: With group_by: the records in the repartition topic (as the guarantee's reader sees
    #: them). More than the events: records forwarded again after a kill.
    forwarded: int | None
    #: Exit codes of the final clean stops (SIGTERM): 0 each, unless a stop failed.
    stop_codes: list[int | None]
    workdir: Path

    @property
    def forwarded_again(self) -> int:
        return 0 if self.forwarded is None else self.forwarded - self.case.events

    def line(self) -> str:
        return (
            f"{self.case.name:<32} events {self.case.events:>7}  "
            f"kills survived {self.kills:>2}  keys wrong {self.keys_wrong:>4}  "
            f"events missing {self.missing:>6}  events doubled {self.doubled:>6}  "
            f"repartitioned twice {self.forwarded_again if self.case.group_by else '-':>6}  "
            f"{self.seconds:6.1f} s{self.stops_failed}"
        )

    @property
    def stops_failed(self) -> str:
        if all(code == 0 for code in self.stop_codes):
            return ""
        return f"  clean stops exited with {self.stop_codes}"


def input_words(case: Case) -> list[str]:
    rng = random.Random(case.seed)
    return [f"w{rng.randrange(case.words):04d}" for _ in range(case.events)]


async def produce(bootstrap: str, topic: str, words: list[str], group_by: bool) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1_048_576)
    await producer.start()
    try:
        for i, word in enumerate(words):
            value = word.encode()  # the topic's value type str: the bytes as text
            if group_by:
                await producer.send(topic, value, key=f"e{i}".encode(), partition=i % PARTITIONS)
            else:
                await producer.send(topic, value, key=word.encode())
        await asyncio.wait_for(producer.flush(), READ_TIMEOUT)
    finally:
        await producer.stop()


# -- the group's progress, read from the broker -----------------------------------------------


async def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await asyncio.wait_for(admin.list_consumer_group_offsets(group), REQUEST_TIMEOUT)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


def isolation(guarantee: str) -> str:
    return "read_committed" if guarantee == "exactly_once" else "read_uncommitted"


async def read_from(
    bootstrap: str, topic: str, starts: dict[int, int], guarantee: str
) -> dict[int, list[Any]]:
    """The records of ``topic`` from ``starts`` (by partition) to its end as a reader of this
    guarantee sees it: under exactly-once, committed records only, up to the last stable offset."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level=isolation(guarantee),
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        ends = await asyncio.wait_for(consumer.end_offsets(tps), REQUEST_TIMEOUT)
        records: dict[int, list[Any]] = {p: [] for p in range(PARTITIONS)}
        for tp in tps:
            consumer.seek(tp, max(starts.get(tp.partition, 0), 0))
        deadline = time.monotonic() + READ_TIMEOUT
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic} not read to its end within {READ_TIMEOUT} s")
            batches = await consumer.getmany(timeout_ms=200)
            for tp, batch in batches.items():
                records[tp.partition].extend(batch)
        return records
    finally:
        await consumer.stop()


async def unprocessed(bootstrap: str, case: Case, app_id: str, topic: str) -> int:
    """Input records the group has not committed yet; with group_by, plus the records of the
    repartition topic past its committed offsets once the input is all committed (before, the
    repartition topic still grows)."""
    source = await committed_offsets(bootstrap, app_id, topic)
    ends = await end_offsets(bootstrap, topic)
    left = sum(end - max(source.get(p, 0), 0) for p, end in ends.items())
    if left or not case.group_by:
        return left
    repartition = repartition_topic(app_id, topic)
    starts = await committed_offsets(bootstrap, app_id, repartition)
    return await count_records(bootstrap, repartition, starts, case.guarantee)


def repartition_topic(app_id: str, topic: str) -> str:
    return f"{app_id}-{topic}-word-repartition"


async def count_records(bootstrap: str, topic: str, starts: dict[int, int], guarantee: str) -> int:
    records = await read_from(bootstrap, topic, starts, guarantee)
    return sum(len(batch) for batch in records.values())


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await asyncio.wait_for(consumer.end_offsets(tps), REQUEST_TIMEOUT)
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items()}


async def sealed_counts(bootstrap: str, changelog: str, guarantee: str) -> dict[str, int]:
    """The table as recovery rebuilds it from the changelog (see ``strm.runtime.seals``): the
    records of each partition up to its last seal, the last value of a key winning. Keys and
    values are JSON, the table's default codecs."""
    table: dict[str, int] = {}
    for records in (await read_from(bootstrap, changelog, {}, guarantee)).values():
        seals = [i for i, record in enumerate(records) if record.key == SEAL_KEY]
        for record in records[: seals[-1] if seals else 0]:
            if record.key == SEAL_KEY:
                continue
            key = json.loads(record.key)
            if record.value is None:
                table.pop(key, None)
            else:
                table[key] = json.loads(record.value)
    return table


# -- worker processes -----------------------------------------------------------------------


class WorkerSlot:
    """One worker of the group, on one data directory, started again after each kill."""

    def __init__(self, index: int, workdir: Path, env: dict[str, str]) -> None:
        self.directory = workdir / f"worker-{index}"
        self.directory.mkdir(parents=True)
        self.env = {**env, "APP_DATADIR": str(self.directory / "data")}
        self.runs = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.directory / f"run-{self.runs}.log"

    def start(self) -> None:
        self.runs += 1
        self.proc = start_worker(APP_MODULE, self.directory, self.env, self.log)

    def ready(self) -> bool:
        self.check_alive()
        return READY_MARKER in self.log.read_text(errors="replace")

    def check_alive(self) -> None:
        """A worker that exits by itself is a failure of the run, not of the counts."""
        assert self.proc is not None
        code = self.proc.poll()
        if code is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"{self.log} exited by itself with code {code}:\n{tail}")

    def kill(self) -> None:
        """SIGKILL to the worker's own Python process: no handler, no clean stop."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=REQUEST_TIMEOUT)

    def stop(self) -> int | None:
        """Stop cleanly (SIGTERM); the exit code."""
        if self.proc is None:
            return None
        stop_worker(self.proc, timeout=START_TIMEOUT)
        return self.proc.returncode


@dataclass
class Storm:
    """The case's kills: victims and delays from the case's seeded generator."""

    case: Case
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.case.seed)

    def kills(self, slots: list[WorkerSlot]) -> Iterable[tuple[WorkerSlot, float]]:
        for _ in range(self.case.kills):
            yield slots[self.rng.randrange(len(slots))], self.rng.uniform(*KILL_DELAY)


def run_case(bootstrap: str, case: Case, workdir: Path) -> Outcome:
    """Run ``case`` on the broker at ``bootstrap``, with its files (logs, data) in ``workdir``."""
    started = time.monotonic()
    topic, app_id = unique_name("storm-words"), unique_name("storm")
    words = input_words(case)
    asyncio.run(create_topic(bootstrap, topic, PARTITIONS))
    asyncio.run(produce(bootstrap, topic, words, case.group_by))
    env = worker_env(
        {
            "KS_APP": app_id,
            "KS_BROKER": f"kafka://{bootstrap}",
            "KS_TOPIC": topic,
            "KS_PARTITIONS": str(PARTITIONS),
            "KS_GUARANTEE": case.guarantee,
            "KS_GROUP_BY": "1" if case.group_by else "0",
            "KS_RATE": f"{case.rate:.1f}",
        },
        APP_DIRECTORY,
    )
    slots = [WorkerSlot(i, workdir, env) for i in range(case.workers)]
    left_at_kills: list[int] = []
    try:
        for slot in slots:
            slot.start()
        for victim, delay in Storm(case).kills(slots):
            wait_for(victim.ready, START_TIMEOUT, f"{victim.log} to report ready")
            time.sleep(delay)
            for slot in slots:
                slot.check_alive()
            victim.kill()
            victim.start()  # before the look at the broker, which takes a while with group_by
            left_at_kills.append(asyncio.run(unprocessed(bootstrap, case, app_id, topic)))
        finish(bootstrap, case, app_id, topic, slots)
    finally:
        # One after the other, as a rolling stop: the others see a rebalance meanwhile.
        codes = [slot.stop() for slot in slots]
    final = asyncio.run(sealed_counts(bootstrap, f"{app_id}-counts-changelog", case.guarantee))
    forwarded = None
    if case.group_by:
        repartition = repartition_topic(app_id, topic)
        forwarded = asyncio.run(count_records(bootstrap, repartition, {}, case.guarantee))
    expected = Counter(words)
    differences = [final.get(word, 0) - expected[word] for word in set(expected) | set(final)]
    return Outcome(
        case=case,
        kills=len(left_at_kills),
        keys_wrong=sum(1 for d in differences if d),
        missing=-sum(d for d in differences if d < 0),
        doubled=sum(d for d in differences if d > 0),
        seconds=time.monotonic() - started,
        unprocessed_at_kills=left_at_kills,
        forwarded=forwarded,
        stop_codes=codes,
        workdir=workdir,
    )


def finish(bootstrap: str, case: Case, app_id: str, topic: str, slots: list[WorkerSlot]) -> None:
    """Wait until the group has processed every record (the workers alive all along)."""
    deadline = time.monotonic() + case.finish_timeout
    while asyncio.run(unprocessed(bootstrap, case, app_id, topic)):
        for slot in slots:
            slot.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{case.name}: the workers did not finish within {case.finish_timeout:.0f} s"
            )
        time.sleep(POLL_INTERVAL)
