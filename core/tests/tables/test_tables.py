"""Tables: dict use, changelogs, checkpoints, recovery, global and set tables."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_transport import get_broker
from strm.kernel.errors import StoreError, StrmError
from strm.kernel.spi import TP
from strm.runtime.seals import SEAL_KEY
from strm.testing import eventually


def word_count(make_app: Callable[..., App], **settings: Any) -> tuple[App, Any, Any, list[str]]:
    app = make_app("wc", **settings)
    words = app.topic("words", key_type=str, value_type=str)
    counts = app.Table("counts", default=int)
    seen: list[str] = []

    @app.agent(words)
    async def count(stream: Any) -> None:
        async for word in stream:
            counts[word] += 1
            seen.append(word)

    return app, words, counts, seen


async def test_a_table_counts_and_behaves_like_a_dict(make_app: Callable[..., App]) -> None:
    app, words, counts, seen = word_count(make_app)
    async with app.running():
        for word in ["a", "b", "a", "c", "a", "b"]:
            await words.send(key=word, value=word)
        await eventually(lambda: len(seen) == 6)
        assert counts.as_dict() == {"a": 3, "b": 2, "c": 1}
        assert counts["a"] == 3 and counts.get("zzz") is None and counts["zzz"] == 0
        assert "a" in counts and "zzz" not in counts
        assert len(counts) == 3 and sorted(counts) == ["a", "b", "c"]
        counts["b"] = 10  # a key it has: its partition is known
        del counts["c"]
        assert counts.as_dict() == {"a": 3, "b": 10}
        with pytest.raises(StrmError, match="key 'd' is new: outside a stream"):
            counts["d"] = 1
        with pytest.raises(KeyError):
            del counts["nope"]


async def test_a_checkpoint_writes_one_changelog_record_per_dirty_key(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app, words, _counts, seen = word_count(make_app, broker_commit_interval=3600.0)
    async with app.running():
        for _ in range(50):
            await words.send(key="hot", value="hot")
        await eventually(lambda: len(seen) == 50)
        await app.conductor.checkpoint()
        changelog = get_broker(broker_url).topics["wc-counts-changelog"]
        records = [m for log in changelog.logs for m in log]
        # the changed key, then the seal: the source offset the change accounts for
        assert [(m.key, m.value) for m in records] == [
            (b'"hot"', b"50"),
            (SEAL_KEY, b'[["words", 0, 50]]'),
        ]
        assert changelog.spec.config["cleanup.policy"] == "compact"


async def test_a_new_worker_recovers_the_table_from_the_changelog(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app, words, _counts, seen = word_count(make_app)
    async with app.running():
        for word in ["a", "b", "a", "c", "a", "b"]:
            await words.send(key=word, value=word)
        await eventually(lambda: len(seen) == 6)
    caplog.set_level(logging.INFO, "strm.tables")
    again, words2, counts2, seen2 = word_count(make_app)
    recovered: list[str] = []

    @counts2.on_recover
    async def after() -> None:
        recovered.append("done")

    async with again.running():
        assert counts2.as_dict() == {"a": 3, "b": 2, "c": 1}
        assert recovered
        await words2.send(key="a", value="a")
        await eventually(lambda: len(seen2) == 1)
        assert counts2["a"] == 4
    assert "records to replay" in caplog.text and "records/s" in caplog.text
    assert again.tables.recovered_records == 4  # three keys and the seal


async def test_deletes_reach_the_changelog_and_survive_recovery(
    make_app: Callable[..., App],
) -> None:
    app = make_app("del")
    table = app.Table("kv", use_partitioner=True)
    async with app.running():
        table["x"] = 1
        table["y"] = 2
        await app.conductor.checkpoint()
        del table["x"]
        await app.conductor.checkpoint()
    again = make_app("del")
    table2 = again.Table("kv", use_partitioner=True)
    async with again.running():
        assert table2.as_dict() == {"y": 2}


@pytest.mark.parametrize("table_partitions", [2, 6])
async def test_a_table_needs_as_many_partitions_as_its_source(
    make_app: Callable[..., App], table_partitions: int
) -> None:
    """More source partitions than table partitions, or fewer: either way the first update
    names both counts (fewer would otherwise split a stream partition and its table partition
    over two workers)."""
    app = make_app(f"parts{table_partitions}", topic_partitions=4)
    source = app.topic("src", value_type=int, partitions=4)
    table = app.Table("t", partitions=table_partitions, default=int)
    errors: list[BaseException] = []

    @app.agent(source)
    async def write(stream: Any) -> None:
        async for value in stream.events():
            try:
                table[value.value] += 1
            except StrmError as exc:
                errors.append(exc)

    async with app.running():
        await source.send(value=1, partition=1)
        await eventually(lambda: len(errors) == 1)
    assert (
        f"table 't' has {table_partitions} partitions, but it is updated from topic 'src', "
        "which has 4" in str(errors[0])
    )
    assert "partitions=4" in str(errors[0])


async def test_without_the_topic_s_count_each_record_s_partition_is_checked(
    make_app: Callable[..., App],
) -> None:
    app = make_app("unknown-count", topic_partitions=4)
    source = app.topic("usrc", value_type=int, partitions=4)
    small = app.Table("small", partitions=2, default=int)
    errors: list[BaseException] = []
    done: list[int] = []

    @app.agent(source)
    async def write(stream: Any) -> None:
        async for event in stream.events():
            try:
                small[event.value] += 1
                done.append(event.value)
            except StrmError as exc:
                errors.append(exc)

    async with app.running():
        del app.conductor.partition_counts["usrc"]  # as when the broker could not say
        await source.send(value=1, partition=1)
        await eventually(lambda: done == [1])
        await source.send(value=3, partition=3)
        await eventually(lambda: len(errors) == 1)
    assert "updated from usrc[3]" in str(errors[0])
    assert "as many partitions as the topic that updates it" in str(errors[0])


async def test_a_global_table_may_have_more_partitions_than_its_source(
    make_app: Callable[..., App],
) -> None:
    app = make_app("global-parts", topic_partitions=4)
    source = app.topic("gsrc", key_type=str, value_type=int, partitions=2)
    settings = app.GlobalTable("settings", partitions=4, default=int)
    done: list[int] = []

    @app.agent(source)
    async def write(stream: Any) -> None:
        async for key, value in stream.items():
            settings[key] = value
            done.append(value)

    async with app.running():
        await source.send(key="a", value=1, partition=1)
        await eventually(lambda: done == [1])
        assert settings["a"] == 1


async def test_a_changelog_with_another_partition_count_stops_the_start(
    make_app: Callable[..., App],
) -> None:
    first = make_app("recount")
    first.Table("counts", partitions=4, default=int)
    async with first.running():
        pass
    second = make_app("recount")
    second.Table("counts", partitions=2, default=int)
    with pytest.raises(StrmError) as raised:
        async with second.running():
            pass
    message = str(raised.value)
    assert "topic 'recount-counts-changelog' exists with 4 partitions" in message
    assert "declares 2" in message
    assert "set partitions=4" in message


async def test_a_declared_topic_with_another_partition_count_stops_the_start(
    make_app: Callable[..., App],
) -> None:
    app = make_app("declared")
    await app.topic("orders", partitions=3).declare()
    again = make_app("declared-again")
    again.topic("orders", partitions=5)

    @again.agent(again.topic("orders", partitions=5))
    async def read(stream: Any) -> None:
        async for _ in stream:
            pass

    with pytest.raises(StrmError, match=r"'orders' exists with 3 partitions, .* declares 5"):
        async with again.running():
            pass


def test_table_arguments_are_checked(make_app: Callable[..., App]) -> None:
    app = make_app()
    with pytest.raises(StrmError, match="default must be a callable"):
        app.Table("bad", default=0)
    with pytest.raises(StrmError, match="partitions must be at least 1"):
        app.Table("bad", partitions=0)
    app.Table("once")
    with pytest.raises(StrmError, match="two tables are named 'once'"):
        app.Table("once")


async def test_a_store_ahead_of_its_changelog_is_refused(make_app: Callable[..., App]) -> None:
    app = make_app("ahead", topic_partitions=1)
    table = app.Table("t", use_partitioner=True)
    store = table.shard(0).store
    store.write_batch({b'"k"': b"1"}, {TP("ahead-t-changelog", 0): 99})
    with pytest.raises(StoreError, match="up to offset 99, but the changelog ends at 0"):
        async with app.running():
            await app.wait_crashed()
            raise app.crash_error  # type: ignore[misc]


async def test_a_store_ahead_of_its_changelog_is_rebuilt_when_allowed(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app("ahead2", topic_partitions=1, recovery_consistency_check=False)
    table = app.Table("t", use_partitioner=True)
    table.shard(0).store.write_batch({b'"k"': b"1"}, {TP("ahead2-t-changelog", 0): 99})
    async with app.running():
        assert table.as_dict() == {}
    assert "rebuilding it from the changelog" in caplog.text


async def test_global_tables_are_whole_on_every_worker(make_app: Callable[..., App]) -> None:
    apps = [make_app("glob", topic_partitions=4) for _ in range(2)]
    tables = [app.GlobalTable("config", default=str) for app in apps]
    async with apps[0].running(), apps[1].running():
        for i in range(8):
            tables[0][f"k{i}"] = f"v{i}"
        await apps[0].conductor.checkpoint()
        expected = {f"k{i}": f"v{i}" for i in range(8)}
        await eventually(lambda: tables[1].as_dict() == expected)
        assert tables[0].as_dict() == expected


async def test_set_tables(make_app: Callable[..., App]) -> None:
    app = make_app("sets")
    tags = app.SetTable("tags", use_partitioner=True)
    async with app.running():
        tags["a"].add("x")
        tags["a"].add("y")
        tags["a"].discard("x")
        tags["b"] |= {"p", "q"}
        tags["b"].difference_update({"p"})
        assert tags["a"] == {"y"} and tags["b"] == {"q"} and tags["none"] == set()
        await app.conductor.checkpoint()
    again = make_app("sets")
    tags2 = again.SetTable("tags", use_partitioner=True)
    async with again.running():
        assert tags2.as_dict() == {"a": {"y"}, "b": {"q"}}


async def test_set_global_table(make_app: Callable[..., App]) -> None:
    app = make_app("sg")
    members = app.SetGlobalTable("members")
    async with app.running():
        members["team"].update({"ann", "bob"})
        assert members["team"] == {"ann", "bob"}


async def test_on_changelog_event_sees_replayed_records(make_app: Callable[..., App]) -> None:
    app, words, _counts, seen = word_count(make_app)
    async with app.running():
        await words.send(key="a", value="a")
        await eventually(lambda: len(seen) == 1)
    replayed: list[tuple[Any, Any]] = []

    async def on_event(event: Any) -> None:
        replayed.append((event.key, event.value))

    again = make_app("wc")
    again.Table("counts", default=int, on_changelog_event=on_event)
    again.topic("words", key_type=str, value_type=str)
    again.conductor.needs_leader = True
    async with again.running():
        pass
    assert replayed == [("a", 1)]


async def test_a_table_used_before_the_app_started_is_a_clear_error(
    make_app: Callable[..., App],
) -> None:
    app = make_app("early")
    table = app.Table("t", default=int)
    with pytest.raises(StrmError, match="used before its app started"):
        table["x"] += 1
    with pytest.raises(StrmError, match="used before its app started"):
        list(table)


async def test_a_stored_value_that_does_not_decode_is_a_clear_error(
    make_app: Callable[..., App],
) -> None:
    from strm.kernel.errors import CodecError

    app = make_app("baddata", topic_partitions=1)
    table = app.Table("t", use_partitioner=True)
    async with app.running():
        table.shard(0).store.set(b'"k"', b"\xff not json")
        with pytest.raises(CodecError, match="table 't': a value in its store cannot be decoded"):
            table["k"]


async def test_table_partitions_move_with_a_rebalance(make_app: Callable[..., App]) -> None:
    apps = [make_app("moving", topic_partitions=4) for _ in range(2)]
    tables = []
    for app in apps:
        words = app.topic("mwords", key_type=str, value_type=str)
        counts = app.Table("counts", default=int)
        tables.append(counts)

        @app.agent(words, name="count")
        async def count(stream: Any, counts: Any = counts) -> None:
            async for word in stream:
                counts[word] += 1

    words = apps[0].topic("mwords", key_type=str, value_type=str)
    keys = [f"w{i}" for i in range(20)]
    async with apps[0].running():
        for key in keys:
            await words.send(key=key, value=key)
        await eventually(lambda: sum(tables[0].values()) == 20)
        async with apps[1].running():
            await eventually(lambda: len(tables[1].local_partitions) == 2)
            await eventually(lambda: sum(tables[0].values()) + sum(tables[1].values()) == 20)
            assert tables[0].local_partitions and tables[1].local_partitions
        # the second worker left: every partition, with its counts, is back on the first
        await eventually(lambda: sum(tables[0].values()) == 20)
        assert tables[0].as_dict() == dict.fromkeys(keys, 1)


async def test_changes_written_before_a_lost_commit_are_not_applied_twice(
    make_app: Callable[..., App],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The worker dies after its tables' changes reached the changelog and the store, but
    before the source offsets were committed: the next worker must not count them again."""
    from strm.builtins.memory_transport import MemoryConsumer

    async def lost_commit(self: Any, offsets: Any) -> None:
        return None  # the commit never reaches the broker

    app, words, _counts, seen = word_count(make_app, topic_partitions=1)
    with monkeypatch.context() as patch:
        patch.setattr(MemoryConsumer, "commit", lost_commit)
        async with app.running():
            for word in ["a", "b", "a"]:
                await words.send(key=word, value=word)
            await eventually(lambda: len(seen) == 3)
            await app.conductor.checkpoint()
    caplog.set_level(logging.INFO, "strm.tables")
    again, words2, counts2, seen2 = word_count(make_app, topic_partitions=1)
    async with again.running():
        await words2.send(key="c", value="c")
        await eventually(lambda: len(seen2) == 1)
        assert counts2.as_dict() == {"a": 2, "b": 1, "c": 1}
    assert seen2 == ["c"]
    assert "words[0]: resuming at offset 3" in caplog.text


