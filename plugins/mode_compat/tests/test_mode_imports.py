"""The ``mode`` package of strm-mode-compat: each module re-exports its ``strm.compat.mode``
counterpart, and the names Faust apps import from mode behave as there."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import mode
import mode.services
import mode.supervisors
import mode.utils.aiter
import mode.utils.logging
import mode.utils.objects
import mode.utils.times
import pytest
from mode import (
    CrashingSupervisor,
    ForfeitOneForAllSupervisor,
    ForfeitOneForOneSupervisor,
    OneForAllSupervisor,
    OneForOneSupervisor,
    Seconds,
    Service,
    want_seconds,
)
from mode.utils.aiter import aenumerate, aiter, alist, anext, chunks
from mode.utils.logging import get_logger
from mode.utils.objects import label, qualname, shortlabel, shortname
from strm import agents
from strm.app import App
from strm.services import Service as StrmService

SHIMS = [
    "mode",
    "mode.services",
    "mode.supervisors",
    "mode.types",
    "mode.utils.aiter",
    "mode.utils.logging",
    "mode.utils.objects",
    "mode.utils.times",
]


@pytest.mark.parametrize("name", SHIMS)
def test_each_module_re_exports_every_name_of_strm_compat_mode(name: str) -> None:
    shim = importlib.import_module(name)
    compat = importlib.import_module(f"strm.compat.{name}")
    assert shim.__all__ == compat.__all__
    for exported in compat.__all__:
        assert getattr(shim, exported) is getattr(compat, exported), exported


def test_service_is_strms_service() -> None:
    assert Service is StrmService is mode.services.Service
    assert mode.task == Service.task and mode.timer == Service.timer


async def test_modes_signals_are_strms_and_call_receivers_as_modes_do() -> None:
    from strm.signals import Signal as StrmSignal

    class Sender:
        changed = mode.Signal()
        flushed = mode.SyncSignal()

    sender = Sender()
    heard: list[tuple[object, tuple[object, ...], object]] = []

    @Sender.changed.connect
    async def on_changed(who: object, *args: object, signal: object, **kwargs: object) -> None:
        heard.append((who, args, signal))

    @Sender.flushed.connect
    def on_flushed(who: object, *args: object, signal: object, **kwargs: object) -> None:
        heard.append((who, args, signal))

    assert mode.Signal is StrmSignal
    await Sender.changed.send(sender, 1)
    Sender.flushed.send(sender)
    assert heard == [(sender, (1,), Sender.changed), (sender, (), Sender.flushed)]


def test_names_known_to_mode_but_missing_say_so() -> None:
    with pytest.raises(AttributeError, match=r"mode\.Worker is not supported by strm yet"):
        _ = mode.Worker
    with pytest.raises(AttributeError, match="has no attribute 'Nonsense'"):
        _ = mode.Nonsense


class Outer:
    class Inner:
        pass

    name = "outer-name"


def test_objects_qualname_and_labels() -> None:
    assert qualname(Outer.Inner) == f"{__name__}.Outer.Inner"
    assert qualname(Outer.Inner()) == f"{__name__}.Outer.Inner"  # an instance: its class
    assert shortname(Outer.Inner) == f"{__name__}.Inner"
    assert label("text") == "text" and label(3) == "3"
    assert label(Outer()) == "outer-name"
    assert shortlabel(Outer.Inner) == "Outer.Inner"


def test_times_want_seconds() -> None:
    durations: list[Seconds] = [1.5, timedelta(seconds=2), "30/m"]
    assert [want_seconds(d) for d in durations] == [1.5, 2.0, 0.5]


async def test_aiter_helpers() -> None:
    async def numbers() -> AsyncIterator[int]:
        for n in range(5):
            yield n

    iterator = aiter([1, 2])
    assert await anext(iterator) == 1
    assert await anext(iterator) == 2
    assert await anext(iterator, None) is None
    with pytest.raises(StopAsyncIteration):
        await anext(iterator)
    assert await alist(aenumerate(numbers(), 1)) == [(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)]
    assert await alist(chunks(numbers(), 2)) == [[0, 1], [2, 3], [4]]
    with pytest.raises(TypeError, match="not an iterable"):
        aiter(42)  # type: ignore[call-overload]


def test_get_logger_gives_a_quiet_library_logger() -> None:
    logger = get_logger("mode-compat-test.quiet")
    assert logger is logging.getLogger("mode-compat-test.quiet")
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)


@pytest.mark.parametrize(
    "strategy",
    [
        OneForOneSupervisor,
        OneForAllSupervisor,
        CrashingSupervisor,
        ForfeitOneForOneSupervisor,
        ForfeitOneForAllSupervisor,
    ],
)
def test_modes_supervisors_are_agent_supervisor_strategies(strategy: Any, tmp_path: Path) -> None:
    app = App("mode-supervisors", environ={}, entry_points=False, datadir=str(tmp_path))

    @app.agent(supervisor_strategy=strategy)
    async def chosen(stream: Any) -> None:
        async for _ in stream:
            pass

    assert isinstance(app.supervisor_for(chosen), strategy)
    assert issubclass(strategy, mode.supervisors.SupervisorStrategy)
    assert strategy.__module__ == agents.supervisors.__name__
