"""``@app.task``, ``@app.timer``, ``@app.crontab`` and ``@app.service`` on real event loops, and
leader-only work with two apps sharing one ``memory://`` broker."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from strm.app import App
from strm.builtins.memory_transport import drop_broker, unique_url
from strm.kernel.errors import ConfigurationError
from strm.runtime.timers import Crontab, Timer

AppFactory = Callable[..., App]


@pytest.fixture
def url() -> Iterator[str]:
    url = unique_url("timers")
    yield url
    drop_broker(url)


async def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Poll ``predicate`` every 5 ms until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.005)


# -- @app.task -----------------------------------------------------------------------------------


async def test_a_task_runs_once_after_the_consumer_started(
    strm_app_factory: AppFactory, url: str
) -> None:
    app = strm_app_factory("tasks", broker=url)
    seen: list[str] = []

    @app.task
    async def without_arguments() -> None:
        seen.append(f"plain, consumer started: {app.conductor.consumer is not None}")

    @app.task(name="with-app", on_leader=False)
    async def with_app(given: App) -> None:
        seen.append(f"app given: {given is app}")

    # An on_leader task makes the conductor join the leader topic, so there is a consumer.
    @app.task(on_leader=True)
    async def leader_only() -> None:
        seen.append("leader")

    assert with_app.__name__ == "with_app"  # the decorators return the function
    assert [job.name for job in app.background.jobs] == [
        f"{__name__}.test_a_task_runs_once_after_the_consumer_started.<locals>.without_arguments",
        "with-app",
        f"{__name__}.test_a_task_runs_once_after_the_consumer_started.<locals>.leader_only",
    ]
    async with app.running():
        await wait_until(lambda: len(seen) == 3)
        await asyncio.sleep(0.05)
    assert sorted(seen) == ["app given: True", "leader", "plain, consumer started: True"]


async def test_a_running_task_is_cancelled_at_stop(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    events: list[str] = []

    @app.task
    async def forever() -> None:
        events.append("started")
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    await app.start()
    await wait_until(lambda: events == ["started"])
    await asyncio.wait_for(app.stop(), 2)
    assert events == ["started", "cancelled"]


async def test_a_failing_task_crashes_the_app(
    strm_app_factory: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = strm_app_factory()

    @app.task(name="doomed")
    async def doomed() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        async with app.running():
            error = await asyncio.wait_for(app.wait_crashed(), 2)
    assert isinstance(error, RuntimeError)
    assert "task doomed failed: RuntimeError: boom" in caplog.text


def test_task_decoration_errors(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()

    def not_async() -> None:
        pass

    async def two_arguments(a: object, b: object) -> None:
        pass

    with pytest.raises(ConfigurationError, match=r"@app\.task .*not_async needs an 'async def'"):
        app.task(not_async)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="takes 2 arguments; it may take none, or the"):
        app.task(two_arguments)

    async def job() -> None:
        pass

    app.task(name="same")(job)
    with pytest.raises(ConfigurationError, match="two tasks, timers or crontabs are named 'same'"):
        app.timer(1.0, name="same")(job)


async def test_no_new_task_while_running(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()

    async def job() -> None:
        pass

    async with app.running():
        with pytest.raises(RuntimeError, match="to a running app"):
            app.task(job)


# -- @app.timer ----------------------------------------------------------------------------------


async def test_a_timer_first_runs_after_one_interval_and_does_not_drift(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory()
    loop = asyncio.get_running_loop()
    runs: list[float] = []

    @app.timer(0.05)
    async def tick(given: App) -> None:
        assert given is app
        runs.append(loop.time())
        await asyncio.sleep(0.02)  # a naive sleep(interval) loop would drift 20 ms a run

    started = loop.time()
    async with app.running():
        await wait_until(lambda: len(runs) >= 6)
    assert runs[0] - started >= 0.045
    for index, moment in enumerate(runs[:6]):
        assert abs(moment - (runs[0] + index * 0.05)) < 0.015, (index, runs)


async def test_a_timer_takes_a_timedelta_and_stops_with_the_app(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory()
    runs: list[float] = []

    @app.timer(timedelta(milliseconds=20))
    async def tick() -> None:
        runs.append(time.monotonic())

    job = app.background.jobs[0]
    assert isinstance(job, Timer)
    assert job.interval == 0.02
    async with app.running():
        await wait_until(lambda: len(runs) >= 3)
    count = len(runs)
    await asyncio.sleep(0.06)
    assert len(runs) == count


async def test_an_overrunning_timer_skips_missed_ticks(
    strm_app_factory: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = strm_app_factory()
    loop = asyncio.get_running_loop()
    runs: list[float] = []

    @app.timer(0.05, name="slow")
    async def slow() -> None:
        runs.append(loop.time())
        if len(runs) == 1:
            await asyncio.sleep(0.12)  # overruns ticks 2 and 3

    with caplog.at_level(logging.WARNING, logger="strm.timers"):
        async with app.running():
            await wait_until(lambda: len(runs) >= 3)
    assert "timer slow: a run took longer than its 0.05 s interval; skipped 2 tick(s)" in (
        caplog.text
    )
    # Run 1 at tick 1; it ends after tick 3, so run 2 is at tick 4 and run 3 at tick 5.
    assert abs((runs[1] - runs[0]) - 0.15) < 0.02, runs
    assert abs((runs[2] - runs[1]) - 0.05) < 0.02, runs


async def test_a_failing_timer_is_logged_and_keeps_running(
    strm_app_factory: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = strm_app_factory()
    runs: list[int] = []

    @app.timer(0.02, name="flaky")
    async def flaky() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise ValueError("first run fails")

    async with app.running():
        await wait_until(lambda: len(runs) >= 3)
    assert app.crash_error is None
    assert "timer flaky raised; it runs again at its next time" in caplog.text
    assert "ValueError: first run fails" in caplog.text


@pytest.mark.parametrize("interval", [0, -1.0, timedelta(0), "5", True])
def test_timer_intervals_must_be_positive(strm_app_factory: AppFactory, interval: Any) -> None:
    app = strm_app_factory()

    async def tick() -> None:
        pass

    with pytest.raises(ConfigurationError, match="the interval must be a positive number"):
        app.timer(interval)(tick)


# -- leaders -------------------------------------------------------------------------------------


def leader_pair(
    strm_app_factory: AppFactory, url: str, runs: dict[str, int], **timer: Any
) -> tuple[App, App]:
    """Two apps of one group on one broker, each with an ``on_leader`` timer counting its runs
    in ``runs[name]``."""
    apps = []
    for name in ("first", "second"):
        app = strm_app_factory("leaders", broker=url)
        runs[name] = 0

        @app.timer(0.02, on_leader=True, **timer)
        async def tick(*, name: str = name) -> None:
            runs[name] += 1

        assert app.conductor.needs_leader
        apps.append(app)
    return apps[0], apps[1]


async def test_only_the_leader_runs_an_on_leader_timer(
    strm_app_factory: AppFactory, url: str
) -> None:
    runs: dict[str, int] = {}
    first, second = leader_pair(strm_app_factory, url, runs)
    async with first.running(), second.running():
        assert first.is_leader() and not second.is_leader()
        await wait_until(lambda: runs["first"] >= 5)
        assert runs["second"] == 0
        # Leadership is checked on each tick: when the leader leaves, the other one takes over.
        await first.stop()
        await wait_until(second.is_leader)
        await wait_until(lambda: runs["second"] >= 3)
    assert runs["first"] >= 5


async def test_an_on_leader_task_runs_only_on_the_leader(
    strm_app_factory: AppFactory, url: str
) -> None:
    ran: list[str] = []
    apps = []
    for name in ("first", "second"):
        app = strm_app_factory("leaders", broker=url)

        async def job(*, name: str = name) -> None:
            ran.append(name)

        app.task(on_leader=True, name="job")(job)
        apps.append(app)
    async with apps[0].running(), apps[1].running():
        await asyncio.sleep(0.05)
    assert ran == ["first"]


# -- @app.crontab --------------------------------------------------------------------------------


def fast_clock(fake_now: datetime) -> Callable[[], datetime]:
    """A wall clock that reads ``fake_now`` when first read and runs at real speed from there.

    Anchoring on the first read, not on creation, keeps a slow app start (a loaded CI machine)
    from moving the fake time past the minute a test waits for.
    """
    offset: list[timedelta] = []

    def now() -> datetime:
        real = datetime.now(UTC)
        if not offset:
            offset.append(fake_now - real)
        return real + offset[0]

    return now


async def test_a_crontab_fires_at_its_time(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(timezone="Europe/Oslo")
    fired: list[datetime] = []

    @app.crontab("0 13 * * *", name="lunch")
    async def lunch(given: App) -> None:
        assert given is app
        fired.append(job.clock())

    job = app.background.jobs[0]
    assert isinstance(job, Crontab)
    # 12:59:59.95 in Oslo: the job is due in 50 ms.
    fake = datetime(2024, 6, 3, 12, 59, 59, 950_000, tzinfo=ZoneInfo("Europe/Oslo"))
    job.clock = fast_clock(fake.astimezone(UTC))
    async with app.running():
        await wait_until(lambda: len(fired) == 1)
        await asyncio.sleep(0.05)
    assert len(fired) == 1
    due = datetime(2024, 6, 3, 11, tzinfo=UTC)
    assert due <= fired[0] < due + timedelta(seconds=0.5)


async def test_a_failing_crontab_run_is_logged(
    strm_app_factory: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = strm_app_factory()
    fired: list[int] = []

    @app.crontab("* * * * *", name="broken")
    async def broken() -> None:
        fired.append(1)
        raise KeyError("oops")

    job = app.background.jobs[0]
    assert isinstance(job, Crontab)
    job.clock = fast_clock(datetime(2024, 6, 3, 12, 59, 59, 970_000, tzinfo=UTC))
    async with app.running():
        await wait_until(lambda: bool(fired))
        await asyncio.sleep(0.02)
    assert app.crash_error is None
    assert "crontab broken raised; it runs again at its next time" in caplog.text


async def test_a_crontab_checks_leadership_when_it_fires(
    strm_app_factory: AppFactory, url: str
) -> None:
    fired: list[str] = []
    apps = []
    for name in ("first", "second"):
        app = strm_app_factory("leaders", broker=url)

        async def job(*, name: str = name) -> None:
            fired.append(name)

        app.crontab("*/5 * * * *", on_leader=True, name="every-5")(job)
        crontab = app.background.jobs[0]
        assert isinstance(crontab, Crontab)
        crontab.clock = fast_clock(datetime(2024, 6, 3, 9, 14, 59, 500_000, tzinfo=UTC))
        apps.append(app)
    async with apps[0].running(), apps[1].running():
        await wait_until(lambda: bool(fired))
        await asyncio.sleep(0.05)
    assert fired == ["first"]


def test_crontab_timezones(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(timezone="America/New_York")

    async def job() -> None:
        pass

    app.crontab("0 9 * * *", name="setting")(job)
    app.crontab("0 9 * * *", name="argument", timezone="Europe/Oslo")(job)
    app.crontab("0 9 * * *", name="tzinfo", timezone=UTC)(job)
    start = datetime(2024, 6, 3, 0, tzinfo=UTC)
    times = {}
    for crontab in app.background.jobs:
        assert isinstance(crontab, Crontab)
        times[crontab.name] = crontab.next_time(start).isoformat()
    assert times == {
        "setting": "2024-06-03T09:00:00-04:00",
        "argument": "2024-06-03T09:00:00+02:00",
        "tzinfo": "2024-06-03T09:00:00+00:00",
    }


def test_the_default_timezone_is_utc(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()

    @app.crontab("@daily")
    async def nightly() -> None:
        pass

    crontab = app.background.jobs[0]
    assert isinstance(crontab, Crontab)
    assert crontab.timezone == ZoneInfo("UTC")
    assert crontab.next_time(datetime(2024, 1, 1, 5, tzinfo=UTC)).isoformat() == (
        "2024-01-02T00:00:00+00:00"
    )


def test_crontab_decoration_errors(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()

    async def job() -> None:
        pass

    with pytest.raises(ConfigurationError, match=r"expression '\* \* \* 13 \*': month field"):
        app.crontab("* * * 13 *")(job)
    with pytest.raises(ConfigurationError, match="timezone must be a tzinfo or a name"):
        app.crontab("* * * * *", timezone="Mars/Olympus_Mons")(job)
    with pytest.raises(ConfigurationError, match="timezone"):
        strm_app_factory(timezone="Nowhere/Special").configure()
    assert app.background.jobs == []


# -- @app.service --------------------------------------------------------------------------------


async def test_services_of_every_kind_start_after_tasks_and_stop_in_reverse(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory()
    events: list[str] = []

    @app.task
    async def task() -> None:
        events.append("task")

    @app.service
    class WithApp:
        def __init__(self, app: App) -> None:
            self.app = app

        async def start(self) -> None:
            events.append(f"start with-app {self.app is app}")

        async def stop(self) -> None:
            events.append("stop with-app")

    @app.service
    class WithoutArguments:
        async def start(self) -> None:
            events.append("start without-arguments")

        async def stop(self) -> None:
            events.append("stop without-arguments")

    @app.service
    class ContextManager:
        async def __aenter__(self) -> ContextManager:
            events.append("start context-manager")
            return self

        async def __aexit__(self, *exc_info: object) -> None:
            events.append("stop context-manager")

    @app.service
    @asynccontextmanager
    async def factory(given: App) -> AsyncIterator[None]:
        events.append(f"start factory {given is app}")
        yield
        events.append("stop factory")

    assert WithApp.__name__ == "WithApp"
    async with app.running():
        await wait_until(lambda: "task" in events)
    # The task's asyncio task exists before the services start; it runs at the next await.
    assert [e for e in events if e != "task"] == [
        "start with-app True",
        "start without-arguments",
        "start context-manager",
        "start factory True",
        "stop factory",
        "stop context-manager",
        "stop without-arguments",
        "stop with-app",
    ]


def test_service_errors(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()

    class NotAService:
        def start(self) -> None:
            pass

    with pytest.raises(ConfigurationError, match="NotAService: a service class needs 'async"):
        app.service(NotAService)
    with pytest.raises(ConfigurationError, match="takes a class or a factory"):
        app.service(42)
