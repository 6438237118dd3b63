"""``strm.Schema``: decoding and encoding keys and values by declared type."""

import base64
import json
from decimal import Decimal

import pytest
import strm
from strm.codecs.builtin import JsonCodec
from strm.codecs.registry import Serializers
from strm.kernel.errors import ConfigurationError, KeyDecodeError, ValueDecodeError


class Shape(strm.Record, namespace="tests.schema.Shape"):
    name: str


class Circle(Shape, namespace="tests.schema.Circle"):
    radius: float = 1.0


class Checked(strm.Record, validation=True, namespace="tests.schema.Checked"):
    n: int


class Packed(strm.Record, serializer="json|binary", include_metadata=False):
    n: int


class Misnamed(strm.Record, serializer="no-such-codec"):
    n: int


@pytest.fixture
def serializers(strm_app: strm.App) -> Serializers:
    return strm_app.serializers


def test_schema_is_exported_and_keeps_its_arguments() -> None:
    schema = strm.Schema(key_type=str, value_type=Shape, value_serializer="json", allow_empty=True)
    assert (schema.key_type, schema.value_type) == (str, Shape)
    assert (schema.key_serializer, schema.value_serializer) == (None, "json")
    assert schema.allow_empty is True
    assert repr(schema) == (
        "Schema(key_type=<class 'str'>, value_type=<class 'test_schema.Shape'>, "
        "value_serializer='json', allow_empty=True)"
    )


def test_record_values_round_trip_and_pick_the_subclass(serializers: Serializers) -> None:
    schema = strm.Schema(value_type=Shape)
    data = schema.dumps_value(serializers, Circle("c", 2.0))
    assert json.loads(data or b"") == Circle("c", 2.0).to_representation()
    value = schema.loads_value(serializers, data)
    assert type(value) is Circle and value == Circle("c", 2.0)


def test_record_keys_use_the_model_serializer(serializers: Serializers) -> None:
    schema = strm.Schema(key_type=Packed)
    data = schema.dumps_key(serializers, Packed(1))
    assert base64.b64decode(data or b"") == b'{"n":1}'
    assert schema.loads_key(serializers, data) == Packed(1)


def test_the_schema_serializer_wins_over_the_model_option(serializers: Serializers) -> None:
    schema = strm.Schema(value_type=Packed, value_serializer="json")
    assert schema.dumps_value(serializers, Packed(1)) == b'{"n":1}'
    assert schema.loads_value(serializers, b'{"n":1}') == Packed(1)
    coded = strm.Schema(value_type=Packed, value_serializer=JsonCodec())
    assert coded.loads_value(serializers, b'{"n":2}') == Packed(2)


def test_bad_json_for_a_record_is_a_value_decode_error(serializers: Serializers) -> None:
    schema = strm.Schema(value_type=Shape)
    with pytest.raises(ValueDecodeError, match="cannot decode value: JSONDecodeError"):
        schema.loads_value(serializers, b"{nope")


def test_a_record_with_a_missing_field_is_a_value_decode_error(serializers: Serializers) -> None:
    schema = strm.Schema(value_type=Shape)
    with pytest.raises(ValueDecodeError, match=r"value as Shape: ValidationError.*name: required"):
        schema.loads_value(serializers, b'{"other": 1}')


def test_record_keys_without_a_serializer_use_json_not_raw(serializers: Serializers) -> None:
    schema = strm.Schema(key_type=Checked)
    data = schema.dumps_key(serializers, Checked(1))
    assert data == b'{"n":1,"__strm":{"ns":"tests.schema.Checked"}}'
    assert schema.loads_key(serializers, data) == Checked(1)


def test_a_validation_failure_carries_the_validation_text(serializers: Serializers) -> None:
    schema = strm.Schema(key_type=Checked)
    with pytest.raises(KeyDecodeError, match="n: cannot convert str 'x' to int") as info:
        schema.loads_key(serializers, b'{"n": "x"}')
    assert isinstance(info.value.__cause__, strm.ValidationError)
    assert schema.loads_key(serializers, b'{"n": "7"}') == Checked(7)


def test_without_validation_a_wrong_type_is_kept(serializers: Serializers) -> None:
    schema = strm.Schema(value_type=Shape)
    assert schema.loads_value(serializers, b'{"name": 5}').name == 5


def test_tombstones_for_records(serializers: Serializers) -> None:
    strict = strm.Schema(value_type=Shape)
    with pytest.raises(ValueDecodeError, match=r"empty value as Shape .* allow_empty=True"):
        strict.loads_value(serializers, None)
    assert strm.Schema(value_type=Shape, allow_empty=True).loads_value(serializers, None) is None
    assert strict.dumps_value(serializers, None) is None


