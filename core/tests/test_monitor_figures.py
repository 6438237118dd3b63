"""The Monitor's instruments: the duration window's percentiles and the rate window, with a
clock the test moves; and the event-loop lag sampler against a loop really blocked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from strm.app import App
from strm.builtins.memory_transport import drop_broker, unique_url
from strm.monitor_snapshot import EMPTY_DISTRIBUTION
from strm.runtime.monitor_figures import Rates, Window
from strm.testing import eventually
from strm.testing.pytest_plugin import AppFactory


def test_window_percentiles_by_nearest_rank_over_the_latest_samples() -> None:
    window = Window(size=100)
    assert window.distribution() == EMPTY_DISTRIBUTION
    for i in range(1, 201):  # 1..200: the window keeps 101..200
        window.add(i / 1000)
    d = window.distribution()
    assert d.count == 100
    assert (d.p50, d.p99, d.max) == (0.150, 0.199, 0.200)
    assert d.avg == pytest.approx(0.1505)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rates_are_over_the_window_once_it_is_full() -> None:
    clock = FakeClock()
    rates = Rates(window=10.0, clock=clock)
    clock.now += 4
    assert rates.per_second({"events": 400}) == {"events": 100.0}  # young: since the start
    total = 0
    for second in range(30):  # 100/s for 20 s, then 10/s
        clock.now += 1
        total += 100 if second < 20 else 10
        rates.sample({"events": total})
    assert rates.per_second({"events": total}) == {"events": pytest.approx(10.0)}
    assert len(rates._samples) <= 12  # bounded: one sample older than the window is kept


@pytest.fixture
def broker_url() -> Iterator[str]:
    url = unique_url("loop-lag")
    yield url
    drop_broker(url)


async def test_a_blocked_loop_shows_in_the_loop_lag(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app: App = strm_app_factory("lagged", broker=broker_url)

    @app.timer(0.5)
    async def block() -> None:
        time.sleep(0.3)  # what a careless agent does: the whole loop waits

    async with app.running():
        await eventually(lambda: app.monitor.loop_lag_window.distribution().max >= 0.25, 10)
        snap = app.monitor.snapshot()
    assert snap.loop_lag_window.count >= 1
    assert snap.messages_s == 0.0


async def test_sampler_stops_with_the_app(strm_app_factory: AppFactory, broker_url: str) -> None:
    app: App = strm_app_factory("lag-stop", broker=broker_url)
    async with app.running():
        await eventually(lambda: app.monitor.loop_lag_window.distribution().count >= 1, 5)
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "strm-loop-lag"]
