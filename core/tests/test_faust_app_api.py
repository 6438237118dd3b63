"""Faust's App attributes, written as Faust users write them: signals, rebalancing, should_stop,
sleep, finalize, flow_control, producer, consumer, loop, and timers of any callable."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import strm as faust
from strm.app import App
from strm.kernel.errors import ConfigurationError
from strm.kernel.spi import TP

AppFactory = Callable[..., App]


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_rebalance_signals_reach_their_receivers_with_the_app_and_the_partitions(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory()
    topic = app.topic("orders", partitions=2)
    app.Table("totals", default=int, partitions=2)
    calls: list[tuple[str, Any]] = []

    @app.agent(topic)
    async def orders(stream: Any) -> None:
        async for _ in stream:
            pass

    @app.on_partitions_assigned.connect
    async def on_assigned(sender: App, assigned: set[TP], **kwargs: Any) -> None:
        assert sender is app and kwargs["signal"] is app.on_partitions_assigned
        calls.append(("assigned", {tp for tp in assigned if tp.topic == "orders"}))

    @app.on_rebalance_complete.connect
    async def on_complete(sender: App, **kwargs: Any) -> None:
        calls.append(("complete", app.rebalancing))

    @app.on_partitions_revoked.connect
    def on_revoked(sender: App, revoked: set[TP], **kwargs: Any) -> None:  # sync works too
        calls.append(("revoked", {tp for tp in revoked if tp.topic == "orders"}))

    async with app.running():
        await _until(lambda: ("complete", False) in calls)
        assert calls[0] == ("assigned", {TP("orders", 0), TP("orders", 1)})
        assert not app.rebalancing
    assert ("revoked", {TP("orders", 0), TP("orders", 1)}) in calls


async def test_a_raising_signal_receiver_is_logged_and_the_worker_goes_on(
    strm_app_factory: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = strm_app_factory()
    topic = app.topic("t", partitions=1)
    heard: list[str] = []

    @app.agent(topic)
    async def agent(stream: Any) -> None:
        async for value in stream:
            heard.append(value)

    @app.on_partitions_assigned.connect
    async def broken(sender: App, assigned: set[TP], **kwargs: Any) -> None:
        raise RuntimeError("listener bug")

    @app.on_partitions_assigned.connect
    async def fine(sender: App, assigned: set[TP], **kwargs: Any) -> None:
        heard.append("fine")

    async with app.running():
        await topic.send(value="v")
        await _until(lambda: "v" in heard)
    assert "fine" in heard and app.crash_error is None
    assert "a receiver of App.on_partitions_assigned" in caplog.text
    assert "RuntimeError: listener bug" in caplog.text


def test_configuration_signals_in_faust_order_and_class_level_receivers_hear_every_app(
    strm_app_factory: AppFactory,
) -> None:
    order: list[str] = []

    def everywhere(sender: App, **kwargs: Any) -> None:
        order.append(f"class:{sender.conf.id if sender.configured else '?'}")

    faust.App.on_after_configured.connect(everywhere)
    try:
        app = strm_app_factory("first")

        @app.on_before_configured.connect
        def before(sender: App, **kwargs: Any) -> None:
            order.append("before")

        @app.on_configured.connect
        def configured(sender: App, conf: Any, **kwargs: Any) -> None:
            order.append(f"configured:{conf.id}")

        app.finalize()
        other = strm_app_factory("second")
        other.configure()
    finally:
        faust.App.on_after_configured.disconnect(everywhere)
    assert order == ["before", "configured:first", "class:first", "class:second"]


async def test_on_before_shutdown_runs_after_the_consumer_left_and_may_still_send(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory()
    out = app.topic("farewells", partitions=1)
    seen: list[Any] = []

    @app.on_before_shutdown.connect
    async def last_words(sender: App, **kwargs: Any) -> None:
        seen.append(app.conductor.consumer)
        await out.send(value="bye")

    async with app.running():
        pass
    assert seen == [None]
    broker = app.transport().broker
    logs = broker.topics["farewells"].logs  # not declared by an agent: made on first send
    assert [m.value for log in logs for m in log] == [b'"bye"']


async def test_on_produce_message_hears_every_record(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    topic = app.topic("produced", partitions=1, key_serializer="raw", value_serializer="raw")
    produced: list[dict[str, Any]] = []

    @app.on_produce_message.connect
    def on_produce(sender: App, **kwargs: Any) -> None:
        produced.append({k: kwargs[k] for k in ("key", "value", "partition")})

    async with app.running():
        await topic.send(key=b"k", value=b"v")
    assert produced == [{"key": b"k", "value": b"v", "partition": 0}]


async def test_should_stop_and_sleep_end_a_task_loop_when_the_app_stops(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory()
    laps: list[int] = []

    @app.task
    async def poller(app: App) -> None:
        while not app.should_stop:
            laps.append(len(laps))
            await app.sleep(timedelta(hours=1))  # returns at stop, not in an hour

    async with app.running():
        await _until(lambda: laps == [0])
        assert not app.should_stop
    async with asyncio.timeout(5):
        await app.stop()
    assert laps == [0]


async def test_flow_control_suspends_and_resumes_delivery(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    topic = app.topic("t", partitions=1)
    seen: list[int] = []

    @app.agent(topic)
    async def agent(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    async with app.running():
        await topic.send(value=1)
        await _until(lambda: seen == [1])
        app.flow_control.suspend()
        assert not app.flow_control.is_active()
        await topic.send(value=2)
        for _ in range(20):  # bounded: 20 turns of the fetch loop
            await asyncio.sleep(0.02)
        assert seen == [1]
        waiter = asyncio.ensure_future(app.flow_control.acquire())
        await asyncio.sleep(0)
        assert not waiter.done()
        app.flow_control.resume()
        await _until(lambda: seen == [1, 2])
        await asyncio.wait_for(waiter, 1)


async def test_the_producer_sends_bytes_as_fausts_does(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    app.topic("raw", partitions=2)
    async with app.running():
        delivery = await app.producer.send("raw", b"k", b"v", 1, None, {"h": b"1"})
        metadata = await delivery
        assert (metadata.topic, metadata.partition) == ("raw", 1)
        again = await app.producer.send_and_wait("raw", None, b"w", partition=0)
        assert again.partition == 0
        await app.producer.flush()
        with pytest.raises(ValueError, match="one transaction per app instance"):
            await app.producer.send("raw", None, b"x", transactional_id="other")
    messages = app.transport().broker.log(TP("raw", 1))
    assert [(m.key, m.value, list(m.headers)) for m in messages] == [(b"k", b"v", [("h", b"1")])]


async def test_the_consumer_and_the_loop(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    topic = app.topic("two-partitions", partitions=2)

    @app.agent(topic)
    async def agent(stream: Any) -> None:
        async for _ in stream:
            pass

    with pytest.raises(RuntimeError, match="no consumer until it is started"):
        _ = app.consumer
    assert app.loop is asyncio.get_running_loop()
    async with app.running():
        assert {TP("two-partitions", 0), TP("two-partitions", 1)} <= app.consumer.assignment()


def test_the_loop_outside_a_running_one_is_the_apps_own(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    loop = app.loop
    try:
        assert app.loop is loop
        assert loop.run_until_complete(asyncio.sleep(0, result=7)) == 7
    finally:
        loop.close()


class _Poller:
    def __init__(self) -> None:
        self.ticks = 0

    async def tick(self) -> None:
        self.ticks += 1


class _CallableJob:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, app: App) -> None:
        self.calls += 1


async def test_timers_and_tasks_take_any_callable(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    poller = _Poller()
    job = _CallableJob()
    seen: list[str] = []

    async def greet(greeting: str) -> None:
        seen.append(greeting)

    app.timer(0.02, traced=False, max_drift_correction=0.2)(poller.tick)
    app.task(functools.partial(greet, "hello"))
    app.task(job)
    app.crontab("* * * * *", traced=True, name="cron-greet")(functools.partial(greet, "cron"))
    assert [j.name for j in app.background.jobs] == [
        f"{__name__}._Poller.tick",
        f"{__name__}.test_timers_and_tasks_take_any_callable.<locals>.greet",
        f"{__name__}._CallableJob",
        "cron-greet",
    ]
    async with app.running():
        await _until(lambda: poller.ticks >= 2 and seen == ["hello"] and job.calls == 1)


def test_a_sync_callable_is_still_refused(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    with pytest.raises(ConfigurationError, match="needs an 'async def' function"):
        app.task(functools.partial(print, "x"))


def test_signals_repr_and_labels(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    assert repr(faust.App.on_rebalance_complete) == "<Signal: App.on_rebalance_complete>"
    assert "sender=<strm.App 'test-app'" in repr(app.on_rebalance_complete)
