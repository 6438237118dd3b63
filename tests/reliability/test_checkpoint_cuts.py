"""A worker killed at each cut point of the checkpoint protocol loses nothing and doubles
nothing: a word count, killed by a fault plan (strm.testing.faults) on the memory transport,
then restarted on the same data directory, ends with the exact counts — under both guarantees,
on every store.

See docs/architecture.md, "Checkpoints", for the argument; each cut here is one of its steps.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_transport import drop_broker, get_broker, unique_url
from strm.kernel.spi import TP
from strm.testing.faults import Cut, FaultPlan, WorkerKilled
from strm.testing.pytest_plugin import AppFactory
from strm_store_aerospike.testing import FakeAerospike

PARTITIONS = 4
WORDS = [f"word-{i}" for i in range(40)]
EVENTS = [WORDS[(i * 7) % len(WORDS)] for i in range(1200)]
#: The test checkpoints after each chunk (a dozen checkpoints of about 40 changelog records
#: each, 4 seals with one table), and no checkpoint happens by itself: the cuts are reached
#: at the same point on every run.
CHUNK = 100
WAIT = 30.0

GUARANTEES = ["at_least_once", "exactly_once"]


@dataclass(frozen=True)
class StoreCase:
    name: str
    plugin: str | None
    url: str


STORES = [
    StoreCase("memory", None, "memory://"),
    StoreCase("rocksdb", "strm_store_rocksdb", "rocksdb://"),
    StoreCase("leveldb", "strm_store_leveldb", "leveldb://"),
    StoreCase("aerospike", "strm_store_aerospike", "aerospike://127.0.0.1:3000/test"),
]

#: (cut of the first worker, cut of the second or None), as (cut, after): the second
#: worker's cut is one during its recovery, and a third worker finishes.
CUTS: dict[str, tuple[tuple[Cut, int], tuple[Cut, int] | None]] = {
    "mid-changelog": ((Cut.CHANGELOG_RECORD, 60), None),
    "between-seals": ((Cut.SEAL, 6), None),
    "before-commit": ((Cut.BEFORE_COMMIT, 2), None),
    "after-commit": ((Cut.AFTER_COMMIT, 2), None),
    "during-recovery": ((Cut.CHANGELOG_RECORD, 60), (Cut.RECOVERY_RECORD, 5)),
}
#: Under exactly-once a kill mid-changelog leaves nothing to replay (the transaction never
#: commits) to a store on disk: a kill after the commit, before the stores are written, does.
RECOVERABLE_UNDER_EXACTLY_ONCE = (Cut.AFTER_COMMIT, 3)


@pytest.fixture
def broker_url() -> Iterator[str]:
    url = unique_url("cuts")
    yield url
    drop_broker(url)


class WordCount:
    """Workers of one word count, all on one broker and one data directory."""

    def __init__(
        self, factory: AppFactory, broker_url: str, store: StoreCase, guarantee: str
    ) -> None:
        self.factory = factory
        self.broker_url = broker_url
        self.store = store
        self.guarantee = guarantee
        self.fake = FakeAerospike()  # the "server" every aerospike worker shares
        self.fed = 0

    def worker(self, tables: int = 1, group_by: bool = False) -> tuple[App, list[Any], list[str]]:
        app = self.factory(
            "wc",
            plugins=[self.store.plugin] if self.store.plugin else [],
            broker=self.broker_url,
            store=self.store.url,
            topic_partitions=PARTITIONS,
            processing_guarantee=self.guarantee,
            broker_commit_every=10**9,
            broker_commit_interval=3600.0,
        )
        options = {"client_factory": self.fake} if self.store.name == "aerospike" else {}
        counts = [app.Table(f"counts{n}", default=int, options=options) for n in range(tables)]
        words = app.topic("words", key_type=str, value_type=str)
        seen: list[str] = []

        @app.agent(words)
        async def count(stream: Any) -> None:
            source = stream.group_by(lambda w: w, name="word") if group_by else stream
            async for word in source:
                for table in counts:
                    table[word] += 1
                seen.append(word)

        return app, counts, seen

    async def feed(self, count: int) -> int:
        """Produce the next ``count`` events (fewer at the end); how many."""
        chunk = EVENTS[self.fed : self.fed + count]
        feeder = self.factory("feeder", broker=self.broker_url, topic_partitions=PARTITIONS)
        topic = feeder.topic("words", key_type=str, value_type=str)
        async with feeder.running():
            for word in chunk:
                await topic.send(key=word, value=word)
        self.fed += len(chunk)
        return len(chunk)

    def all_committed(self) -> bool:
        """Every record of every topic the group reads (the words, and the repartition topic
        of group_by) is committed."""
        broker = get_broker(self.broker_url)
        committed = broker.group("wc").committed
        topics = [
            name for name in broker.topics if name == "words" or name.endswith("-repartition")
        ]
        return all(
            committed.get(TP(name, p), 0) == len(broker.log(TP(name, p)))
            for name in topics
            for p in range(PARTITIONS)
        )


async def _until(condition: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.01)
    assert condition(), what


async def _until_seen(seen: list[str], count: int) -> None:
    await _until(lambda: len(seen) >= count, f"the worker did not process {count} events")


async def _checkpoint_until_seen(app: App, plan: FaultPlan, seen: list[str], count: int) -> None:
    async with asyncio.timeout(WAIT):
        while len(seen) < count and not plan.killed:
            with contextlib.suppress(WorkerKilled):
                await app.conductor.checkpoint()
            await asyncio.sleep(0.005)


async def process_chunks_until_killed(
    wc: WordCount, plan: FaultPlan, tables: int = 1, group_by: bool = False
) -> None:
    """A worker with ``plan`` processes chunk after chunk, checkpointing after each, until it
    dies; what is left of it in this process is cleared up (its stores are closed, nothing
    more reaches the broker)."""
    app, _, seen = wc.worker(tables, group_by)
    app.configure()
    app.transport().faults = plan  # type: ignore[attr-defined]
    try:
        await app.start()
        while not plan.killed:
            before = len(seen)
            fed = await wc.feed(CHUNK)
            assert fed, f"every event was processed and the worker was never killed: {plan!r}"
            if group_by:
                # the repartitioned records reach the table's stream once a checkpoint has
                # committed them (exactly-once): checkpoint until they are through
                await _checkpoint_until_seen(app, plan, seen, before + fed)
            else:
                await _until_seen(seen, before + fed)
            with contextlib.suppress(WorkerKilled):
                await app.conductor.checkpoint()
    finally:
        with contextlib.suppress(Exception):
            await app.stop()


async def recover_until_killed(wc: WordCount, plan: FaultPlan) -> None:
    """A worker with ``plan`` starts (and recovers its tables) until it dies."""
    app, _, _ = wc.worker()
    app.configure()
    app.transport().faults = plan  # type: ignore[attr-defined]
    starting = asyncio.create_task(app.start())
    try:
        await _until(lambda: plan.killed, f"the worker was never killed: {plan!r}")
    finally:
        if not starting.done():
            starting.cancel()
        with contextlib.suppress(BaseException):
            await starting
        with contextlib.suppress(Exception):
            await app.stop()


async def run_to_the_end(
    wc: WordCount, tables: int, group_by: bool = False
) -> list[dict[Any, int]]:
    """A healthy worker processes the rest and commits every record."""
    app, counts, _ = wc.worker(tables, group_by)
    async with app.running():
        while await wc.feed(CHUNK):
            pass

        async def committed_all() -> bool:
            await app.conductor.checkpoint()
            return wc.all_committed()

        async with asyncio.timeout(WAIT):
            while not await committed_all():
                await asyncio.sleep(0.01)
        return [table.as_dict() for table in counts]


@pytest.mark.parametrize("guarantee", GUARANTEES)
@pytest.mark.parametrize("store", STORES, ids=lambda s: s.name)
@pytest.mark.parametrize("cut", list(CUTS))
async def test_a_kill_at_each_cut_loses_and_doubles_nothing(
    strm_app_factory: AppFactory, broker_url: str, store: StoreCase, guarantee: str, cut: str
) -> None:
    first, second = CUTS[cut]
    if second is not None and guarantee == "exactly_once":
        first = RECOVERABLE_UNDER_EXACTLY_ONCE
    wc = WordCount(strm_app_factory, broker_url, store, guarantee)
    await process_chunks_until_killed(wc, FaultPlan(*first))
    if second is not None:
        await recover_until_killed(wc, FaultPlan(*second))
    (counts,) = await run_to_the_end(wc, tables=1)
    assert counts == dict(Counter(EVENTS))


@pytest.mark.parametrize("guarantee", GUARANTEES)
@pytest.mark.parametrize("after", [1, 2, 3, 5, 7])
async def test_a_kill_between_two_tables_seals(
    strm_app_factory: AppFactory, broker_url: str, guarantee: str, after: int
) -> None:
    """Two tables updated by the same events, killed when one table's seal of a partition is
    on the broker and the other's is not: nothing is missing from either; exactly-once (one
    transaction) is exact, at-least-once may count the sealed table's events again."""
    wc = WordCount(strm_app_factory, broker_url, STORES[0], guarantee)
    await process_chunks_until_killed(wc, FaultPlan(Cut.SEAL, after=after), tables=2)
    expected = Counter(EVENTS)
    for counts in await run_to_the_end(wc, tables=2):
        if guarantee == "exactly_once":
            assert counts == dict(expected)
        else:
            assert all(counts[word] >= n for word, n in expected.items()), counts


@pytest.mark.parametrize("guarantee", GUARANTEES)
@pytest.mark.parametrize("cut", ["mid-changelog", "between-seals", "before-commit", "after-commit"])
async def test_a_kill_through_group_by_loses_and_doubles_nothing(
    strm_app_factory: AppFactory, broker_url: str, guarantee: str, cut: str
) -> None:
    """Words re-keyed through a repartition topic into the table. Killed before its source
    offsets are committed, the worker leaves its successor to forward those records again:
    copies that the table recognises by their source position and skips, so at-least-once is
    exact here too."""
    first, _ = CUTS[cut]
    wc = WordCount(strm_app_factory, broker_url, STORES[1], guarantee)
    await process_chunks_until_killed(wc, FaultPlan(*first), group_by=True)
    (counts,) = await run_to_the_end(wc, tables=1, group_by=True)
    assert counts == dict(Counter(EVENTS))
