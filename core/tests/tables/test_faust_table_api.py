"""Faust's table and window API: durations, table options, window-close keys, WindowSet and
windowed views, text tables and the on_key_* hooks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from strm import Record
from strm.app import App
from strm.events import Event
from strm.kernel.errors import SettingNotSupportedError, StrmError
from strm.tables.table import Table
from strm.tables.windows import (
    HoppingWindow,
    SessionWindow,
    SlidingWindow,
    TumblingWindow,
    WindowKey,
)
from strm.testing import eventually

# -- 1. durations and table options -----------------------------------------------------------


def test_windows_take_seconds_or_timedeltas_positionally_as_in_faust() -> None:
    tumbling = TumblingWindow(timedelta(minutes=1), timedelta(hours=1))
    assert (tumbling.size, tumbling.expires) == (60.0, 3600.0)
    hopping = HoppingWindow(timedelta(seconds=10), 5, timedelta(minutes=2))
    assert (hopping.size, hopping.step, hopping.expires) == (10.0, 5.0, 120.0)
    sliding = SlidingWindow(timedelta(seconds=5), 1.5, timedelta(seconds=30))
    assert (sliding.before, sliding.after, sliding.expires) == (5.0, 1.5, 30.0)
    assert SessionWindow(timedelta(seconds=3)).gap == 3.0
    assert TumblingWindow(10, grace=timedelta(seconds=2)).grace == 2.0
    assert HoppingWindow(10, 5).earliest(12) == (5, 15)
    assert HoppingWindow(10, 5).current(12) == (10, 20)
    assert HoppingWindow(10, 5).delta(12, timedelta(seconds=5)) == (5, 15)
    with pytest.raises(StrmError, match="must be seconds"):
        TumblingWindow("60")  # type: ignore[arg-type]


async def test_windowing_calls_take_timedeltas(make_app: Callable[..., App]) -> None:
    app = make_app()
    minute = app.Table("per-minute", default=int).tumbling(
        timedelta(minutes=1), expires=timedelta(hours=1)
    )
    assert (minute.window.size, minute.window.expires) == (60.0, 3600.0)
    hop = app.Table("hop", default=int).hopping(timedelta(seconds=10), timedelta(seconds=5), 60)
    assert (hop.window.size, hop.window.step, hop.window.expires) == (10.0, 5.0, 60.0)
    own = app.Table("own", default=int).using_window(TumblingWindow(timedelta(seconds=30)))
    assert own.window.size == 30.0 and own.name == "own"


async def test_faust_table_options(make_app: Callable[..., App]) -> None:
    app = make_app()
    changelog = app.topic("my-own-changelog", partitions=3, compacting=True, internal=True)

    async def recovered() -> None:
        return None

    table = app.Table(
        "opts",
        default=int,
        help="Counts per user.",
        changelog_topic=changelog,
        recover_callbacks={recovered},
        key_type=str,
        value_type=int,
        extra_topic_configs={"min.insync.replicas": 2},
        use_partitioner=True,
    )
    assert table.help == "Counts per user."
    assert table.partitions == 3  # from the changelog topic
    assert table.changelog_topic is changelog
    assert table.changelog_topic_name == "my-own-changelog"
    assert table._recover_callbacks == [recovered]
    with pytest.raises(StrmError, match="has 2 partitions, but its changelog_topic"):
        app.Table("mismatch", partitions=2, changelog_topic=changelog)


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ({"recovery_buffer_size": 10}, "recovery_buffer_size and standby_buffer_size"),
        ({"standby_buffer_size": 10}, "recovery_buffer_size and standby_buffer_size"),
        ({"window": TumblingWindow(10)}, "window= is not supported yet"),
        ({"is_global": True}, "create the table with app.GlobalTable"),
    ],
)
async def test_faust_table_options_strm_cannot_honour_yet_raise(
    make_app: Callable[..., App], argument: dict[str, Any], message: str
) -> None:
    app = make_app()
    with pytest.raises(SettingNotSupportedError, match=message):
        app.Table("unsupported", **argument)


async def test_a_custom_changelog_topic_carries_the_table(make_app: Callable[..., App]) -> None:
    app = make_app("custom-changelog", topic_partitions=1)
    words = app.topic("cwords", key_type=str, value_type=str)
    changelog = app.topic("word-counts-log", partitions=1, compacting=True, internal=True)
    counts = app.Table("counts", default=int, changelog_topic=changelog)
    seen: list[str] = []

    @app.agent(words)
    async def count(stream: Any) -> None:
        async for word in stream:
            counts[word] += 1
            seen.append(word)

    async with app.running():
        for word in ["a", "b", "a"]:
            await words.send(key=word, value=word)
        await eventually(lambda: len(seen) == 3)
    again = make_app("custom-changelog", topic_partitions=1)
    log = again.topic("word-counts-log", partitions=1, compacting=True, internal=True)
    restored = again.Table("counts", default=int, changelog_topic=log)
    async with again.running():
        assert restored.as_dict() == {"a": 2, "b": 1}


# -- 2. on_window_close gets Faust's (key, (start, end)) ---------------------------------------


async def test_on_window_close_receives_key_and_window_range(
    make_app: Callable[..., App],
) -> None:
    app = make_app("closing", topic_partitions=1)
    clicks = app.topic("close-clicks", key_type=str, value_type=int)
    closed: list[tuple[Any, Any]] = []

    def on_close(key: Any, value: Any) -> None:
        user, (start, end) = key  # Faust's shape
        closed.append(((user, (start, end)), value))

    counts = app.Table("closing", default=int, on_window_close=on_close).tumbling(10)
    seen: list[int] = []

    @app.agent(clicks)
    async def count(stream: Any) -> None:
        async for user, _ in stream.items():
            counts[user] += 1
            seen.append(1)

    async with app.running():
        for t in [1.0, 2.0, 15.0]:
            await clicks.send(key="u", value=1, timestamp=t)
        await eventually(lambda: len(seen) == 3)
        await app.tables.cleanup()
    assert closed == [(("u", (0.0, 10.0)), 2)]
    assert WindowKey("u", (0.0, 10.0)) == ("u", (0.0, 10.0))


# -- 3. WindowSet, relative time and the windowed views ----------------------------------------


async def run_hopping(
    make_app: Callable[..., App],
    times: list[float],
    read: Callable[[Any, Event], Any],
    *,
    default: Callable[[], Any] | None = int,
    setup: Callable[[Any], Any] = lambda wrapper: wrapper,
) -> list[Any]:
    """Count clicks of key 'u' in hopping windows of 10 s every 5 s (without a default, set
    the windows to 1); ``read(wrapper, event)`` runs after each update."""
    app = make_app("hop", topic_partitions=1)
    clicks = app.topic("hop-clicks", key_type=str, value_type=int)
    wrapper = setup(app.Table("hop", default=default).hopping(10, 5, expires=100))
    results: list[Any] = []

    @app.agent(clicks)
    async def count(stream: Any) -> None:
        async for event in stream.events():
            if default is None:
                wrapper[event.key] = 1
            else:
                wrapper[event.key] += 1
            results.append(read(wrapper, event))

    async with app.running():
        for t in times:
            await clicks.send(key="u", value=0, timestamp=t)
        await eventually(lambda: len(results) == len(times))
    return results


async def test_now_reads_the_earliest_window_of_the_partitions_stream_time(
    make_app: Callable[..., App],
) -> None:
    def read(counts: Any, event: Event) -> Any:
        windows = counts["u"]
        return windows.now(), windows.current(), windows.value(), windows.delta(5)

    results = await run_hopping(make_app, [7.0, 12.0, 1.0, 6.0], read)
    # at 12 the windows are [5, 15) (the earliest: 7 and 12) and [10, 20) (the latest: 12)
    assert results[1] == (2, 1, 1, 2)
    # events older than stream time: now() still reads the earliest window of 12, [5, 15);
    # 1.0 only falls in windows closed by 12: it is late, and read at its own time, 1.0 (and
    # 5 s before it) finds nothing
    assert results[2] == (2, 1, 1, 0)
    # 6.0 is in [5, 15), now 3 clicks, which is also its current window; 5 s before it,
    # [0, 10) holds 7.0
    assert results[3] == (3, 3, 3, 1)


async def test_delta_takes_timedeltas_and_windowsets_index_by_event_and_range(
    make_app: Callable[..., App],
) -> None:
    def read(counts: Any, event: Event) -> Any:
        windows = counts["u"]
        return windows.delta(timedelta(seconds=5)), windows[event].current(), windows[(5, 15)]

    results = await run_hopping(make_app, [7.0, 12.0], read)
    assert results == [(1, 1, 1), (2, 1, 2)]


async def test_a_windowed_read_without_default_raises_key_error(
    make_app: Callable[..., App],
) -> None:
    def read(counts: Any, event: Event) -> Any:
        with pytest.raises(KeyError):
            counts["nobody"].current()
        return counts["u"].current()

    assert await run_hopping(make_app, [7.0], read, default=None) == [1]


async def test_relative_to_a_fixed_time_a_field_and_the_stream(
    make_app: Callable[..., App],
) -> None:
    class Visit(Record):
        page: str
        at: datetime

    app = make_app("relative", topic_partitions=1)
    visits = app.topic("visits", value_type=Visit)
    table = app.Table("visits", default=int).tumbling(60, expires=timedelta(days=1))
    noon = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    by_field = table.relative_to_field(Visit.at)
    at_noon = table.relative_to(noon)
    at_seconds = table.relative_to(noon.timestamp() + 60)
    by_function = table.relative_to(lambda event: event.value.at)
    seen: list[Any] = []

    @app.agent(visits)
    async def count(stream: Any) -> None:
        async for visit in stream:
            by_field[visit.page] += 1
            seen.append(
                (
                    at_noon[visit.page].value(),
                    at_seconds[visit.page].value(),
                    by_function[visit.page].value(),
                    by_field.relative_to_stream()[visit.page].value(),
                )
            )

    async with app.running():
        await visits.send(value=Visit(page="/", at=noon + timedelta(seconds=5)), timestamp=1.0)
        await visits.send(value=Visit(page="/", at=noon + timedelta(seconds=65)), timestamp=2.0)
        await eventually(lambda: len(seen) == 2)
    # (the noon minute, the next minute, the visit's minute, the minute of timestamp 1 or 2)
    assert seen == [(1, 0, 1, 0), (1, 1, 1, 0)]
    with pytest.raises(StrmError, match="relative_to takes"):
        table.relative_to("noon")


async def test_windowed_keys_items_and_values(make_app: Callable[..., App]) -> None:
    app = make_app("views", topic_partitions=1)
    clicks = app.topic("view-clicks", key_type=str, value_type=int)
    counts = app.Table("views", default=int).hopping(10, 5, expires=100)
    listed: list[Any] = []

    @app.agent(clicks)
    async def count(stream: Any) -> None:
        async for event in stream.events():
            counts[event.key] += 1
            if event.message.timestamp == 12.0:
                items = counts.items()
                listed.append(
                    (
                        dict(items),
                        dict(items.now()),
                        dict(items.current()),
                        dict(items.delta(5)),
                        sorted(counts.keys()),
                        sorted(counts.keys().now()),
                        sorted(counts.values()),
                        sorted(counts.values().delta(timedelta(seconds=5))),
                        len(counts),
                        "a" in counts,
                        "zzz" in counts,
                        WindowKey("a", (5.0, 15.0)) in counts,
                    )
                )

    async with app.running():
        for key, t in [("a", 7.0), ("b", 8.0), ("a", 12.0)]:
            await clicks.send(key=key, value=0, timestamp=t)
        await eventually(lambda: len(listed) == 1)
    # at 12: current window [10, 20) has a:1 (b: default 0); earliest [5, 15) has a:2, b:1
    assert listed == [
        (
            {"a": 1, "b": 0},
            {"a": 2, "b": 1},
            {"a": 1, "b": 0},
            {"a": 2, "b": 1},
            ["a", "b"],
            ["a", "b"],
            [0, 1],
            [1, 2],
            2,
            True,
            False,
            True,
        )
    ]


async def test_windowed_views_leave_out_keys_without_a_value_when_there_is_no_default(
    make_app: Callable[..., App],
) -> None:
    def read(counts: Any, event: Event) -> Any:
        return dict(counts.items()), dict(counts.items().delta(100))

    assert await run_hopping(make_app, [7.0], read, default=None) == [({"u": 1}, {})]


# -- 4. as_ansitable --------------------------------------------------------------------------


async def test_tables_draw_as_text(make_app: Callable[..., App]) -> None:
    app = make_app("draw", topic_partitions=1)
    words = app.topic("draw-words", key_type=str, value_type=str)
    counts = app.Table("word_counts", default=int)
    tags = app.SetTable("tags")
    config = app.GlobalTable("config", partitions=1)
    seen: list[str] = []

    @app.agent(words)
    async def count(stream: Any) -> None:
        async for word in stream:
            counts[word] += 1
            tags[word].add(len(word))
            seen.append(word)

    async with app.running():
        for word in ["kiwi", "apple", "kiwi"]:
            await words.send(key=word, value=word)
        await eventually(lambda: len(seen) == 3)
        config["mode"] = "fast"
        assert counts.as_ansitable(sort=True) == "\n".join(
            [
                "+Word Counts----+",
                "| Key   | Value |",
                "+-------+-------+",
                "| apple | 1     |",
                "| kiwi  | 2     |",
                "+-------+-------+",
            ]
        )
        assert counts.as_ansitable(
            title="Words of {table.name}", key="word", value="times", sort=True
        ).splitlines()[:3] == [
            "+Words Of Word Counts+",
            "| Word  | Times      |",
            "+-------+------------+",
        ]
        assert "| kiwi  | {4}   |" in tags.as_ansitable(sort=True)
        assert "| mode | fast  |" in config.as_ansitable()


async def test_a_windowed_table_draws_its_current_windows(make_app: Callable[..., App]) -> None:
    def read(counts: Any, event: Event) -> Any:
        return counts.as_ansitable(title="Clicks", sort=True)

    drawn = await run_hopping(make_app, [7.0, 12.0], read)
    # at 12 the window of the stream's time is [10, 20), which has one click
    assert drawn[1].splitlines() == [
        "+Clicks-------+",
        "| Key | Value |",
        "+-----+-------+",
        "| u   | 1     |",
        "+-----+-------+",
    ]


# -- 5. on_key_get / on_key_set / on_key_del --------------------------------------------------


class AuditedTable(Table):
    """Records every access, as a Faust subclass overriding the hooks would."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log: list[tuple[Any, ...]] = []

    def on_key_get(self, key: Any) -> None:
        self.log.append(("get", key))

    def on_key_set(self, key: Any, value: Any) -> None:
        self.log.append(("set", key, value))

    def on_key_del(self, key: Any) -> None:
        self.log.append(("del", key))


