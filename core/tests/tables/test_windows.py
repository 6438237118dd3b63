"""Windowed tables on crafted event times: exact values, lateness, closing and expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from strm import Record
from strm.app import App
from strm.builtins.memory_transport import get_broker
from strm.kernel.errors import StrmError
from strm.tables.windows import HoppingWindow, SlidingWindow, TumblingWindow, WindowKey
from strm.testing import eventually

TIMES = [1.0, 2.0, 9.0, 10.0, 11.0, 14.5, 15.0, 30.0, 3.0]


async def run_clicks(
    make_app: Callable[..., App],
    build: Callable[[App], Callable[[Any], Any]],
    times: list[float],
    check: Callable[[], None] = lambda: None,
) -> tuple[App, list[Any]]:
    """Send one click per time to key 'u' (value = int(time)); ``build`` makes the per-event
    step and returns it; the results of each step are collected; ``check`` runs before the
    app stops (after a cleanup)."""
    app = make_app("win", topic_partitions=1)
    clicks = app.topic("clicks", key_type=str, value_type=int)
    step = build(app)
    results: list[Any] = []

    @app.agent(clicks)
    async def count(stream: Any) -> None:
        async for event in stream.events():
            results.append(step(event))

    async with app.running():
        for t in times:
            await clicks.send(key="u", value=int(t), timestamp=t)
        await eventually(lambda: len(results) == len(times))
        await app.tables.cleanup()
        await app.tables.cleanup()  # a second sweep closes nothing twice
        check()
    return app, results


def test_window_ranges() -> None:
    assert TumblingWindow(10).ranges(9.99) == [(0, 10)]
    assert TumblingWindow(10).ranges(10.0) == [(10, 20)]  # half-open: the end is the next one
    assert TumblingWindow(0.5).ranges(1.2) == [(1.0, 1.5)]  # sub-second windows work
    assert HoppingWindow(10, 5).ranges(12) == [(5, 15), (10, 20)]
    assert HoppingWindow(10, 2).ranges(12) == [(4, 14), (6, 16), (8, 18), (10, 20), (12, 22)]
    assert SlidingWindow(5, 1).current(10) == (5, 11)
    with pytest.raises(StrmError, match="cannot exceed"):
        HoppingWindow(5, 10)
    with pytest.raises(StrmError, match="shorter than grace"):
        TumblingWindow(10, grace=5, expires=1)


async def test_tumbling_counts_closes_once_and_drops_late_events(
    make_app: Callable[..., App],
) -> None:
    closed: list[tuple[WindowKey, int]] = []
    tables: dict[str, Any] = {}

    def build(app: App) -> Callable[[Any], Any]:
        table = app.Table("tum", default=int, on_window_close=lambda k, v: closed.append((k, v)))
        tables["t"] = counts = table.tumbling(10, grace=2)

        def step(event: Any) -> Any:
            counts[event.key] += 1
            return counts[event.key].current()

        return step

    remaining: list[dict[WindowKey, int]] = []
    _, results = await run_clicks(
        make_app, build, TIMES, check=lambda: remaining.append(tables["t"].as_dict())
    )
    assert results == [1, 2, 3, 1, 2, 3, 4, 1, 3]  # the event at 3.0 came after [0, 10) closed
    assert closed == [(WindowKey("u", (0, 10)), 3), (WindowKey("u", (10, 20)), 4)]
    assert tables["t"].state.late_events == 1
    assert remaining == [{WindowKey("u", (30, 40)): 1}]  # the closed windows expired


async def test_hopping_windows(make_app: Callable[..., App]) -> None:
    def build(app: App) -> Callable[[Any], Any]:
        counts = app.Table("hop", default=int).hopping(10, 5, expires=100)

        def step(event: Any) -> Any:
            counts[event.key] += 1
            return counts[event.key].current(), counts[event.key].delta(5)

        return step

    times = TIMES[:7]
    _, results = await run_clicks(make_app, build, times)

    def count_in(start: float, upto: int) -> int:
        return sum(1 for t in times[: upto + 1] if start <= t < start + 10)

    def current_start(t: float) -> float:
        return (t // 5) * 5  # the latest 10 s window (starting every 5 s) containing t

    expected = [
        (count_in(current_start(t), i), count_in(current_start(t - 5), i))
        for i, t in enumerate(times)
    ]
    assert results == expected
    assert [r[0] for r in results] == [1, 2, 1, 1, 2, 3, 1]


async def test_sliding_windows_sum_exactly(make_app: Callable[..., App]) -> None:
    def build(app: App) -> Callable[[Any], Any]:
        sums = app.Table("sli", default=int).sliding(5)

        def step(event: Any) -> Any:
            sums[event.key] += event.value
            return sums[event.key].current()

        return step

    _, results = await run_clicks(make_app, build, TIMES)
    assert results == [1, 3, 9, 19, 30, 35, 50, 30, 3]


async def test_session_windows(make_app: Callable[..., App]) -> None:
    tables: dict[str, Any] = {}

    def build(app: App) -> Callable[[Any], Any]:
        sessions = tables["s"] = app.Table("ses", default=int).session(3, expires=100)

        def step(event: Any) -> Any:
            sessions[event.key] += 1
            return sessions[event.key].current()

        return step

    keys: list[list[WindowKey]] = []
    _, results = await run_clicks(
        make_app, build, TIMES, check=lambda: keys.append(sorted(tables["s"].as_dict()))
    )
    assert results == [1, 2, 1, 2, 3, 1, 2, 1, 2]
    assert keys == [
        [
            WindowKey("u", (1.0, 5.0)),
            WindowKey("u", (9.0, 14.0)),
            WindowKey("u", (14.5, 18.0)),
            WindowKey("u", (30.0, 33.0)),
        ]
    ]


async def test_a_session_bridging_two_sessions_merges_them(make_app: Callable[..., App]) -> None:
    tables: dict[str, Any] = {}

    def build(app: App) -> Callable[[Any], Any]:
        sessions = tables["s"] = app.Table("merge", default=int).session(3, expires=100)

        def step(event: Any) -> Any:
            sessions[event.key] += event.value
            return sessions[event.key].current()

        return step

    keys: list[list[WindowKey]] = []
    _, results = await run_clicks(
        make_app, build, [1.0, 6.0, 3.5], check=lambda: keys.append(list(tables["s"].as_dict()))
    )
    assert results == [1, 6, 1 + 6 + 3]
    assert keys == [[WindowKey("u", (1.0, 9.0))]]


async def test_late_events_go_to_the_late_events_topic(
    make_app: Callable[..., App], broker_url: str
) -> None:
    def build(app: App) -> Callable[[Any], Any]:
        table = app.Table("late", default=int)
        counts = table.tumbling(10, late_events="late-clicks")

        def step(event: Any) -> Any:
            counts[event.key] += 1
            return None

        return step

    await run_clicks(make_app, build, [1.0, 25.0, 2.0])
    late = get_broker(broker_url).topics["late-clicks"]
    records = [m for log in late.logs for m in log]
    assert [(m.key, m.value, m.timestamp) for m in records] == [(b"u", b"2", 2.0)]


async def test_windows_survive_a_restart(make_app: Callable[..., App]) -> None:
    def build(app: App) -> Callable[[Any], Any]:
        counts = app.Table("keep", default=int).tumbling(10, expires=1000)

        def step(event: Any) -> Any:
            counts[event.key] += 1
            return counts[event.key].current()

        return step

    await run_clicks(make_app, build, [1.0, 2.0])
    _, results = await run_clicks(make_app, build, [3.0])
    assert results == [3]


async def test_relative_to_field_and_now(make_app: Callable[..., App]) -> None:
    class Click(Record):
        user: str
        at: datetime

    app = make_app("rel", topic_partitions=1)
    clicks = app.topic("rclicks", value_type=Click)
    table = app.Table("by-field", default=int).tumbling(60)
    by_field = table.relative_to_field(Click.at)
    seen: list[Any] = []

    @app.agent(clicks)
    async def count(stream: Any) -> None:
        async for click in stream:
            by_field[click.user] += 1
            seen.append(by_field[click.user].value())

    async with app.running():
        at = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)
        await clicks.send(value=Click(user="u", at=at), timestamp=1.0)
        await clicks.send(value=Click(user="u", at=at), timestamp=9999.0)
        await eventually(lambda: len(seen) == 2)
        assert seen == [1, 2]  # same minute by the field, whatever the record timestamps
        start = at.timestamp() - 30
        assert list(by_field.as_dict()) == [WindowKey("u", (start, start + 60))]
    now_app = make_app("now")
    now_table = (
        now_app.Table("now", default=int, use_partitioner=True).tumbling(3600).relative_to_now()
    )
    async with now_app.running():
        now_table["k"] += 5
        assert now_table["k"].now() == 5


async def test_sliding_and_session_windows_refuse_assignment(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    sliding = app.Table("s1", default=int).sliding(5).relative_to_now()
    async with app.running():
        with pytest.raises(StrmError, match="cannot be assigned"):
            sliding["k"] = 3


async def test_window_bookkeeping_survives_a_restart(make_app: Callable[..., App]) -> None:
    """Stream time, how far windows are closed and the aggregating operation live in the
    table: after a restart a closed window stays closed and sliding buckets fold the same."""
    closed: list[WindowKey] = []
    tables: dict[str, Any] = {}

    def build(app: App) -> Callable[[Any], Any]:
        table = app.Table("keep", default=int, on_window_close=lambda k, v: closed.append(k))
        tumbling = table.tumbling(10, expires=1000)
        products = app.Table("prod", default=lambda: 1).sliding(100, expires=1000)
        tables["t"] = tumbling

        def step(event: Any) -> Any:
            tumbling[event.key] += 1
            products[event.key] *= 3
            return products[event.key].current()

        return step

    _, first = await run_clicks(make_app, build, [1.0, 25.0])
    assert closed == [WindowKey("u", (0, 10))]
    _, second = await run_clicks(make_app, build, [2.0, 26.0])
    # 2.0 falls in [0, 10), closed before the restart: late, not counted, not closed again
    assert tables["t"].state.late_events == 1
    assert closed == [WindowKey("u", (0, 10))]
    # products fold every bucket within 100 s, with *, also after the restart
    assert first == [3, 9] and second == [9, 81]


async def test_membership_of_a_windowed_table(make_app: Callable[..., App]) -> None:
    app = make_app("member")
    counts = app.Table("m", default=int, use_partitioner=True).tumbling(60).relative_to_now()
    async with app.running():
        counts["k"] += 1
        assert "k" in counts and "other" not in counts
        assert len(list(counts)) == 1


async def test_a_raising_on_window_close_is_logged_and_later_windows_still_close(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    closed: list[WindowKey] = []

    def close(key: WindowKey, value: int) -> None:
        if key.start == 0:
            raise ValueError("cannot report the first window")
        closed.append(key)

    def build(app: App) -> Callable[[Any], Any]:
        counts = app.Table("fragile", default=int, on_window_close=close).tumbling(10)

        def step(event: Any) -> Any:
            counts[event.key] += 1
            return counts[event.key].current()

        return step

    await run_clicks(make_app, build, TIMES)
    assert closed == [WindowKey("u", (10, 20))]
    assert "table 'fragile': on_window_close raised for window" in caplog.text
    assert "cannot report the first window" in caplog.text
