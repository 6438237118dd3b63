"""The worker: ``strm worker`` in a real process (signals, services, event loop, exit codes) and
the app's start/stop lifecycle in this one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from strm.app import App
from strm.kernel.app_protocol import ServiceFactory
from strm.kernel.errors import ConfigurationError
from strm.worker import Worker, loop_factory

AppFactory = Callable[..., App]

#: The start of every app module: the app, and ``marking(name)``, a service factory whose services
#: record their start and stop in ``markers.txt``.
APP_PRELUDE = """\
import asyncio
import contextlib
import pathlib

import strm

MARKERS = pathlib.Path(__file__).with_name("markers.txt")


def mark(text):
    with MARKERS.open("a") as f:
        f.write(text + "\\n")


def marking(name):
    @contextlib.asynccontextmanager
    async def service(app):
        mark(f"start {name}")
        yield
        mark(f"stop {name}")

    return service


app = strm.App("wapp", entry_points=False)
"""


class WorkerProcess:
    """``python -m strm -A wapp ARGS worker`` in ``directory``, its stderr in a file."""

    def __init__(self, directory: Path, source: str, args: tuple[str, ...]) -> None:
        (directory / "wapp.py").write_text(APP_PRELUDE + textwrap.dedent(source))
        self.directory = directory
        self._stderr = directory / "stderr.txt"
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONUTF8": "1"}
        with self._stderr.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "strm", "-A", "wapp", *args, "worker", "--without-web"],
                cwd=directory,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    @property
    def stderr(self) -> str:
        return self._stderr.read_text()

    @property
    def markers(self) -> list[str]:
        path = self.directory / "markers.txt"
        return path.read_text().splitlines() if path.exists() else []

    def wait_for(self, text: str, timeout: float = 10.0) -> None:
        """Wait until ``text`` is in stderr; fail if the process ends or time runs out first."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.02) + 1):
            if text in self.stderr:
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if text not in self.stderr:
            raise AssertionError(
                f"{text!r} did not appear; exit {self.proc.poll()}:\n{self.stderr}"
            )

    def wait(self, timeout: float = 10.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout)
            raise AssertionError(
                f"the worker did not exit within {timeout} s:\n{self.stderr}"
            ) from None

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = 10.0) -> int:
        self.proc.send_signal(sig)
        return self.wait(timeout)


StartWorker = Callable[..., WorkerProcess]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[StartWorker]:
    """Start a worker on an app module made of the prelude and ``source``; killed at teardown."""
    started: list[WorkerProcess] = []

    def start(source: str = "", *args: str) -> WorkerProcess:
        worker = WorkerProcess(tmp_path, source, args)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.wait(10)


# -- the worker process ------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_worker_cleanly(start_worker: StartWorker, sig: signal.Signals) -> None:
    worker = start_worker('app.add_service(marking("s"))\n', "-l", "info")
    worker.wait_for("worker of app 'wapp' is ready")
    assert worker.markers == ["start s"]
    assert worker.stop(sig) == 0
    assert f"{sig.name} received: stopping" in worker.stderr
    assert "worker of app 'wapp' is stopping" in worker.stderr
    assert "Traceback" not in worker.stderr
    assert worker.markers == ["start s", "stop s"]


def test_services_start_in_order_and_stop_in_reverse(start_worker: StartWorker) -> None:
    worker = start_worker(
        """
        for name in ("first", "second", "third"):
            app.add_service(marking(name))
        """,
        "-l",
        "info",
    )
    worker.wait_for("is ready")
    assert worker.markers == ["start first", "start second", "start third"]
    assert worker.stop() == 0
    assert worker.markers[3:] == ["stop third", "stop second", "stop first"]


LOOP_PROBE = """
@contextlib.asynccontextmanager
async def probe(app):
    mark(type(asyncio.get_running_loop()).__module__)
    yield

app.add_service(probe)
"""


@pytest.mark.parametrize(
    ("args", "module"),
    [((), "asyncio"), (("--loop", "uvloop"), "uvloop")],
    ids=["asyncio", "uvloop"],
)
def test_the_event_loop(start_worker: StartWorker, args: tuple[str, ...], module: str) -> None:
    worker = start_worker(LOOP_PROBE, "-l", "info", *args)
    worker.wait_for("is ready")
    assert worker.stop() == 0
    assert worker.markers[0].partition(".")[0] == module