async def test_a_worker_refuses_to_write_a_partition_it_does_not_own(
    make_app: Callable[..., App],
) -> None:
    apps = [make_app("owners", topic_partitions=2) for _ in range(2)]
    tables = [app.Table("t", use_partitioner=True) for app in apps]
    async with apps[0].running(), apps[1].running():

        def owners() -> list[int]:
            return [
                sum(app.tables.owns(table, p) for p in range(2))
                for app, table in zip(apps, tables, strict=True)
            ]

        await eventually(lambda: owners() == [1, 1])
        failures = 0
        for i in range(10):
            try:
                tables[0][f"k{i}"] = i
            except StrmError as exc:
                assert "which another worker owns" in str(exc)
                failures += 1
        assert 0 < failures < 10  # some keys are this worker's, some the other's


async def test_channel_agents_place_keys_with_the_partitioner(
    make_app: Callable[..., App],
) -> None:
    app = make_app("chan", topic_partitions=4)
    table = app.Table("t", default=int, use_partitioner=True)
    channel = app.channel()
    done: list[str] = []

    @app.agent(channel)
    async def write(stream: Any) -> None:
        async for key in stream:
            table[key] += 1
            done.append(key)

    async with app.running():
        for i in range(20):
            await channel.send(value=f"k{i}")
        await eventually(lambda: len(done) == 20)
        assert len(table.local_partitions) > 1  # not every key in partition 0


