"""The built-in codecs and the app's codec registry (``app.serializers``)."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from strm.app import App
from strm.codecs import builtin
from strm.codecs.builtin import JsonCodec
from strm.codecs.registry import Serializers
from strm.kernel.errors import (
    CodecError,
    ConfigurationError,
    KeyDecodeError,
    StrmError,
    ValueDecodeError,
)

AppFactory = Callable[..., App]


@pytest.fixture
def serializers(strm_app: App) -> Serializers:
    return strm_app.serializers


def test_the_defaults_are_raw_keys_and_json_values(serializers: Serializers) -> None:
    assert serializers.dumps_key("k") == b"k"
    assert serializers.dumps_value({"a": 1}) == b'{"a":1}'
    assert serializers.loads_key(b"k") == b"k"
    assert serializers.loads_value(b'{"a":1}') == {"a": 1}


def test_raw(serializers: Serializers) -> None:
    assert serializers.dumps_value(b"\x00\xff", "raw") == b"\x00\xff"
    assert serializers.dumps_value("ünï", "raw") == "ünï".encode()
    assert serializers.dumps_value(bytearray(b"ab"), "raw") == b"ab"
    assert serializers.loads_value(b"\x00\xff", "raw") == b"\x00\xff"


def test_raw_refuses_what_is_not_bytes_or_text(serializers: Serializers) -> None:
    with pytest.raises(CodecError, match=r"cannot encode value of type int.*raw codec takes bytes"):
        serializers.dumps_value(42, "raw")


def test_json_round_trip(serializers: Serializers) -> None:
    value = {"list": [1, 2.5, None, True], "text": "ünï"}
    data = serializers.dumps_value(value, "json")
    assert data == json.dumps(value, separators=(",", ":")).encode()
    assert serializers.loads_value(data, "json") == value


def test_pickle_round_trip(serializers: Serializers) -> None:
    value = {"tuple": (1, 2), "set": {3}, "when": datetime.date(2024, 1, 2)}
    data = serializers.dumps_value(value, "pickle")
    assert isinstance(data, bytes)
    assert serializers.loads_value(data, "pickle") == value


def test_binary_is_base64(serializers: Serializers) -> None:
    assert serializers.dumps_value(b"\x00\xff", "binary") == base64.b64encode(b"\x00\xff")
    assert serializers.loads_value(b"AP8=", "binary") == b"\x00\xff"


def test_json_then_binary_composes_left_to_right(serializers: Serializers) -> None:
    data = serializers.dumps_value({"a": 1}, "json|binary")
    assert data == base64.b64encode(b'{"a":1}')
    assert serializers.loads_value(data, "json|binary") == {"a": 1}
    assert serializers.loads_value(data, " json | binary ") == {"a": 1}


def test_a_composed_default_serializer(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(value_serializer="json|binary")
    assert app.serializers.dumps_value([1]) == base64.b64encode(b"[1]")


def test_an_unknown_codec_is_named_with_the_installed_ones(serializers: Serializers) -> None:
    with pytest.raises(ConfigurationError) as info:
        serializers.codec("yaml")
    message = str(info.value)
    assert "unknown codec 'yaml'" in message
    assert "installed codecs: binary, json, pickle, raw" in message


def test_an_unknown_codec_in_a_composition(serializers: Serializers) -> None:
    with pytest.raises(ConfigurationError, match=r"unknown codec 'nope' in 'json\|nope'"):
        serializers.codec("json|nope")


def test_an_unknown_default_codec_fails_when_the_app_is_configured(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory(key_serializer="yaml")
    with pytest.raises(ConfigurationError) as info:
        app.configure()
    assert "key_serializer: unknown codec 'yaml'" in str(info.value)
    assert "raw" in str(info.value)


class Reversing:
    """A codec object given directly instead of by name."""

    def dumps(self, obj: Any) -> bytes:
        return str(obj).encode()[::-1]

    def loads(self, data: bytes) -> Any:
        return data[::-1].decode()


def test_a_codec_object_as_key_serializer(strm_app_factory: AppFactory) -> None:
    codec = Reversing()
    serializers = strm_app_factory(key_serializer=codec).serializers
    assert serializers.key_codec is codec
    assert serializers.dumps_key("abc") == b"cba"
    assert serializers.loads_key(b"cba") == "abc"
    assert serializers.dumps_value("abc") == b'"abc"'


def test_a_codec_object_per_call(serializers: Serializers) -> None:
    codec = Reversing()
    assert serializers.codec(codec) is codec
    assert serializers.dumps_value("xy", codec) == b"yx"
    assert serializers.loads_key(b"yx", codec) == "xy"


def test_a_key_that_cannot_be_decoded(strm_app_factory: AppFactory) -> None:
    serializers = strm_app_factory(key_serializer="json").serializers
    with pytest.raises(KeyDecodeError, match="cannot decode key: JSONDecodeError"):
        serializers.loads_key(b"{not json")


def test_a_value_that_cannot_be_decoded(serializers: Serializers) -> None:
    with pytest.raises(ValueDecodeError, match="cannot decode value: JSONDecodeError") as info:
        serializers.loads_value(b"{not json")
    assert isinstance(info.value, CodecError)
    assert isinstance(info.value, StrmError)
    assert isinstance(info.value.__cause__, json.JSONDecodeError)


def test_bad_base64_is_a_decode_error(serializers: Serializers) -> None:
    with pytest.raises(ValueDecodeError, match="cannot decode value: Error"):
        serializers.loads_value(b"not base64!", "binary")
    with pytest.raises(KeyDecodeError, match="cannot decode key"):
        serializers.loads_key(b"%%%", "json|binary")


def test_bad_pickle_is_a_decode_error(serializers: Serializers) -> None:
    with pytest.raises(ValueDecodeError, match="cannot decode value"):
        serializers.loads_value(b"not a pickle", "pickle")


def test_none_passes_through(serializers: Serializers) -> None:
    for name in ("raw", "json", "pickle", "binary", "json|binary"):
        assert serializers.dumps_key(None, name) is None
        assert serializers.dumps_value(None, name) is None
        assert serializers.loads_key(None, name) is None
        assert serializers.loads_value(None, name) is None


@dataclasses.dataclass
class Point:
    x: int
    y: int

    def asdict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


class Model:
    def to_representation(self) -> dict[str, str]:
        return {"kind": "model"}

    def asdict(self) -> dict[str, str]:
        return {"kind": "asdict"}


def test_json_encodes_objects_sets_and_datetimes(serializers: Serializers) -> None:
    value = {
        "point": Point(1, 2),
        "model": Model(),
        "set": {3, 1, 2},
        "frozen": frozenset({"b", "a"}),
        "when": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC),
        "day": datetime.date(2024, 5, 6),
    }
    assert serializers.loads_value(serializers.dumps_value(value)) == {
        "point": {"x": 1, "y": 2},
        "model": {"kind": "model"},
        "set": [1, 2, 3],
        "frozen": ["a", "b"],
        "when": "2024-05-06T07:08:09+00:00",
        "day": "2024-05-06",
    }


def test_json_refuses_other_objects_naming_the_type(serializers: Serializers) -> None:
    with pytest.raises(CodecError, match=r"type object.*not JSON serializable"):
        serializers.dumps_value(object())
    with pytest.raises(CodecError, match="cannot encode key"):
        serializers.dumps_key(object(), "json")


def test_codecs_are_built_once_per_name(serializers: Serializers) -> None:
    assert serializers.codec("json|binary") is serializers.codec("json|binary")
    assert serializers.codec("json") is serializers.value_codec


@pytest.mark.parametrize(
    "data",
    [
        b'{"word": "x", "n": 1}',
        b"NaN",
        b'{"a": Infinity, "b": -Infinity}',
        b"123456789012345678901234567890",
        b'{"a": 1, "a": 2}',
        b'"\\ud800"',
        b'{"a": 1.5e400}',
        "[1, 2]",
        b" [] ",
    ],
)
def test_json_decodes_alike_with_and_without_msgspec(data: bytes | str) -> None:
    """The msgspec decoder (the strm[msgspec] extra) hands what it refuses to the standard
    library, so both give the same objects (NaN compared by its text)."""
    fast, plain = JsonCodec(), JsonCodec(fast=False)
    assert repr(fast.loads(data)) == repr(plain.loads(data))  # type: ignore[arg-type]


@pytest.mark.parametrize("data", [b"{", b"", b"\xff"])
def test_json_refuses_bad_input_with_and_without_msgspec(data: bytes) -> None:
    for codec in (JsonCodec(), JsonCodec(fast=False)):
        with pytest.raises(ValueError):
            codec.loads(data)


def test_msgspec_is_the_fast_decoder_when_installed() -> None:
    import msgspec  # a development dependency: the extra's path is the one tested here

    assert builtin._FAST_LOADS is not None
    assert builtin._FAST_LOADS(b"[1]") == msgspec.json.decode(b"[1]")


@pytest.mark.parametrize(
    "obj",
    ["", "word", 'quote " and \\ back', "é ü 中 \U0001f600", "\x00\x1f\ud800", 0, -7, 10**40, True],
    ids=repr,
)
def test_json_writes_plain_strings_and_ints_as_the_standard_encoder(
    serializers: Serializers, obj: object
) -> None:
    """The str and int shortcut of the JSON codec writes the standard library's bytes."""
    expected = json.dumps(obj, separators=(",", ":")).encode()
    assert serializers.codec("json").dumps(obj) == expected
