"""The ``strm_model_types`` hook: another library's types as ``key_type``/``value_type``.

This module is itself the plugin: it makes dataclasses model types (a stand-in for marshmallow
and the like), and the tests check what the kernel does with one: load with validation on
receive, dump on send, JSON rather than raw for keys, and a payload the type refuses
dead-lettered like a record's.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
import strm
from strm.app import App
from strm.builtins.memory_transport import drop_broker, get_broker, unique_url
from strm.kernel import records
from strm.kernel.errors import KeyDecodeError, ValueDecodeError
from strm.kernel.model_types import ModelType
from strm.testing import eventually
from strm.testing.pytest_plugin import AppFactory


class DataclassType:
    """Loads a dict into a dataclass, refusing missing and unknown fields."""

    def handles(self, tp: Any) -> bool:
        return isinstance(tp, type) and dataclasses.is_dataclass(tp)

    def load(self, tp: Any, data: Any) -> Any:
        if not isinstance(data, dict):
            raise TypeError(f"expected an object, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(tp)}
        missing = sorted(names - data.keys())
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        return tp(**{k: v for k, v in data.items() if k in names})

    def dump(self, tp: Any, value: Any) -> Any:
        return dataclasses.asdict(value)


@strm.hookimpl
def strm_model_types() -> list[records.Provision]:
    return [records.model_type("dataclass", DataclassType)]


@dataclasses.dataclass
class Point:
    x: int
    y: int


@pytest.fixture
def broker_url() -> Iterator[str]:
    url = unique_url("model-types")
    yield url
    drop_broker(url)


def make(factory: AppFactory, broker_url: str, *, plugin: bool = True, **settings: Any) -> App:
    plugins = [__name__] if plugin else []
    return factory("mt", plugins=plugins, broker=broker_url, topic_partitions=1, **settings)


def payloads(broker_url: str, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    return [(m.key, m.value) for log in get_broker(broker_url).topics[topic].logs for m in log]


def test_the_provision_is_a_model_type(strm_app_factory: AppFactory, broker_url: str) -> None:
    app = make(strm_app_factory, broker_url).configure()
    (provision,) = app.plugins.provisions("model_type").values()
    assert provision.name == "dataclass"
    assert isinstance(provision.factory(), ModelType)
    assert app.serializers.model_types.for_type(Point) is not None
    assert app.serializers.model_types.for_type(dict) is None


async def test_sent_dumped_and_received_loaded(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = make(strm_app_factory, broker_url)
    points = app.topic("points", key_type=Point, value_type=Point)
    seen: list[tuple[Any, Any]] = []

    @app.agent(points)
    async def read(stream: Any) -> None:
        async for key, value in stream.items():
            seen.append((key, value))

    async with app.running():
        await points.send(key=Point(0, 0), value=Point(1, 2))
        await eventually(lambda: seen == [(Point(0, 0), Point(1, 2))])
    # Keys are JSON too, though the key codec is raw: raw bytes cannot carry fields.
    [(key, value)] = payloads(broker_url, "points")
    assert json.loads(key or b"") == {"x": 0, "y": 0}
    assert json.loads(value or b"") == {"x": 1, "y": 2}


def test_decode_errors_name_the_type_and_the_cause(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = make(strm_app_factory, broker_url).configure()
    schema = app.topic("points", key_type=Point, value_type=Point).schema
    with pytest.raises(
        ValueDecodeError, match=r"^cannot decode value as Point: ValueError: missing y"
    ):
        schema.loads_value(app.serializers, b'{"x": 1}')
    with pytest.raises(KeyDecodeError, match=r"^cannot decode key as Point: TypeError: expected"):
        schema.loads_key(app.serializers, b"[1, 2]")
    with pytest.raises(ValueDecodeError, match=r"empty value as Point \(a tombstone\?\)"):
        schema.loads_value(app.serializers, None)


async def test_a_refused_payload_is_dead_lettered_like_a_records(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = make(strm_app_factory, broker_url, dead_letter_topic="dlq")
    points = app.topic("points", value_type=Point)
    seen: list[Point] = []

    @app.agent(points)
    async def read(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    async with app.running():
        await points.send_raw(key=None, value=b'{"x": 1}')
        await points.send(value=Point(3, 4))
        await eventually(lambda: seen == [Point(3, 4)])
        await eventually(lambda: "dlq" in get_broker(broker_url).topics)
        await eventually(lambda: len(payloads(broker_url, "dlq")) == 1)
    [letter] = [m for log in get_broker(broker_url).topics["dlq"].logs for m in log]
    assert letter.value == b'{"x": 1}'
    error = dict(letter.headers)["strm-error"].decode()
    assert "ValueDecodeError: cannot decode value as Point: ValueError: missing y" in error


async def test_without_the_plugin_the_type_gets_what_the_codec_gives(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = make(strm_app_factory, broker_url, plugin=False)
    points = app.topic("points", value_type=Point)
    seen: list[Any] = []

    @app.agent(points)
    async def read(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    async with app.running():
        await points.send(value={"x": 1})
        await eventually(lambda: seen == [{"x": 1}])
