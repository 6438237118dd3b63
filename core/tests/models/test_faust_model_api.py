"""The model and codec API as Faust defines it: ``Model``, ``Record`` options, field
descriptors (built-in and custom), ``ModelOptions``, and the ``Codec`` base class with the
codec registry."""

from __future__ import annotations

import base64
import datetime as dt
import json
import pickle
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import strm
from strm import codecs
from strm.app import App
from strm.kernel.errors import ConfigurationError, ValidationError
from strm.models import (
    BooleanField,
    DatetimeField,
    DecimalField,
    FieldDescriptor,
    FloatField,
    IntegerField,
    StringField,
)
from strm.models.base import Model
from strm.testing import eventually


class Point(strm.Record, serializer="json", namespace="tests.faust_api.Point"):
    x: int
    y: int = 0


def test_records_are_models_and_model_is_not_concrete() -> None:
    assert isinstance(Point(1), Model)
    with pytest.raises(TypeError, match="not a concrete model type"):
        Model.from_data({"x": 1})


def test_loads_dumps_to_representation_asdict_from_data_and_derive() -> None:
    point = Point(x=1, y=2)
    assert point.asdict() == {"x": 1, "y": 2}
    assert point.to_representation() == {"x": 1, "y": 2, "__strm": {"ns": "tests.faust_api.Point"}}
    assert Point.loads(point.dumps()) == point
    assert Point.loads(point.dumps(serializer="pickle"), serializer="pickle") == point
    assert Point.loads(b'{"x": 5}', default_serializer="json") == Point(5)
    assert Point.from_data({"x": 3, "y": 4}) == Point(3, 4)
    assert point.derive(y=9) == Point(1, 9)
    assert point.derive(Point(7, 8)) == Point(7, 8)


def test_model_options_views_of_the_fields() -> None:
    options = Point._options
    assert options.fieldset == frozenset({"x", "y"})
    assert options.fieldpos == {0: "x", 1: "y"}
    assert options.optionalset == frozenset({"y"})
    assert options.defaults == {"y": 0}
    assert options.isodates and options.decimals
    assert options.namespace == "tests.faust_api.Point"


def test_abstract_models_and_inheritance() -> None:
    class Stamped(strm.Record, abstract=True):
        created: float | None = None

    class Account(Stamped):
        id: str = ""

    account = Account(id="X", created=12.5)
    assert (account.id, account.created) == ("X", 12.5)
    with pytest.raises(TypeError, match="abstract"):
        Stamped()


def test_builtin_field_options() -> None:
    class Person(strm.Record, validation=True):
        name: str = StringField(max_length=5, trim_whitespace=True, required=True)
        age: int = IntegerField(min_value=18, max_value=99, default=30)
        score: float = FloatField(min_value=0.0, default=0.0)
        balance: Decimal = DecimalField(max_decimal_places=2, default=Decimal("0"))
        joined: dt.datetime = DatetimeField(default=dt.datetime(2020, 1, 1))
        active: bool = BooleanField(default=True)

    person = Person(name="  Ann ", age="40", balance="1.25", joined="2021-02-03T04:05:06")
    assert person.name == "Ann"
    assert person.age == 40
    assert person.balance == Decimal("1.25")
    assert person.joined == dt.datetime(2021, 2, 3, 4, 5, 6)
    assert person.active is True
    with pytest.raises(ValidationError) as raised:
        Person(name="far too long", age=12, balance="1.234")
    assert {e.field for e in raised.value.errors} == {"name", "age", "balance"}
    with pytest.raises(ValidationError, match="required field missing"):
        Person()


def test_builtin_fields_refuse_options_they_do_not_know() -> None:
    with pytest.raises(TypeError, match="does not take the option"):
        StringField(max_lenght=3)


class ChoiceField(FieldDescriptor[str]):
    """A custom field type, written as Faust's guide shows."""

    def __init__(self, choices: list[str], **kwargs: Any) -> None:
        self.choices = choices
        super().__init__(choices=choices, **kwargs)

    def validate(self, value: str) -> Iterable[ValidationError]:
        if value not in self.choices:
            yield self.validation_error(f"{self.field} must be one of {', '.join(self.choices)}")


