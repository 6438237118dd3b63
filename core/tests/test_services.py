"""``strm.Service`` (mode's ``Service``): callbacks and their order, tasks and timers, dependencies,
crashes, and services run by an app (``@app.service``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from strm.app import App
from strm.kernel.errors import ConfigurationError
from strm.services import Service, ServiceT, want_seconds

AppFactory = Callable[..., App]


async def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Poll ``predicate`` every 5 ms until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.005)


class Recording(Service):
    """Records each callback, and the first step of its background task, in ``events``."""

    def __init__(self, name: str, events: list[str], **kwargs: Any) -> None:
        self.name = name
        self.events = events
        super().__init__(**kwargs)

    def note(self, what: str) -> None:
        self.events.append(f"{self.name}.{what}")

    async def on_first_start(self) -> None:
        self.note("on_first_start")

    async def on_start(self) -> None:
        self.note("on_start")

    async def on_started(self) -> None:
        self.note("on_started")

    async def on_stop(self) -> None:
        self.note("on_stop")

    async def on_shutdown(self) -> None:
        self.note("on_shutdown")

    async def on_restart(self) -> None:
        self.note("on_restart")

    @Service.task
    async def _work(self) -> None:
        self.note("task")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.note("task cancelled")
            raise


# -- life cycle ----------------------------------------------------------------------------------


async def test_start_and_stop_call_the_callbacks_in_modes_order() -> None:
    events: list[str] = []
    parent = Recording("parent", events)
    child = parent.add_dependency(Recording("child", events))
    assert isinstance(child, Recording)

    await parent.start()
    assert parent.started and child.started and parent.state == "running"
    # The task started in on_start's wake runs at the next await of the loop.
    await wait_until(lambda: "child.task" in events and "parent.task" in events)
    assert events[:7] == [
        "parent.on_first_start",
        "parent.on_start",
        "child.on_first_start",
        "child.on_start",
        "child.on_started",
        "parent.on_started",
        # The parent's task was created first, so it runs first.
        "parent.task",
    ]
    events.clear()

    await parent.stop()
    assert events == [
        "parent.on_stop",
        "child.on_stop",
        "child.task cancelled",
        "child.on_shutdown",
        "parent.task cancelled",
        "parent.on_shutdown",
    ]
    assert parent.should_stop and parent.state == "stopping"
    events.clear()
    await parent.stop()  # a second stop does nothing
    assert events == []


async def test_restart_calls_on_restart_between_stop_and_start_and_not_on_first_start() -> None:
    events: list[str] = []
    service = Recording("s", events)
    await service.start()
    await wait_until(lambda: "s.task" in events)
    events.clear()

    await service.restart()
    await wait_until(lambda: "s.task" in events)
    assert events == [
        "s.on_stop",
        "s.task cancelled",
        "s.on_shutdown",
        "s.on_restart",
        "s.on_start",
        "s.on_started",
        "s.task",
    ]
    assert service.restart_count == 1 and service.state == "running"
    await service.stop()


async def test_maybe_start_starts_once_and_start_twice_is_an_error() -> None:
    service = Recording("s", [])
    assert await service.maybe_start() is True
    assert await service.maybe_start() is False
    with pytest.raises(RuntimeError, match="already started"):
        await service.start()
    await service.stop()


async def test_async_with_starts_and_stops_and_the_service_can_run_again() -> None:
    events: list[str] = []
    service = Recording("s", events)
    async with service as entered:
        assert entered is service and service.started
    assert events[-1] == "s.on_shutdown"
    assert not service.started and service.state == "init"  # reset, ready to run again
    events.clear()
    async with service:
        pass
    assert "s.on_first_start" not in events and events[0] == "s.on_start"


async def test_a_start_that_raises_stops_what_had_started() -> None:
    events: list[str] = []

    class Failing(Recording):
        async def on_started(self) -> None:
            raise RuntimeError("no database")

    service = Failing("f", events)
    child = service.add_dependency(Recording("child", events))
    with pytest.raises(RuntimeError, match="no database"):
        await service.start()
    assert "child.on_shutdown" in events and events[-1] == "f.on_shutdown"
    assert child.should_stop


# -- tasks, timers and sleep ---------------------------------------------------------------------


async def test_timers_run_every_interval_and_stop_with_the_service() -> None:
    class Ticking(Service):
        def __post_init__(self) -> None:
            self.seconds: list[float] = []
            self.deltas: list[float] = []

        @Service.timer(0.02)
        async def every_20ms(self) -> None:
            self.seconds.append(asyncio.get_running_loop().time())

        @Service.timer(timedelta(milliseconds=20), exec_first=True)
        async def at_once_then_every_20ms(self) -> None:
            self.deltas.append(asyncio.get_running_loop().time())

    service = Ticking()
    started = asyncio.get_running_loop().time()
    await service.start()
    await wait_until(lambda: len(service.seconds) >= 3)
    await service.stop()
    # The first run of a timer comes one interval after the start; exec_first runs at once.
    assert service.seconds[0] - started >= 0.015
    assert service.deltas[0] - started < 0.015
    runs = len(service.seconds)
    await asyncio.sleep(0.06)
    assert len(service.seconds) == runs  # cancelled at stop


async def test_a_timer_needs_a_positive_interval() -> None:
    with pytest.raises(ConfigurationError, match="positive interval"):
        Service.timer(0)


async def test_a_crontab_with_a_bad_expression_fails_at_class_definition() -> None:
    with pytest.raises(ConfigurationError):
        Service.crontab("61 * * * *")


async def test_a_crontab_task_is_cancelled_at_stop() -> None:
    class Nightly(Service):
        def __post_init__(self) -> None:
            self.runs = 0

        @Service.crontab("0 3 * * *")
        async def at_three(self) -> None:
            self.runs += 1

    service = Nightly()
    await service.start()
    await asyncio.sleep(0)
    (task,) = service._futures
    await service.stop()
    assert task.done() and service.runs == 0


async def test_sleep_returns_early_when_the_service_stops() -> None:
    class Sleeper(Service):
        def __post_init__(self) -> None:
            self.woke_after: float | None = None

        @Service.task
        async def _nap(self) -> None:
            loop = asyncio.get_running_loop()
            began = loop.time()
            await self.sleep(30.0)
            self.woke_after = loop.time() - began

    service = Sleeper()
    # Stopping cancels the tasks; a service waiting for its shutdown flag lets them run first.
    service.wait_for_shutdown = True  # type: ignore[misc]
    await service.start()
    await asyncio.sleep(0.01)
    stopping = asyncio.ensure_future(service.stop())
    await wait_until(lambda: service.woke_after is not None)
    service.set_shutdown()
    await stopping
    assert service.woke_after is not None and service.woke_after < 5.0
    assert service.state == "shutdown"


async def test_wait_until_stopped_returns_when_the_service_stops() -> None:
    service = Recording("s", [])
    await service.start()
    waiting = asyncio.ensure_future(service.wait_until_stopped())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    await service.stop()
    await asyncio.wait_for(waiting, 2.0)


async def test_wait_gives_the_result_or_says_the_service_stopped() -> None:
    service = Recording("s", [])
    await service.start()
    assert await service.wait(asyncio.sleep(0, result=7)) == (7, False)
    assert await service.wait_for_stopped(asyncio.sleep(0)) is False
    stopping = asyncio.get_running_loop().call_later(0.01, lambda: service._stopped.set())
    result = await service.wait(asyncio.sleep(30))
    stopping.cancel()
    assert result.stopped
    await service.stop()


async def test_add_future_runs_a_coroutine_until_the_service_stops() -> None:
    service = Recording("s", [])
    await service.start()
    future = service.add_future(asyncio.sleep(30))
    await service.stop()
    assert future.cancelled()


# -- crashes -------------------------------------------------------------------------------------


class Exploding(Service):
    @Service.task
    async def _explode(self) -> None:
        raise ValueError("boom")


async def test_a_raising_task_crashes_the_service_and_its_tree_with_a_logged_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    parent = Recording("parent", [])
    child = parent.add_dependency(Exploding())
    sibling = parent.add_dependency(Recording("sibling", []))
    with caplog.at_level(logging.ERROR):
        await parent.start()
        await asyncio.wait_for(parent.wait_until_stopped(), 2.0)
    assert child.crashed and parent.crashed and sibling.crashed
    assert parent.should_stop and parent.state == "crashed"
    assert isinstance(parent.crash_reason, ValueError)
    (record,) = [r for r in caplog.records if "Crashed" in r.getMessage()]
    assert record.getMessage().startswith("[^-Exploding]: Crashed reason=ValueError('boom')")
    assert record.exc_info is not None and record.exc_info[1] is child.crash_reason
    await parent.stop()


# -- dependencies --------------------------------------------------------------------------------


async def test_a_runtime_dependency_starts_at_once_in_a_running_service() -> None:
    events: list[str] = []
    parent = Recording("parent", events)
    await parent.start()
    late = await parent.add_runtime_dependency(Recording("late", events))
    assert late.started
    await parent.stop()
    assert late.should_stop
    removed = parent.add_dependency(Recording("removed", events))
    assert await parent.remove_dependency(removed) is removed


async def test_on_init_dependencies_are_added_at_the_first_start() -> None:
    events: list[str] = []

    class WithDependencies(Recording):
        def on_init_dependencies(self) -> list[ServiceT]:
            return [Recording("dependency", self.events)]

    service = WithDependencies("s", events)
    async with service:
        assert "dependency.on_started" in events


async def test_only_services_are_dependencies() -> None:
    with pytest.raises(TypeError, match="a dependency must be a service"):
        Recording("s", []).add_dependency(object())  # type: ignore[arg-type]
    assert isinstance(Recording("s", []), ServiceT)
    assert not isinstance(object(), ServiceT)


async def test_contexts_added_to_a_service_exit_when_it_stops() -> None:
    exited: list[str] = []

    @contextlib.contextmanager
    def plain() -> Iterator[str]:
        yield "plain"
        exited.append("plain")

    @contextlib.asynccontextmanager
    async def asynchronous() -> AsyncIterator[str]:
        yield "async"
        exited.append("async")

    service = Recording("s", [])
    await service.start()
    assert service.add_context(plain()) == "plain"
    assert await service.add_async_context(asynchronous()) == "async"
    with pytest.raises(TypeError, match="add_async_context"):
        service.add_context(asynchronous())  # type: ignore[arg-type]
    await service.stop()
    assert exited == ["plain", "async"]


# -- names, logging and arguments ----------------------------------------------------------------


async def test_log_prefixes_the_label_and_uses_the_logger_of_the_module(
    caplog: pytest.LogCaptureFixture,
) -> None:
    parent = Recording("p", [])
    child = parent.add_dependency(Recording("c", []))
    assert isinstance(child, Service)
    with caplog.at_level(logging.INFO):
        parent.log.info("hello %s", "world")
        child.log.warning("careful")
    hello, careful = caplog.records[-2:]
    assert hello.name == __name__ and hello.getMessage() == "[^Recording]: hello world"
    assert careful.getMessage() == "[^-Recording]: careful" and careful.levelno == logging.WARNING
    assert hello.filename == "test_services.py"  # the caller, not strm/services.py
    assert parent.label == parent.shortlabel == "Recording"
    assert repr(parent) == "<Recording: init>"


async def test_a_class_logger_is_kept_by_the_class_and_its_subclasses() -> None:
    custom = logging.getLogger("custom.services")

    class Own(Service):
        logger = custom

    class Sub(Own):
        pass

    assert Sub().log.logger is custom
    assert Recording("r", []).log.logger is logging.getLogger(__name__)


async def test_beacon_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="no beacon yet"):
        Service(beacon=object())


def test_want_seconds_reads_numbers_timedeltas_and_rates() -> None:
    assert want_seconds(2) == 2.0
    assert want_seconds(timedelta(minutes=1)) == 60.0
    assert want_seconds("10/m") == pytest.approx(1 / 6)
    assert want_seconds("3") == 3.0
    with pytest.raises(ValueError, match="unknown unit"):
        want_seconds("1/w")


async def test_from_awaitable_runs_the_awaitable_at_start() -> None:
    done: list[str] = []

    async def job() -> None:
        done.append("job")

    service = Service.from_awaitable(job(), name="job")
    async with service:
        assert done == ["job"]
    assert service.label == "job"


# -- services of an app --------------------------------------------------------------------------


async def test_app_service_class_starts_after_the_agents_and_stops_with_the_app(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory("services")
    events: list[str] = []
    topic = app.topic("orders")

    @app.agent(topic)
    async def orders(stream: Any) -> None:
        async for _ in stream:
            pass

    @app.service
    class Watcher(Service):
        async def on_start(self) -> None:
            events.append(f"start, app running: {app.conductor.consumer is not None}")

        async def on_stop(self) -> None:
            events.append("stop")

    assert Watcher.__name__ == "Watcher"  # the decorator returns the class
    async with app.running():
        assert events == ["start, app running: True"]
    assert events[-1] == "stop"


async def test_app_service_gives_the_app_to_a_constructor_that_requires_it(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory("services")
    seen: list[Any] = []

    @app.service
    class NeedsApp(Service):
        def __init__(self, app: App, **kwargs: Any) -> None:
            seen.append(app)
            super().__init__(**kwargs)

    @app.service
    class TakesNothing(Service):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            seen.append(args)
            super().__init__(**kwargs)

    async with app.running():
        pass
    assert seen == [app, ()]


async def test_app_service_takes_an_instance_and_stops_services_in_reverse(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory("services")
    events: list[str] = []
    first, second = Recording("first", events), Recording("second", events)
    assert app.service(first) is first
    app.service(second)
    async with app.running():
        await wait_until(lambda: "second.task" in events)
    stops = [e for e in events if e.endswith("on_stop")]
    assert stops == ["second.on_stop", "first.on_stop"]


async def test_a_raising_task_of_an_app_service_crashes_the_app(
    strm_app_factory: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = strm_app_factory("services")
    stopped: list[str] = []

    @app.service
    class Broken(Exploding):
        async def on_stop(self) -> None:
            stopped.append("stopped")

    await app.start()
    error = await asyncio.wait_for(app.wait_crashed(), 5.0)
    assert isinstance(error, ValueError) and str(error) == "boom"
    with pytest.raises(ValueError, match="boom"):
        await app.stop()
    assert stopped == ["stopped"] and not app.is_running
    assert any("[^Broken]: Crashed" in r.getMessage() for r in caplog.records)
