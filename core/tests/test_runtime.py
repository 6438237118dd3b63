"""The runtime: one owner of every task a running app has; a failing background task stops the
app by itself and is raised by ``stop``; rebalance listeners are supervised."""

from __future__ import annotations

import asyncio
import logging
import sys
import types
from collections.abc import Callable
from typing import Any

import pytest
from strm.app import App
from strm.kernel.hookspecs import hookimpl
from strm.kernel.spi import TP

AppFactory = Callable[..., App]


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def _app_tasks() -> set[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t is not current and not t.done()}


async def test_every_task_of_a_running_app_belongs_to_its_runtime_and_ends_with_it(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory()
    topic = app.topic("words", partitions=2)
    counts = app.Table("counts", default=int, partitions=2)
    seen: list[str] = []
    before = _app_tasks()

    @app.agent(topic)
    async def count(stream: Any) -> None:
        async for word in stream.group_by(lambda w: w, name="by-word"):
            counts[word] += 1
            seen.append(word)

    @app.timer(0.05, name="tick")
    async def tick() -> None:
        return None

    async with app.running():
        for word in ("a", "b", "a"):
            await topic.send(key=word, value=word)
        await _until(lambda: len(seen) == 3)
        running = _app_tasks() - before
        names = sorted(t.get_name() for t in running)
        assert "strm-runtime" in names
        assert any(n.startswith("strm-agent-") and n.endswith("count-0") for n in names), names
        assert "strm-fetch" in names and "timer tick" in names, names
        # Every task but the runtime's own was created inside its task group.
        group = app.runtime._group
        assert group is not None
        assert {t for t in running if t.get_name() != "strm-runtime"} <= set(group._tasks)
    assert _app_tasks() - before == set()


async def test_a_failing_background_loop_stops_the_app_by_itself_and_stop_raises_it(
    strm_app_factory: AppFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = strm_app_factory(table_cleanup_interval=0.02)
    topic = app.topic("clicks", partitions=1)
    app.Table("per_minute", default=int, partitions=1).tumbling(60.0)
    agent_stopped = asyncio.Event()

    @app.agent(topic)
    async def clicks(stream: Any) -> None:
        try:
            async for _ in stream:
                pass
        finally:
            agent_stopped.set()

    async def broken_cleanup() -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(app.tables, "cleanup", broken_cleanup)
    with pytest.raises(OSError, match="No space left on device"):
        async with app.running():
            error = await asyncio.wait_for(app.wait_crashed(), 5)
            # Nobody called stop: the runtime stops the agents on its own.
            await asyncio.wait_for(agent_stopped.wait(), 5)
            assert app.conductor.consumer is None
    assert isinstance(error, OSError)
    lines = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in lines] == [
        "app 'test-app': strm-table-cleanup failed: OSError: No space left on device "
        "(the traceback is logged with --debug)"
    ]
    assert lines[0].exc_info is None


async def test_with_debug_the_failure_is_logged_with_its_traceback(
    strm_app_factory: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = strm_app_factory(debug=True)

    @app.task(name="doomed")
    async def doomed() -> None:
        raise LookupError("gone")

    with pytest.raises(LookupError):
        async with app.running():
            await asyncio.wait_for(app.wait_crashed(), 5)
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.getMessage() == "app 'test-app': task doomed failed: LookupError: gone"
    assert record.exc_info is not None and record.exc_info[1] is not None


async def test_a_failing_global_table_reader_stops_the_app(
    strm_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to die alone: the table stopped following its changelog, without a word."""
    from strm.tables.global_table import GlobalReader

    app = strm_app_factory()
    app.GlobalTable("config", partitions=1)

    async def broken_read(self: GlobalReader, consumer: Any) -> None:
        raise ValueError("undecodable changelog record")

    monkeypatch.setattr(GlobalReader, "_read", broken_read)
    with pytest.raises(ValueError, match="undecodable changelog record"):
        async with app.running():
            await asyncio.wait_for(app.wait_crashed(), 5)


async def test_a_cancelled_start_leaves_no_task_behind(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    topic = app.topic("t", partitions=1)

    @app.agent(topic)
    async def agent(stream: Any) -> None:
        async for _ in stream:
            pass

    gate = asyncio.Event()

    @app.service
    class Slow:
        async def start(self) -> None:
            gate.set()
            await asyncio.sleep(3600)

        async def stop(self) -> None:
            return None

    before = _app_tasks()
    starting = asyncio.ensure_future(app.start())
    await asyncio.wait_for(gate.wait(), 5)
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    assert not app.is_running
    assert _app_tasks() - before == set()


def _listener_module(name: str, *, fail: bool) -> types.ModuleType:
    """A plugin module whose ``strm_partitions_assigned`` records the partitions (and raises,
    for the broken one)."""
    module = types.ModuleType(name)
    module.assigned = []  # type: ignore[attr-defined]

    @hookimpl
    def strm_partitions_assigned(app: App, assigned: list[TP]) -> None:
        module.assigned.append(list(assigned))  # type: ignore[attr-defined]
        if fail:
            raise RuntimeError(f"{name} cannot cope")

    module.strm_partitions_assigned = strm_partitions_assigned  # type: ignore[attr-defined]
    return module


async def test_a_raising_rebalance_listener_is_logged_and_the_others_and_the_worker_go_on(
    strm_app_factory: AppFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    healthy = _listener_module("healthy_listener", fail=False)
    broken = _listener_module("broken_listener", fail=True)
    monkeypatch.setitem(sys.modules, "healthy_listener", healthy)
    monkeypatch.setitem(sys.modules, "broken_listener", broken)
    # Registered last, the broken listener is called first: the healthy one must still hear.
    app = strm_app_factory(plugins=["healthy_listener", "broken_listener"])
    topic = app.topic("orders", partitions=2)
    seen: list[Any] = []

    @app.agent(topic)
    async def orders(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    async with app.running():
        await topic.send(key=b"k", value=1)
        await _until(lambda: seen == [1])
    assert app.crash_error is None
    assert broken.assigned and healthy.assigned  # type: ignore[attr-defined]
    (record,) = [r for r in caplog.records if "cannot cope" in r.getMessage() or r.exc_info]
    assert "broken_listener" in record.getMessage()
    assert record.getMessage().endswith(
        "strm_partitions_assigned raised on assigned orders[0], orders[1], "
        "test-app-__assignor-__leader[0]; the worker goes on"
    )
    assert record.exc_info is not None
