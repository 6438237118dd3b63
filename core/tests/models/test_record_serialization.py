"""``dumps``/``loads`` with codecs, and the errors for bad payloads and unknown codecs."""

import base64
import datetime
import decimal
import json
from typing import Any

import pytest
import strm
from strm.codecs.builtin import JsonCodec
from strm.kernel.errors import CodecError, ConfigurationError, ValidationError, ValueDecodeError


class Point(strm.Record, namespace="tests.ser.Point"):
    x: int
    y: int = 0


class Binary(strm.Record, serializer="json|binary", include_metadata=False):
    x: int


class Misnamed(strm.Record, serializer="no-such-codec"):
    x: int


def test_dumps_is_compact_json_by_default() -> None:
    assert Point(1, 2).dumps() == b'{"x":1,"y":2,"__strm":{"ns":"tests.ser.Point"}}'
    assert Point.loads(b'{"x":1,"y":2}') == Point(1, 2)


def test_the_model_serializer_option_and_an_explicit_serializer() -> None:
    data = Binary(5).dumps()
    assert base64.b64decode(data) == b'{"x":5}'
    assert Binary.loads(data) == Binary(5)
    assert Binary(5).dumps(serializer="json") == b'{"x":5}'
    assert Binary.loads(b'{"x":5}', serializer="json") == Binary(5)


def test_a_codec_object_works_as_serializer() -> None:
    assert Point.loads(Point(3).dumps(JsonCodec()), JsonCodec()) == Point(3)


def test_records_encode_through_the_app_codecs(strm_app: strm.App) -> None:
    data = strm_app.serializers.dumps_value(Point(1))
    assert json.loads(data or b"") == Point(1).to_representation()


def test_bad_json_is_a_value_decode_error_with_the_cause() -> None:
    with pytest.raises(ValueDecodeError, match="cannot decode Point: JSONDecodeError") as info:
        Point.loads(b"{not json")
    assert isinstance(info.value.__cause__, json.JSONDecodeError)


def test_a_payload_that_is_not_an_object_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="cannot build Point from list"):
        Point.loads(b"[1, 2]")


def test_an_unknown_codec_name_fails_on_first_use_naming_model_and_codec() -> None:
    # Codecs come from plugins that only an app loads, so the name cannot be checked when the
    # class is created; the first dumps/loads reports it.
    expected = "Misnamed serializer: unknown codec 'no-such-codec'"
    with pytest.raises(ConfigurationError, match=expected):
        Misnamed(1).dumps()
    with pytest.raises(ConfigurationError, match="know only the built-in codecs"):
        Misnamed.loads(b"{}")


def test_encoding_failures_are_codec_errors() -> None:
    with pytest.raises(CodecError, match="cannot encode Point"):
        Point(1).dumps(serializer="raw")


class _Inner(strm.Record, namespace="tests.ser.Inner"):
    a: int


class _Every(strm.Record, namespace="tests.ser.Every"):
    i: int
    f: float
    s: str
    b: bool
    o: int | None = None
    when: datetime.datetime | None = None
    amount: decimal.Decimal | None = None
    inner: _Inner | None = None
    items: list[Any] | None = None
    tags: set[int] | None = None
    hidden: int = strm.FieldDescriptor(default=0, exclude=True)  # type: ignore[assignment]


@pytest.mark.parametrize(
    "fields",
    [
        {"i": 1, "f": 1.5, "s": "abc", "b": True},
        {"i": -5, "f": float("nan"), "s": 'é\u2028"\\</', "b": False, "o": 3},
        {"i": 2**70, "f": float("-inf"), "s": "", "b": True},
        {
            "i": 0,
            "f": 1e16,
            "s": "x",
            "b": False,
            "when": datetime.datetime(2020, 1, 2, 3, 4, 5),
            "amount": decimal.Decimal("1.10"),
            "inner": _Inner(3),
            "items": [1, "x", None],
            "tags": {3, 1},
        },
        {"i": True, "f": 3, "s": "x", "b": 1},  # values of other types than declared
    ],
)
def test_dumps_writes_the_bytes_the_json_codec_makes_of_the_representation(
    fields: dict[str, Any],
) -> None:
    """The per-class JSON encoder is byte for byte the codec's output on the dict (NaN, big
    ints, escapes, nested records and values of unexpected types included)."""
    record = _Every(**fields)
    assert record.dumps() == JsonCodec().dumps(record.to_representation())
    assert _Every.loads(record.dumps()).s == record.s


def test_dumps_of_records_without_fields_or_metadata() -> None:
    class Empty(strm.Record, include_metadata=False):
        pass

    class Bare(strm.Record, namespace="tests.ser.Bare"):
        pass

    assert Empty().dumps() == b"{}"
    assert Bare().dumps() == b'{"__strm":{"ns":"tests.ser.Bare"}}'