def test_a_service_that_fails_to_start(start_worker: StartWorker) -> None:
    worker = start_worker(
        """
        @contextlib.asynccontextmanager
        async def failing(app):
            raise RuntimeError("the database is gone")
            yield

        app.add_service(marking("before"))
        app.add_service(failing)
        app.add_service(marking("after"))
        """
    )
    assert worker.wait() == 1
    assert "worker of app 'wapp' crashed" in worker.stderr
    assert "RuntimeError: the database is gone" in worker.stderr
    assert worker.markers == ["start before", "stop before"]


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_a_failing_background_task_stops_the_worker_with_one_line(
    start_worker: StartWorker, debug: bool
) -> None:
    worker = start_worker(
        """
        app.add_service(marking("service"))

        @app.task(name="loader")
        async def loader():
            raise ConnectionError("the feed is gone")
        """,
        *(("--debug",) if debug else ()),
    )
    assert worker.wait() == 1
    errors = [line for line in worker.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, worker.stderr
    assert "task loader failed: ConnectionError: the feed is gone" in errors[0]
    assert ("Traceback" in worker.stderr) is debug
    assert worker.markers == ["start service", "stop service"]


def test_a_strm_error_in_a_service_is_one_line_with_exit_code_2(start_worker: StartWorker) -> None:
    worker = start_worker(
        """
        @contextlib.asynccontextmanager
        async def misconfigured(app):
            raise strm.kernel.errors.ConfigurationError("setting 'x': bad value")
            yield

        app.add_service(misconfigured)
        """
    )
    assert worker.wait() == 2
    assert "Error: setting 'x': bad value" in worker.stderr
    assert "Traceback" not in worker.stderr


def test_the_worker_class_setting_is_honoured(start_worker: StartWorker) -> None:
    worker = start_worker(
        """
        from strm.worker import Worker

        class MyWorker(Worker):
            async def run(self):
                mark(f"MyWorker runs {self.app.conf.id} at {self.loglevel}")
                await super().run()

        app.config_from_object({"Worker": "wapp.MyWorker"})
        """,
        "-l",
        "info",
    )
    worker.wait_for("is ready")
    assert worker.stop() == 0
    assert worker.markers == ["MyWorker runs wapp at 20"]


#: A service whose stop takes a minute: the clean stop is still under way when the test signals.
SLOW_TO_STOP = """
import logging

@contextlib.asynccontextmanager
async def slow_to_stop(app):
    yield
    logging.getLogger("wapp").warning("slow stop begins")
    await asyncio.sleep(60)
    mark("stopped")

app.add_service(slow_to_stop)
"""


@pytest.mark.parametrize(
    ("second", "code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_second_signal_while_stopping_exits_at_once(
    start_worker: StartWorker, second: signal.Signals, code: int
) -> None:
    worker = start_worker(SLOW_TO_STOP)
    worker.wait_for("ready in")
    worker.proc.send_signal(signal.SIGINT)
    worker.wait_for("slow stop begins")
    assert "SIGINT received: stopping (a second signal exits at once)" in worker.stderr
    worker.proc.send_signal(second)
    assert worker.wait(timeout=10) == code
    assert f"second {second.name}: exiting now without a clean stop" in worker.stderr
    assert worker.markers == []


# -- in this process -------------------------------------------------------------------------


@pytest.fixture
def app(strm_app_factory: AppFactory) -> App:
    return strm_app_factory()


def marking_service(events: list[str], name: str) -> ServiceFactory:
    @contextlib.asynccontextmanager
    async def service(app: App) -> AsyncIterator[None]:
        events.append(f"start {name}")
        try:
            yield
        finally:
            events.append(f"stop {name}")

    return service


async def test_start_and_stop_run_the_services(app: App) -> None:
    events: list[str] = []
    app.add_service(marking_service(events, "a"))
    app.add_service(marking_service(events, "b"))
    assert not app.is_running
    await app.start()
    assert app.is_running
    assert events == ["start a", "start b"]
    await app.start()
    assert events == ["start a", "start b"]
    await app.stop()
    assert not app.is_running
    assert events == ["start a", "start b", "stop b", "stop a"]
    await app.stop()
    assert len(events) == 4


async def test_running_starts_and_stops(app: App) -> None:
    events: list[str] = []
    app.add_service(marking_service(events, "a"))
    async with app.running() as running:
        assert running is app
        assert app.is_running
        assert events == ["start a"]
    assert not app.is_running
    assert events == ["start a", "stop a"]


async def test_running_stops_the_services_when_the_body_raises(app: App) -> None:
    events: list[str] = []
    app.add_service(marking_service(events, "a"))
    with pytest.raises(KeyError):
        async with app.running():
            raise KeyError("in the body")
    assert events == ["start a", "stop a"]
    assert not app.is_running


async def test_start_freezes_the_settings(app: App) -> None:
    app.conf.set("blocking_timeout", 2.0)
    async with app.running():
        assert app.conf.frozen
        with pytest.raises(ConfigurationError, match="settings are frozen"):
            app.conf.set("blocking_timeout", 1.0)
        with pytest.raises(ConfigurationError, match="frozen"):
            app.conf.blocking_timeout = 1.0
    assert app.conf.blocking_timeout == 2.0


async def test_no_service_can_be_added_to_a_running_app(app: App) -> None:
    async with app.running():
        with pytest.raises(RuntimeError, match="running app"):
            app.add_service(marking_service([], "late"))


async def test_a_failing_start_stops_what_started(app: App) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def failing(app: App) -> AsyncIterator[None]:
        raise OSError("no disk")
        yield

    app.add_service(marking_service(events, "a"))
    app.add_service(failing)
    app.add_service(marking_service(events, "c"))
    with pytest.raises(OSError, match="no disk"):
        await app.start()
    assert events == ["start a", "stop a"]
    assert not app.is_running


async def test_stop_errors_are_not_swallowed(app: App) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def failing_stop(app: App) -> AsyncIterator[None]:
        yield
        raise ValueError("flush failed")

    app.add_service(marking_service(events, "a"))
    app.add_service(failing_stop)
    await app.start()
    with pytest.raises(ValueError, match="flush failed"):
        await app.stop()
    assert events == ["start a", "stop a"]
    assert not app.is_running


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        for _ in range(int(timeout / 0.01) + 1):
            if condition():
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the condition did not become true")


async def test_worker_run_returns_when_stop_is_called(app: App) -> None:
    events: list[str] = []
    app.add_service(marking_service(events, "a"))
    worker = Worker(app)
    task = asyncio.create_task(worker.run())
    await wait_until(lambda: app.is_running)
    assert not task.done()
    assert worker.loop_name_used == "asyncio"
    worker.stop()
    await asyncio.wait_for(task, 5)
    assert events == ["start a", "stop a"]
    assert not app.is_running


async def test_worker_handles_signals_only_while_it_runs(app: App) -> None:
    loop = asyncio.get_running_loop()
    worker = Worker(app)
    task = asyncio.create_task(worker.run())
    await wait_until(lambda: app.is_running)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, 5)
    assert not app.is_running
    assert not loop.remove_signal_handler(signal.SIGTERM), "the handler was left installed"
    assert not loop.remove_signal_handler(signal.SIGINT), "the handler was left installed"


async def test_worker_stop_gives_up_after_the_shutdown_timeout(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    @contextlib.asynccontextmanager
    async def stuck(app: App) -> AsyncIterator[None]:
        yield
        await asyncio.sleep(30)

    app.add_service(stuck)
    worker = Worker(app, shutdown_timeout=0.1)
    task = asyncio.create_task(worker.run())
    await wait_until(lambda: app.is_running)
    worker.stop()
    await asyncio.wait_for(task, 5)
    assert "app 'test-app' did not stop within 0.1 s; exiting anyway" in caplog.text
    assert [r.levelname for r in caplog.records if r.name == "strm.worker"] == ["ERROR"]


def test_worker_takes_level_names() -> None:
    app = App("x", environ={}, entry_points=False)
    assert Worker(app, loglevel="DEBUG").loglevel == logging.DEBUG
    assert Worker(app).loglevel == logging.WARNING


def test_loop_factory() -> None:
    assert loop_factory("asyncio") is None
    factory = loop_factory("uvloop")
    assert factory is not None
    loop = factory()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()
    with pytest.raises(ConfigurationError, match="unknown event loop 'trio'"):
        loop_factory("trio")