async def test_set_tables_keep_tuple_members(make_app: Callable[..., App]) -> None:
    app = make_app("tuples")
    pairs = app.SetTable("pairs", use_partitioner=True)
    async with app.running():
        pairs["k"].add(("a", 1))
        await app.conductor.checkpoint()
    again = make_app("tuples")
    pairs2 = again.SetTable("pairs", use_partitioner=True)
    async with again.running():
        assert pairs2["k"] == {("a", 1)}


async def test_global_tables_call_on_recover_and_on_changelog_event(
    make_app: Callable[..., App],
) -> None:
    app = make_app("gcb")
    config = app.GlobalTable("config")
    async with app.running():
        config["x"] = 1
        await app.conductor.checkpoint()
    events: list[Any] = []
    recovered: list[bool] = []

    async def on_event(event: Any) -> None:
        events.append((event.key, event.value))

    async def on_recover() -> None:
        recovered.append(True)

    again = make_app("gcb")
    again.GlobalTable("config", on_changelog_event=on_event, on_recover=on_recover)
    async with again.running():
        await eventually(lambda: events == [("x", 1)])
    assert recovered == [True]


async def test_a_standby_keeps_a_warm_copy_and_takes_over_with_the_tail_only(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    apps = [make_app("standby", topic_partitions=2) for _ in range(2)]
    tables = []
    for app in apps:
        words = app.topic("swords", key_type=str, value_type=str)
        counts = app.Table("counts", default=int)
        tables.append(counts)

        @app.agent(words, name="count")
        async def count(stream: Any, counts: Any = counts) -> None:
            async for word in stream:
                counts[word] += 1

    words = apps[0].topic("swords", key_type=str, value_type=str)
    keys = [f"w{i}" for i in range(20)]
    async with apps[0].running():
        async with apps[1].running():
            await eventually(lambda: bool(apps[1].tables._standby))
            for key in keys:
                await words.send(key=key, value=key)
            await eventually(lambda: sum(tables[0].values()) + sum(tables[1].values()) == 20)
            for app in apps:
                await app.conductor.checkpoint()
            # the standby's copy of the other worker's partition follows its changelog
            standby_tp = next(iter(apps[1].tables._standby))
            store = tables[1].shard(standby_tp.partition).store
            await eventually(lambda: store.size() > 0)
            caplog.clear()
            caplog.set_level(logging.INFO, "strm.tables")
        # the second worker left: the first takes its partition over, already warm
        await eventually(lambda: sum(tables[0].values()) == 20)
        assert tables[0].as_dict() == dict.fromkeys(keys, 1)
    replayed = [
        r.getMessage() for r in caplog.records if "changelog records to replay" in r.getMessage()
    ]
    assert "nothing to replay" in caplog.text or replayed


async def test_a_recovery_that_fails_stops_the_start_with_its_error(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, words, _counts, seen = word_count(make_app)
    async with app.running():
        for word in ["a", "b", "a"]:
            await words.send(key=word, value=word)
        await eventually(lambda: len(seen) == 3)

    from strm.builtins.memory_store import MemoryStore

    def broken_disk(self: Any, *args: Any, **kwargs: Any) -> None:
        raise StoreError("the disk is full")

    monkeypatch.setattr(MemoryStore, "write_batch", broken_disk)
    again, _words, _counts2, _seen = word_count(make_app)
    with pytest.raises(StoreError, match="the disk is full"):
        await again.start()
    assert not again.is_running  # no partial table is served