def test_an_unknown_codec_in_a_model_option_is_a_configuration_error(
    serializers: Serializers,
) -> None:
    schema = strm.Schema(value_type=Misnamed)
    with pytest.raises(ConfigurationError, match="Misnamed serializer: unknown codec"):
        schema.loads_value(serializers, b"{}")
    with pytest.raises(ConfigurationError, match="Misnamed serializer: unknown codec"):
        schema.dumps_value(serializers, Misnamed(1))


def test_bytes_and_str_ignore_the_default_codec(serializers: Serializers) -> None:
    raw = strm.Schema(key_type=bytes, value_type=str)
    assert raw.loads_key(serializers, b"\x00\xff") == b"\x00\xff"
    assert raw.loads_value(serializers, "ünï".encode()) == "ünï"
    assert raw.dumps_key(serializers, b"k") == b"k"
    assert raw.dumps_value(serializers, "ünï") == "ünï".encode()
    with pytest.raises(ValueDecodeError, match="cannot decode value as str: UnicodeDecodeError"):
        raw.loads_value(serializers, b"\xff")


def test_bytes_and_str_with_an_explicit_codec(serializers: Serializers) -> None:
    schema = strm.Schema(
        key_type=bytes, value_type=str, key_serializer="binary", value_serializer="json"
    )
    assert schema.dumps_key(serializers, b"\x00") == base64.b64encode(b"\x00")
    assert schema.loads_key(serializers, base64.b64encode(b"\x00")) == b"\x00"
    assert schema.dumps_value(serializers, "text") == b'"text"'
    assert schema.loads_value(serializers, b'"text"') == "text"
    with pytest.raises(ValueDecodeError, match="the codec gave int, not str"):
        schema.loads_value(serializers, b"3")


@pytest.mark.parametrize(
    ("tp", "value", "raw", "json_text"),
    [
        (int, 42, b"42", b"42"),
        (float, 2.5, b"2.5", b"2.5"),
        (Decimal, Decimal("1.10"), b"1.10", b'"1.10"'),
    ],
)
def test_numbers_with_raw_and_json(
    serializers: Serializers, tp: type, value: object, raw: bytes, json_text: bytes
) -> None:
    # The app's defaults: raw keys, JSON values.
    schema = strm.Schema(key_type=tp, value_type=tp)
    assert schema.dumps_key(serializers, value) == raw
    assert schema.loads_key(serializers, raw) == value
    assert schema.dumps_value(serializers, value) == json_text
    assert schema.loads_value(serializers, json_text) == value
    assert type(schema.loads_value(serializers, b"3")) is tp


def test_decimal_keeps_its_digits_from_json_numbers(serializers: Serializers) -> None:
    schema = strm.Schema(value_type=Decimal)
    assert str(schema.loads_value(serializers, b'"0.10"')) == "0.10"
    assert schema.loads_value(serializers, b"0.1") == Decimal("0.1")


def test_a_bad_number_is_a_decode_error(serializers: Serializers) -> None:
    schema = strm.Schema(key_type=int, value_type=Decimal)
    with pytest.raises(KeyDecodeError, match="cannot decode key as int: ValueError"):
        schema.loads_key(serializers, b"forty")
    with pytest.raises(ValueDecodeError, match="cannot decode value as Decimal"):
        schema.loads_value(serializers, b'"ten"')
    with pytest.raises(ValueDecodeError, match="the codec gave list, not a number"):
        schema.loads_value(serializers, b"[1]")


def test_untyped_gives_what_the_codec_gives(serializers: Serializers) -> None:
    schema = strm.Schema()
    assert schema.loads_key(serializers, b"k") == b"k"
    assert schema.loads_value(serializers, b'{"a": [1]}') == {"a": [1]}
    assert schema.loads_value(serializers, None) is None
    assert schema.dumps_value(serializers, {"a": 1}) == b'{"a":1}'


def test_untyped_values_naming_a_model_become_that_model(serializers: Serializers) -> None:
    schema = strm.Schema()
    assert schema.loads_value(serializers, Circle("c").dumps()) == Circle("c")
    faust_payload = b'{"name": "s", "__faust": {"ns": "tests.schema.Shape"}}'
    assert schema.loads_value(serializers, faust_payload) == Shape("s")
    unknown = b'{"name": "s", "__strm": {"ns": "not.Registered"}}'
    assert schema.loads_value(serializers, unknown) == {
        "name": "s",
        "__strm": {"ns": "not.Registered"},
    }
    with pytest.raises(ValueDecodeError, match=r"as Checked .*named by its namespace"):
        schema.loads_value(serializers, b'{"n": "x", "__strm": {"ns": "tests.schema.Checked"}}')


def test_untyped_schema_sends_records_with_their_serializer(serializers: Serializers) -> None:
    schema = strm.Schema()
    assert base64.b64decode(schema.dumps_value(serializers, Packed(3)) or b"") == b'{"n":3}'


