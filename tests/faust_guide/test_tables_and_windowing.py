"""Faust's "Tables and Windowing" chapter, written as a Faust user would: ``import strm as
faust`` is the only change from a Faust application."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import strm as faust
from strm.builtins.memory_transport import drop_broker, unique_url
from strm.testing import eventually

MINUTE = 60.0


@pytest.fixture
def app(tmp_path: Path) -> Iterator[faust.App]:
    url = unique_url("guide-tables")
    yield faust.App(
        "guide-tables",
        broker=url,
        store="memory://",
        datadir=str(tmp_path),
        topic_partitions=1,
    )
    drop_broker(url)


class Withdrawal(faust.Record, serializer="json"):
    user: str
    country: str
    amount: float


async def test_a_table_with_a_default_counts_per_key(app: faust.App) -> None:
    withdrawals_topic = app.topic("guide-withdrawals", value_type=Withdrawal)
    user_to_total = app.Table("user_to_total", default=int, help="Total withdrawn per user.")
    country_to_total = app.Table("country_to_total", default=int)
    done: list[Withdrawal] = []

    @app.agent(withdrawals_topic)
    async def track_user_withdrawal(withdrawals: Any) -> None:
        async for withdrawal in withdrawals:
            user_to_total[withdrawal.user] += withdrawal.amount
            done.append(withdrawal)

    @app.agent()
    async def track_country_withdrawal(withdrawals: Any) -> None:
        async for withdrawal in withdrawals.group_by(Withdrawal.country):
            country_to_total[withdrawal.country] += withdrawal.amount

    async with app.running():
        for user, country, amount in [("alice", "NO", 10), ("bob", "SE", 5), ("alice", "NO", 2)]:
            await withdrawals_topic.send(
                key=user, value=Withdrawal(user=user, country=country, amount=amount)
            )
            await track_country_withdrawal.send(
                value=Withdrawal(user=user, country=country, amount=amount)
            )
        await eventually(lambda: len(done) == 3)
        await eventually(lambda: country_to_total.as_dict() == {"NO": 12, "SE": 5})
        assert user_to_total["alice"] == 12 and user_to_total["carol"] == 0
        assert user_to_total.as_dict() == {"alice": 12, "bob": 5}
        assert "| alice | 12.0  |" in user_to_total.as_ansitable(sort=True)


class PageView(faust.Record, serializer="json"):
    page: str


async def test_a_tumbling_window_counts_page_views_per_minute(app: faust.App) -> None:
    page_views_topic = app.topic("guide-page-views", value_type=PageView)
    closed: list[tuple[Any, Any]] = []

    def window_processor(key: Any, count: int) -> None:
        page, (start, _end) = key
        closed.append((page, start, count))

    page_views = app.Table("page_views", default=int, on_window_close=window_processor).tumbling(
        timedelta(minutes=1), expires=timedelta(hours=1)
    )
    seen: list[tuple[int, int, int]] = []

    @app.agent(page_views_topic)
    async def count_page_views(views: Any) -> None:
        async for view in views.group_by(PageView.page):
            page_views[view.page] += 1
            windows = page_views[view.page]
            seen.append((windows.current(), windows.now(), windows.delta(timedelta(minutes=1))))

    async with app.running():
        # two views in the first minute, one in the second
        for at in [5.0, 30.0, MINUTE + 5.0]:
            await page_views_topic.send(value=PageView(page="/home"), timestamp=at)
        await eventually(lambda: len(seen) == 3)
        assert seen == [(1, 1, 0), (2, 2, 0), (1, 1, 2)]
        await app.tables.cleanup()
        assert closed == [("/home", 0.0, 2)]


async def test_windowed_tables_read_relative_to_the_stream_or_the_clock(app: faust.App) -> None:
    clicks_topic = app.topic("guide-clicks", key_type=str, value_type=int)
    clicks = app.Table("clicks", default=int).tumbling(10.0, expires=timedelta(minutes=5))
    by_stream = clicks.relative_to_stream()
    readings: list[Any] = []

    @app.agent(clicks_topic)
    async def count_clicks(stream: Any) -> None:
        async for user, n in stream.items():
            by_stream[user] += n
            readings.append((by_stream[user].value(), dict(by_stream.items())))

    live = app.Table("live", default=int, use_partitioner=True).tumbling(3600).relative_to_now()

    async with app.running():
        for at, n in [(1.0, 2), (2.0, 3), (11.0, 1)]:
            await clicks_topic.send(key="u", value=n, timestamp=at)
        await eventually(lambda: len(readings) == 3)
        assert readings == [(2, {"u": 2}), (5, {"u": 5}), (1, {"u": 1})]
        live["visitors"] += 4
        assert live["visitors"].now() == 4  # outside a stream: the wall clock
        assert dict(live.items()) == {"visitors": 4}


async def test_a_global_table_is_read_whole_on_every_worker(app: faust.App) -> None:
    settings = app.GlobalTable("settings", default=str, partitions=1)

    async with app.running():
        settings["color"] = "blue"
        await eventually(lambda: settings["color"] == "blue")
        assert settings.as_dict() == {"color": "blue"}
        assert "| color | blue  |" in settings.as_ansitable()


async def test_a_set_table_collects_members_per_key(app: faust.App) -> None:
    tags_topic = app.topic("guide-tags", key_type=str, value_type=str)
    tags = app.SetTable("tags")
    done: list[str] = []

    @app.agent(tags_topic)
    async def tag(stream: Any) -> None:
        async for article, tag_name in stream.items():
            tags[article].add(tag_name)
            done.append(tag_name)

    async with app.running():
        for article, tag_name in [("a1", "python"), ("a1", "kafka"), ("a2", "python")]:
            await tags_topic.send(key=article, value=tag_name)
        await eventually(lambda: len(done) == 3)
        assert tags.as_dict() == {"a1": {"python", "kafka"}, "a2": {"python"}}
