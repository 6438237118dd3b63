"""The lifecycle hooks, seen by a plugin: when each is called, with what, and in which order."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from strm.app import App
from strm.kernel.errors import ConfigurationError
from strm.kernel.spi import TP
from strm.worker import Worker

AppFactory = Callable[..., App]

RECORDER = """
import strm

EVENTS = []


@strm.hookimpl
def strm_app_configured(app):
    EVENTS.append(("configured", app, app.conf.id))


@strm.hookimpl
def strm_worker_starting(app):
    EVENTS.append(("worker_starting", app, app.is_running))


@strm.hookimpl
def strm_worker_stopping(app):
    EVENTS.append(("worker_stopping", app, app.is_running))


@strm.hookimpl
def strm_partitions_assigned(app, assigned):
    EVENTS.append(("partitions_assigned", app, assigned))


@strm.hookimpl
def strm_partitions_revoked(app, revoked):
    EVENTS.append(("partitions_revoked", app, revoked))
"""


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """A plugin module, ``lifecycle_recorder``, that records every lifecycle hook call."""
    (tmp_path / "lifecycle_recorder.py").write_text(textwrap.dedent(RECORDER))
    monkeypatch.syspath_prepend(str(tmp_path))
    import lifecycle_recorder

    yield lifecycle_recorder
    sys.modules.pop("lifecycle_recorder", None)


def events(recorder: ModuleType) -> list[tuple[Any, ...]]:
    return list(recorder.EVENTS)


@pytest.fixture
def app(strm_app_factory: AppFactory, recorder: ModuleType) -> App:
    return strm_app_factory("hooked", plugins=["lifecycle_recorder"])


def test_the_recorder_is_loaded_as_a_plugin(app: App) -> None:
    names = {info.name: info.hooks for info in app.plugins.plugins()}
    assert names["lifecycle_recorder"] == [
        "strm_app_configured",
        "strm_partitions_assigned",
        "strm_partitions_revoked",
        "strm_worker_starting",
        "strm_worker_stopping",
    ]


def test_app_configured_is_called_once(app: App, recorder: ModuleType) -> None:
    assert events(recorder) == []
    app.configure()
    app.configure()
    assert app.conf.id == "hooked"
    assert events(recorder) == [("configured", app, "hooked")]


def test_app_configured_is_called_when_the_settings_are_first_read(
    app: App, recorder: ModuleType
) -> None:
    assert app.conf.broker == ["memory://"]
    assert events(recorder) == [("configured", app, "hooked")]


def test_app_configured_is_not_called_when_configuration_fails(
    strm_app_factory: AppFactory, recorder: ModuleType
) -> None:
    app = strm_app_factory("broken", plugins=["lifecycle_recorder"], value_serializer="yaml")
    with pytest.raises(ConfigurationError, match="unknown codec 'yaml'"):
        app.configure()
    assert events(recorder) == []


def test_app_configured_is_called_per_app(
    strm_app_factory: AppFactory, recorder: ModuleType
) -> None:
    first = strm_app_factory("first", plugins=["lifecycle_recorder"]).configure()
    second = strm_app_factory("second", plugins=["lifecycle_recorder"]).configure()
    assert events(recorder) == [("configured", first, "first"), ("configured", second, "second")]


async def test_worker_hooks_surround_the_services(app: App, recorder: ModuleType) -> None:
    @contextlib.asynccontextmanager
    async def service(app: App) -> AsyncIterator[None]:
        recorder.EVENTS.append(("service_start", app, None))
        yield
        recorder.EVENTS.append(("service_stop", app, None))

    app.add_service(service)
    worker = Worker(app, blocking_timeout=5.0)
    task = asyncio.create_task(worker.run())
    async with asyncio.timeout(5):
        for _ in range(500):
            if app.is_running:
                break
            await asyncio.sleep(0.01)
    assert app.is_running
    worker.stop()
    await asyncio.wait_for(task, 5)
    assert events(recorder) == [
        ("configured", app, "hooked"),
        ("worker_starting", app, False),
        ("service_start", app, None),
        ("worker_stopping", app, True),
        ("service_stop", app, None),
    ]


async def test_worker_stopping_is_called_when_start_fails(app: App, recorder: ModuleType) -> None:
    @contextlib.asynccontextmanager
    async def failing(app: App) -> AsyncIterator[None]:
        raise OSError("no disk")
        yield

    app.add_service(failing)
    with pytest.raises(OSError, match="no disk"):
        await asyncio.wait_for(Worker(app).run(), 5)
    assert [name for name, *_ in events(recorder)] == [
        "configured",
        "worker_starting",
        "worker_stopping",
    ]


async def test_partition_hooks_get_the_partitions(app: App, recorder: ModuleType) -> None:
    app.configure()
    recorder.EVENTS.clear()
    await app.notify_partitions_assigned([TP("t", 0), TP("t", 1)])
    await app.notify_partitions_revoked(iter([TP("t", 1)]))
    await app.notify_partitions_assigned([])
    assert events(recorder) == [
        ("partitions_assigned", app, [TP("t", 0), TP("t", 1)]),
        ("partitions_revoked", app, [TP("t", 1)]),
        ("partitions_assigned", app, []),
    ]
