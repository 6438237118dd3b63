"""Table standbys on a real broker: two workers of one group, each owning one partition of a
word-counting table and keeping a standby copy of the other's, through the strm assignor."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from strm.app import App
from strm.kernel.spi import TP
from strm.testing import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def counting_app(
    kafka_app: Callable[..., App], app_id: str, topic_name: str, datadir: Path
) -> tuple[App, Any]:
    """A worker counting words in a RocksDB table (its store outlives a rebalance, as in
    production), with one standby replica of each table partition."""
    app = kafka_app(
        app_id,
        plugins=["strm_store_rocksdb"],
        store="rocksdb://",
        datadir=str(datadir),
        topic_partitions=2,
        table_standby_replicas=1,
    )
    words = app.topic(topic_name, key_type=str, value_type=str, partitions=2)
    counts = app.Table("counts", default=int)

    @app.agent(words, name="count")
    async def count(stream: Any) -> None:
        async for word in stream:
            counts[word] += 1

    return app, counts


def standbys(app: App) -> set[TP]:
    consumer = app.conductor.consumer
    return consumer.standbys() if consumer is not None else set()


def active(app: App, topic: str) -> set[int]:
    return {tp.partition for tp in app.conductor.assignment - standbys(app) if tp.topic == topic}


async def test_a_standby_follows_the_changelog_and_takes_over_with_the_tail_only(
    kafka_app: Callable[..., App],
    unique: Callable[[str], str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app_id, topic_name = unique("standby-app"), unique("words")
    (first, first_counts), (second, second_counts) = (
        counting_app(kafka_app, app_id, topic_name, tmp_path / f"worker-{index}")
        for index in range(2)
    )
    changelog = first_counts.changelog_topic_name
    keys = [f"w{i}" for i in range(30)]
    words = first.topic(topic_name, key_type=str, value_type=str)

    async with first.running():
        await eventually(lambda: active(first, topic_name) == {0, 1}, timeout=20)
        async with second.running():
            # Each worker's consumer reports the changelog partition of the other as a standby.
            await eventually(
                lambda: (
                    len(active(first, topic_name)) == 1
                    and len(active(second, topic_name)) == 1
                    and standbys(first) == {TP(changelog, p) for p in active(second, topic_name)}
                    and standbys(second) == {TP(changelog, p) for p in active(first, topic_name)}
                    # and the table managers follow them as standbys
                    and first.tables._standby == standbys(first)
                    and second.tables._standby == standbys(second)
                ),
                timeout=20,
            )
            for key in keys * 2:
                await words.send(key=key, value=key)
            await eventually(
                lambda: sum(first_counts.values()) + sum(second_counts.values()) == 60, timeout=20
            )
            for app in (first, second):
                await app.conductor.checkpoint()
            assert first_counts.as_dict() | second_counts.as_dict() == dict.fromkeys(keys, 2)

            # The standby stores follow the other worker's changelog: its keys and its offset.
            consumer = first.conductor.consumer
            assert consumer is not None
            ends = await consumer.end_offsets([TP(changelog, 0), TP(changelog, 1)])
            for app, table, other in (
                (first, first_counts, second_counts),
                (second, second_counts, first_counts),
            ):
                (standby,) = standbys(app)
                store = table.shard(standby.partition).store

                def caught_up(store: Any = store, standby: TP = standby) -> bool:
                    return bool(store.applied_offset(standby) == ends[standby] - 1)

                await eventually(caught_up, timeout=20)
                assert store.size() == len(other.as_dict()) > 0
            caplog.clear()
            caplog.set_level(logging.INFO, "strm.tables")
        assert second.crash_error is None

        # The second worker left: the first takes its partition over, already warm.
        await eventually(
            lambda: active(first, topic_name) == {0, 1} and not standbys(first), timeout=20
        )
        await eventually(lambda: first_counts.as_dict() == dict.fromkeys(keys, 2), timeout=20)
        for key in keys:
            await words.send(key=key, value=key)
        await eventually(lambda: first_counts.as_dict() == dict.fromkeys(keys, 3), timeout=20)
        await asyncio.sleep(0.3)
        assert first_counts.as_dict() == dict.fromkeys(keys, 3), "every word counted once"
    assert first.crash_error is None

    log = caplog.text
    replayed = [int(n) for n in re.findall(r"(\d+) changelog records to replay", log)]
    assert "nothing to replay" in log or replayed, "the takeover recovered nothing?"
    # A cold takeover would replay the 30-odd changelog records of the partition; the warm
    # copy leaves nothing, or a few records written after it last fetched.
    assert sum(replayed) <= 5, log
