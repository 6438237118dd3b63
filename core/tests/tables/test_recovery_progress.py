"""Recovery progress: what sensors hear while tables are replayed from their changelogs, and
that the app starts only once every replayed record is in the stores, however slow they are."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_store import MemoryStore
from strm.kernel.spi import TP
from strm.runtime import table_manager as manager
from strm.runtime.recovery_progress import RecoveryProgress, TableRecovery
from strm.sensors import Sensor
from strm.testing import eventually

KEYS = 2_000


class ProgressLog(Sensor):
    def __init__(self) -> None:
        self.reports: list[RecoveryProgress] = []

    def on_recovery_progress(self, progress: RecoveryProgress) -> None:
        self.reports.append(progress)


def word_count(make_app: Callable[..., App]) -> tuple[App, Any, Any]:
    app = make_app("wc")
    words = app.topic("words", key_type=str, value_type=str)
    counts = app.Table("counts", default=int)

    @app.agent(words)
    async def count(stream: Any) -> None:
        async for word in stream:
            counts[word] += 1

    return app, words, counts


async def fill_the_changelog(make_app: Callable[..., App]) -> None:
    app, words, counts = word_count(make_app)
    async with app.running():
        for i in range(KEYS):
            await words.send(key=f"w{i}", value=f"w{i}")
        await eventually(lambda: len(counts) == KEYS, timeout=20)


async def test_start_waits_for_every_replayed_record_however_slow_the_store(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memory broker hands both partitions over in one fetch; while the first is written,
    the second's records are fetched but not yet stored, and the progress checks between
    batches must not count it as recovered."""
    await fill_the_changelog(make_app)
    write_batch = MemoryStore.write_batch

    def slow_write_batch(
        self: MemoryStore, puts: Mapping[bytes, bytes | None], applied: Mapping[TP, int] | None
    ) -> None:
        time.sleep(0.3)
        write_batch(self, puts, applied)

    monkeypatch.setattr(MemoryStore, "write_batch", slow_write_batch)
    monkeypatch.setattr(manager, "PROGRESS_EVERY", 0.05)
    again, _words, counts = word_count(make_app)
    log = ProgressLog()
    again.configure().sensors.add(log)
    async with again.running():
        assert len(counts) == KEYS
        replayed = again.tables.recovered_records
    assert replayed > KEYS  # the keys, and the seals of the checkpoints
    *during, last = log.reports
    assert during, "progress is reported while the replay lasts"
    assert not any(report.finished for report in during)
    assert [report.done for report in during] == sorted(report.done for report in during)
    assert last.finished
    assert last.tables == (TableRecovery("counts", 2, replayed, replayed),)


def test_the_description_of_progress() -> None:
    progress = RecoveryProgress(
        tables=(TableRecovery("counts", 2, 1_500, 6_000), TableRecovery("totals", 1, 0, 2_000)),
        seconds=0.5,
        finished=False,
    )
    assert progress.describe() == (
        # 6,500 records left at 3,000/s: 2.2 s, shown rounded up.
        "recovering tables: 1,500/8,000 records (19%), 3,000 records/s, ETA 3 s: "
        "counts 2 partitions 1,500/6,000; totals 1 partition 0/2,000"
    )
    done = RecoveryProgress((TableRecovery("counts", 2, 6_000, 6_000),), seconds=2.0, finished=True)
    assert done.describe() == (
        "recovered 1 table (2 partitions): 6,000 records in 2.00 s (3,000 records/s)"
    )
