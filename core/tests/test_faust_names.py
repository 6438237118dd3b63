"""Every public name of Faust is on strm, with the same role: ``import strm as faust`` is the
whole migration for the names a Faust app uses."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
import strm
import strm as faust
from strm.app import App
from strm.types import AgentT, AppT, ChannelT, EventT, ModelT, StreamT, TableT, TopicT

AppFactory = Callable[..., App]

#: ``faust.__all__`` of faust-streaming, written down here (no Faust dependency).
FAUST_ALL = (
    "Agent", "App", "AppCommand", "Command", "Channel", "ChannelT", "Event", "EventT", "Model",
    "ModelOptions", "Record", "Monitor", "Schema", "Sensor", "SetTable", "SetGlobalTable",
    "Codec", "Service", "ServiceT", "Stream", "StreamT", "current_event", "Table",
    "GlobalTable", "Topic", "TopicT", "GSSAPICredentials", "SASLCredentials", "SSLCredentials",
    "Settings", "HoppingWindow", "TumblingWindow", "SlidingWindow", "Window", "Worker", "uuid",
)  # fmt: skip


@pytest.mark.parametrize("name", FAUST_ALL)
def test_every_name_of_fausts_all_is_on_strm(name: str) -> None:
    assert name in strm.__all__
    assert getattr(strm, name) is not None


def test_the_names_are_the_classes_that_play_the_role(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    topic = app.topic("names")
    table = app.Table("names-table", default=int)

    @app.agent(topic)
    async def agent(stream: Any) -> None:
        async for _ in stream:
            pass

    class Point(faust.Record):
        x: int

    assert isinstance(app, faust.App) and isinstance(app, AppT)
    assert isinstance(topic, faust.Topic) and isinstance(topic, TopicT)
    assert isinstance(topic, faust.Channel) and isinstance(topic, ChannelT)
    assert isinstance(agent, faust.Agent) and isinstance(agent, AgentT)
    assert isinstance(table, faust.Table) and isinstance(table, TableT)
    assert isinstance(app.stream([1]), faust.StreamT) and StreamT is faust.Stream
    assert issubclass(Point, faust.Model) and issubclass(Point, ModelT)
    assert faust.EventT is faust.Event is EventT
    assert isinstance(app.conf, faust.Settings)
    for window in (
        faust.TumblingWindow(60),
        faust.HoppingWindow(60, 10),
        faust.SlidingWindow(5, 5, 60),
    ):
        assert isinstance(window, faust.Window)
    assert issubclass(faust.GlobalTable, faust.Table)
    assert issubclass(faust.SetGlobalTable, faust.SetTable)
    assert issubclass(faust.AppCommand, faust.Command)
    assert inspect.isclass(faust.Worker) and inspect.isclass(faust.Monitor)
    uuid = faust.uuid()
    assert isinstance(uuid, str) and len(uuid) == 36 and uuid != faust.uuid()


def test_generic_names_can_be_subscripted_in_annotations_at_run_time() -> None:
    class Order(faust.Record):
        id: str

    def handler(stream: faust.StreamT[Order], topic: faust.TopicT[Order]) -> None:
        return None

    hints = inspect.get_annotations(handler, eval_str=True, locals={"Order": Order})
    assert hints["stream"] == faust.Stream[Order]
    assert faust.Topic[Order] is not None and faust.Channel[Order] is not None


def test_the_command_line_is_loaded_only_when_a_command_class_is_asked_for() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, strm; loaded = 'strm.cli' in sys.modules; "
        "strm.AppCommand; print(loaded, 'strm.cli' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["False", "True"]


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Stremm'"):
        _ = faust.Stremm  # type: ignore[attr-defined]