def test_other_declared_types_pass_the_codec_result_through(serializers: Serializers) -> None:
    schema = strm.Schema(value_type=dict)
    assert schema.loads_value(serializers, b'{"a": 1}') == {"a": 1}


def test_schema_arguments_are_keyword_only_and_checked() -> None:
    with pytest.raises(TypeError):
        strm.Schema(str, Shape)  # type: ignore[misc]
    with pytest.raises(TypeError, match="value_serializer must be a codec name or codec object"):
        strm.Schema(value_serializer=3)  # type: ignore[arg-type]


def _outcome(load: object, data: bytes | None) -> object:
    try:
        return ("ok", load(data))  # type: ignore[operator]
    except Exception as exc:
        return ("error", type(exc), str(exc))


@pytest.mark.parametrize(
    "schema",
    [
        strm.Schema(),
        strm.Schema(key_type=str, value_type=str),
        strm.Schema(key_type=bytes, value_type=Shape),
        strm.Schema(value_type=Checked),
        strm.Schema(value_type=Packed),
        strm.Schema(key_type=int, value_type=int, value_serializer="json"),
        strm.Schema(value_type=Shape, allow_empty=True),
    ],
    ids=repr,
)
@pytest.mark.parametrize(
    "data",
    [
        None,
        b'"text"',
        b"\xff\xfe",
        b'{"name": "c", "radius": 2.5, "__strm": {"ns": "tests.schema.Circle"}}',
        b'{"n": "not a number"}',
        b'{"n": 3}',
        b"NaN",
        b"42",
    ],
)
def test_bound_loaders_decode_and_fail_as_the_schema_does(
    serializers: Serializers, schema: strm.Schema, data: bytes | None
) -> None:
    """``Schema.bind`` (what a subscription calls per record) gives the same values and the
    same errors as ``loads_key``/``loads_value``, through its fast paths included."""
    load_key, load_value = schema.bind(serializers)
    expected_key = _outcome(lambda d: schema.loads_key(serializers, d), data)
    assert _outcome(load_key or (lambda d: d), data) == expected_key
    expected_value = _outcome(lambda d: schema.loads_value(serializers, d), data)
    assert _outcome(load_value, data) == expected_value


def test_bind_leaves_raw_keys_undecoded_and_respects_a_subclass(serializers: Serializers) -> None:
    assert strm.Schema().bind(serializers)[0] is None  # raw bytes: the key is the payload

    class Upper(strm.Schema):
        def loads_value(self, serializers: Serializers, data: bytes | None) -> object:
            return str(super().loads_value(serializers, data)).upper()

    _, load_value = Upper().bind(serializers)
    assert load_value(b'"abc"') == "ABC"


@pytest.mark.parametrize(
    "schema",
    [
        strm.Schema(),
        strm.Schema(key_serializer="json", value_serializer="json"),
        strm.Schema(key_serializer="json|binary", value_serializer="pickle"),
        strm.Schema(key_type=str, value_type=int),
        strm.Schema(value_type=Shape),
    ],
    ids=repr,
)
@pytest.mark.parametrize(
    "obj",
    [
        None,
        "text",
        "é",
        b"raw",
        3,
        True,
        2.5,
        float("nan"),
        10**30,
        Decimal("1.10"),
        {"a": [1, "b"]},
        [Circle("c")],
        Circle("c", 2.0),
        Packed(3),
        object(),
    ],
    ids=repr,
)
def test_bound_dumpers_encode_and_fail_as_the_schema_does(
    serializers: Serializers, schema: strm.Schema, obj: object
) -> None:
    """``Schema.bind_dumps`` (what a table's changelog calls per record) gives the same bytes
    and the same errors as ``dumps_key``/``dumps_value``, through its fast path included."""
    dump_key, dump_value = schema.bind_dumps(serializers)
    assert _outcome(dump_key, obj) == _outcome(lambda o: schema.dumps_key(serializers, o), obj)
    assert _outcome(dump_value, obj) == _outcome(lambda o: schema.dumps_value(serializers, o), obj)


def test_bind_dumps_respects_a_subclass_of_the_schema_or_the_serializers(
    strm_app: strm.App,
) -> None:
    class Loud(strm.Schema):
        def dumps_value(self, serializers: Serializers, value: object) -> bytes | None:
            return b"!" + (super().dumps_value(serializers, value) or b"")

    class Tagged(Serializers):
        def dumps_key(self, key: object, serializer: object = None) -> bytes | None:
            return b"k:" + (super().dumps_key(key, serializer) or b"")  # type: ignore[arg-type]

    serializers = strm_app.serializers
    assert Loud().bind_dumps(serializers)[1]({"a": 1}) == b'!{"a":1}'
    tagged = Tagged(serializers._factories)
    assert strm.Schema(key_serializer="json").bind_dumps(tagged)[0]("k") == b'k:"k"'