async def test_key_hooks_are_called_on_every_get_set_and_delete(
    make_app: Callable[..., App],
) -> None:
    app = make_app("hooks", topic_partitions=1)
    words = app.topic("hook-words", key_type=str, value_type=str)
    audited = app.tables.add(AuditedTable(app, name="audited", default=int))
    assert isinstance(audited, AuditedTable)
    seen: list[str] = []

    @app.agent(words)
    async def count(stream: Any) -> None:
        async for word in stream:
            audited[word] += 1
            audited.get("other")
            del audited[word]
            seen.append(word)

    async with app.running():
        await words.send(key="w", value="w")
        await eventually(lambda: len(seen) == 1)
    assert audited.log == [("get", "w"), ("set", "w", 1), ("get", "other"), ("del", "w")]


async def test_key_hooks_see_window_keys_and_cost_nothing_when_not_overridden(
    make_app: Callable[..., App],
) -> None:
    app = make_app("whooks", topic_partitions=1)
    clicks = app.topic("whook-clicks", key_type=str, value_type=int)
    audited = app.tables.add(AuditedTable(app, name="waudited", default=int))
    assert isinstance(audited, AuditedTable)
    windowed = audited.tumbling(10)
    plain = app.Table("plain", default=int)
    assert (plain.key_get_hook, plain.key_set_hook, plain.key_del_hook) == (None, None, None)
    seen: list[int] = []

    @app.agent(clicks)
    async def count(stream: Any) -> None:
        async for user, _ in stream.items():
            windowed[user] += 1
            seen.append(windowed[user].current())
            del windowed[user]

    async with app.running():
        await clicks.send(key="u", value=1, timestamp=3.0)
        await eventually(lambda: len(seen) == 1)
    window_key = ("u", (0.0, 10.0))
    assert audited.log == [("set", window_key, 1), ("get", window_key), ("del", window_key)]