def test_a_custom_field_type_validates_with_its_own_rules() -> None:
    class Order(strm.Record):
        side: str = ChoiceField(["SELL", "BUY"])

    assert Order.side.options == {"choices": ["SELL", "BUY"]}
    order = Order(side="LEFT")  # validation is off: the model only reports problems
    assert not order.is_valid()
    (error,) = order.validate()
    assert error.reason == "side must be one of SELL, BUY"
    assert error.field == "side"
    assert [e.reason for e in order.validation_errors] == [error.reason]
    assert Order(side="BUY").is_valid()

    class StrictOrder(strm.Record, validation=True):
        side: str = ChoiceField(["SELL", "BUY"])

    with pytest.raises(ValidationError, match="side must be one of SELL, BUY"):
        StrictOrder(side="LEFT")


def test_a_custom_field_type_converts_input_with_prepare_value() -> None:
    class UpperField(FieldDescriptor[str]):
        def prepare_value(self, value: Any, *, coerce: bool | None = None) -> Any:
            return value.upper() if isinstance(value, str) else value

    class Code(strm.Record):
        code: str = UpperField()

    assert Code(code="abc").code == "ABC"
    assert Code.loads(b'{"code": "xyz"}').code == "XYZ"


class reversed_json(codecs.Codec):
    """JSON with its bytes reversed: a codec only a test would want, so nothing else defines
    it."""

    def _dumps(self, obj: Any) -> bytes:
        return json.dumps(obj).encode()[::-1]

    def _loads(self, s: bytes) -> Any:
        return json.loads(s[::-1])


def test_codec_subclasses_chain_with_the_pipe_operator() -> None:
    chained = reversed_json() | codecs.binary()
    data = chained.dumps({"a": 1})
    assert base64.b64decode(data) == b'}1 :"a"{'
    assert chained.loads(data) == {"a": 1}
    assert [type(node) for node in chained.nodes] == [reversed_json, codecs.binary]
    assert repr(chained) == "reversed_json() | binary()"


def test_faust_pickle_codec_is_pickle_then_base64() -> None:
    data = codecs.pickle().dumps({"k": (1, 2)})
    assert pickle.loads(base64.b64decode(data)) == {"k": (1, 2)}
    assert codecs.pickle().loads(data) == {"k": (1, 2)}


def test_get_codec_dumps_and_loads_by_name() -> None:
    assert codecs.get_codec("json").dumps([1]) == b"[1]"
    assert codecs.dumps("json|binary", [1]) == base64.b64encode(b"[1]")
    assert codecs.loads("json|binary", base64.b64encode(b"[1]")) == [1]
    assert codecs.dumps(None, b"as is") == b"as is"
    with pytest.raises(ConfigurationError, match="unknown codec 'nope'"):
        codecs.get_codec("nope")


@pytest.fixture
def restore_codec_registry() -> Iterator[None]:
    """Codecs registered by name are process-wide: forget this test's afterwards."""
    saved = dict(codecs.codecs)
    yield
    codecs.codecs.clear()
    codecs.codecs.update(saved)


async def test_a_registered_codec_serves_models_and_apps(
    strm_app_factory: Callable[..., App], restore_codec_registry: None
) -> None:
    codecs.register("reversed-json-test", reversed_json())

    class Secret(strm.Record, serializer="reversed-json-test", include_metadata=False):
        word: str

    assert Secret("hi").dumps() == b'}"ih" :"drow"{'
    assert Secret.loads(Secret("hi").dumps()) == Secret("hi")
    assert codecs.codecs["reversed-json-test"].__class__ is reversed_json

    app = strm_app_factory("codec-app", broker="memory://codec-app-test")
    topic = app.topic("secrets", value_serializer="reversed-json-test|binary")
    seen: list[Any] = []

    @app.agent(topic)
    async def reader(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    async with app.running():
        await topic.send(value={"n": 1})
        await eventually(lambda: seen == [{"n": 1}])


def test_register_refuses_what_is_not_a_codec() -> None:
    with pytest.raises(TypeError, match="expected a codec"):
        codecs.register("broken", object())  # type: ignore[arg-type]
