"""Keys, values and headers through every built-in codec (``raw``, ``json``, ``pickle``,
``binary``, ``json|binary``) and a Record value type, on a real Kafka broker: each record is
sent by ``topic.send``, lands on the broker encoded as the codec says (checked with a plain
aiokafka consumer) and reaches an agent decoded back to what was sent, with its headers."""

from __future__ import annotations

import base64
import json
import pickle
from collections.abc import Callable
from typing import Any

import pytest
import strm
from itest_helpers import read_topic
from strm.app import App
from strm.testing import eventually

pytestmark = [pytest.mark.slow, pytest.mark.kafka]


class Point(strm.Record):
    x: int
    y: int
    label: str


def _pickle_key() -> Any:
    return ("tuple-key", 7)


#: codec -> (key, value, expected wire bytes of the key, expected wire bytes of the value,
#: decoded key, decoded value)
CASES: dict[str, tuple[Any, Any, Callable[[bytes], Any], Callable[[bytes], Any], Any, Any]] = {
    "raw": (
        b"k-raw",
        b"\x00\xffraw bytes",
        lambda b: b,
        lambda b: b,
        b"k-raw",
        b"\x00\xffraw bytes",
    ),
    "json": (
        {"id": 1},
        {"a": [1, 2], "b": "x", "c": None},
        json.loads,
        json.loads,
        {"id": 1},
        {"a": [1, 2], "b": "x", "c": None},
    ),
    "pickle": (
        _pickle_key(),
        {"set": {1, 2}, "tuple": (1, 2), "bytes": b"\x00"},
        pickle.loads,
        pickle.loads,
        _pickle_key(),
        {"set": {1, 2}, "tuple": (1, 2), "bytes": b"\x00"},
    ),
    "binary": (
        b"k-bin",
        b"\x00\x01\x02binary",
        base64.b64decode,
        base64.b64decode,
        b"k-bin",
        b"\x00\x01\x02binary",
    ),
    "json|binary": (
        "k-jb",
        {"n": 1, "nested": {"m": [True, False]}},
        lambda b: json.loads(base64.b64decode(b)),
        lambda b: json.loads(base64.b64decode(b)),
        "k-jb",
        {"n": 1, "nested": {"m": [True, False]}},
    ),
}


async def test_every_builtin_codec_and_a_record_round_trip_through_kafka(
    kafka_app: Callable[..., App], kafka_bootstrap: str, unique: Callable[[str], str]
) -> None:
    app = kafka_app(topic_partitions=2)
    seen: dict[str, list[tuple[Any, Any, dict[str, bytes], str]]] = {}
    topics: dict[str, Any] = {}

    def collector(name: str, topic: Any) -> None:
        seen[name] = []

        @app.agent(topic, name=f"collect-{name.replace('|', '-')}")
        async def collect(stream: Any) -> None:
            async for event in stream.events():
                seen[name].append(
                    (event.key, event.value, dict(event.headers), event.message.topic)
                )

    for codec in CASES:
        topic = app.topic(
            unique(f"codec-{codec.replace('|', '-')}"),
            key_serializer=codec,
            value_serializer=codec,
            partitions=2,
        )
        topics[codec] = topic
        collector(codec, topic)
    records_topic = app.topic(unique("codec-record"), key_type=str, value_type=Point, partitions=2)
    collector("record", records_topic)

    headers = {"trace-id": "abc-123", "binary": b"\x00\x01\xff"}
    points = [Point(x=i, y=-i, label=f"p{i}") for i in range(3)]
    async with app.running():
        for codec, (key, value, *_rest) in CASES.items():
            await topics[codec].send(key=key, value=value, headers=headers)
        for i, point in enumerate(points):
            await records_topic.send(key=f"pk{i}", value=point, headers=[("n", str(i))])
        await eventually(
            lambda: all(len(seen[c]) == 1 for c in CASES) and len(seen["record"]) == 3,
            timeout=30,
        )

    for codec, (_key, _value, _wk, _wv, key_out, value_out) in CASES.items():
        [(key, value, got_headers, topic_name)] = seen[codec]
        assert topic_name == topics[codec].topics[0]
        assert key == key_out, codec
        assert value == value_out, codec
        assert got_headers == {"trace-id": b"abc-123", "binary": b"\x00\x01\xff"}, codec

    got_points = sorted(seen["record"], key=lambda item: item[0])
    assert [k for k, *_ in got_points] == ["pk0", "pk1", "pk2"]
    for i, (_k, value, got_headers, _t) in enumerate(got_points):
        assert isinstance(value, Point)
        assert value == points[i]
        assert got_headers == {"n": str(i).encode()}

    # On the wire: the bytes are what each codec makes of the key and value.
    for codec, (key, value, wire_key, wire_value, _ko, _vo) in CASES.items():
        name = topics[codec].topics[0]
        [record] = await read_topic(kafka_bootstrap, name, 1)
        assert wire_key(record.key) == key, codec
        assert wire_value(record.value) == value, codec
        assert dict(record.headers) == {"trace-id": b"abc-123", "binary": b"\x00\x01\xff"}
    wire = await read_topic(kafka_bootstrap, records_topic.topics[0], 3)
    assert sorted(
        (r.key.decode(), {k: v for k, v in json.loads(r.value).items() if k != "__strm"})
        for r in wire
    ) == [(f"pk{i}", {"x": i, "y": -i, "label": f"p{i}"}) for i in range(3)]


async def test_undeclared_codec_name_is_refused_at_topic_definition(
    kafka_app: Callable[..., App],
) -> None:
    app = kafka_app()
    with pytest.raises(Exception, match="nosuchcodec"):
        app.topic("never-created", value_serializer="json|nosuchcodec")
