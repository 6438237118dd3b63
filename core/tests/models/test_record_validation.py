"""Validation and coercion: every bad field reported at once, compatible input converted."""

import datetime as dt
import json
import math
from decimal import Decimal

import pytest
import strm
from strm.kernel.errors import StrmError, ValidationError
from strm.models import DecimalField, FloatField, IntegerField, StringField


class Loose(strm.Record):
    count: int
    name: str = ""


class Strict(strm.Record, validation=True):
    count: int
    name: str = ""
    ratio: float = 0.0
    when: dt.datetime | None = None


class Exact(strm.Record, validation=True, coerce=False):
    count: int
    ratio: float = 0.0


class Coercing(strm.Record, coerce=True):
    count: int
    ratio: float = 0.0
    flag: bool = False
    amount: Decimal = Decimal(0)
    label: str = ""


def test_validation_error_is_a_strm_error_and_a_value_error() -> None:
    assert issubclass(ValidationError, StrmError)
    assert issubclass(ValidationError, ValueError)
    assert strm.ValidationError is ValidationError


def test_without_validation_wrong_types_are_kept() -> None:
    record = Loose(count="many")  # type: ignore[arg-type]
    assert record.count == "many"
    assert not record.is_valid()
    [error] = record.validate()
    assert (error.field, error.expected, error.value) == ("count", "int", "many")


def test_validation_lists_every_bad_field_with_name_type_and_value() -> None:
    with pytest.raises(ValidationError) as info:
        Strict(count="many", name=["x"], ratio="wide", when="noon")  # type: ignore[arg-type]
    error = info.value
    assert str(error).startswith("Strict: 4 invalid fields: ")
    by_field = {e.field: e for e in error.errors}
    assert set(by_field) == {"count", "name", "ratio", "when"}
    assert by_field["count"].expected == "int" and by_field["count"].value == "many"
    assert "count: cannot convert str 'many' to int" in str(error)
    assert "name: expected str, got list ['x']" in str(error)
    assert "ratio: cannot convert str 'wide' to float" in str(error)
    assert "when: cannot convert str 'noon' to datetime | None" in str(error)


def test_missing_and_wrong_fields_are_reported_together() -> None:
    with pytest.raises(ValidationError) as info:
        Strict.from_data({"name": ["x"]})
    assert [e.field for e in info.value.errors] == ["count", "name"]
    assert "count: required field missing" in str(info.value)


def test_validation_implies_coercion_unless_turned_off() -> None:
    assert Strict(count="3").count == 3  # type: ignore[arg-type]
    assert Strict(count=3, ratio=2).ratio == 2.0
    with pytest.raises(ValidationError, match="count: expected int, got str '3'"):
        Exact(count="3")  # type: ignore[arg-type]
    assert Exact(count=3, ratio=2).ratio == 2.0  # an int is a fine float


def test_booleans_are_not_integers() -> None:
    with pytest.raises(ValidationError, match="count: expected int, got bool True"):
        Exact(count=True)


def test_coercion_converts_compatible_input() -> None:
    record = Coercing.from_data(
        {"count": " 42 ", "ratio": "0.25", "flag": "yes", "amount": "9.99", "label": 7}
    )
    assert record.count == 42
    assert record.ratio == 0.25
    assert record.flag is True
    assert record.amount == Decimal("9.99")
    assert record.label == "7"
    assert Coercing(count=4.0).count == 4
    assert Coercing(count=1, flag=0).flag is False  # type: ignore[arg-type]


def test_coercion_refuses_what_does_not_convert_even_without_validation() -> None:
    with pytest.raises(ValidationError, match=r"count: cannot convert float 4\.5 to int"):
        Coercing(count=4.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="flag: cannot convert str 'perhaps' to bool"):
        Coercing(count=1, flag="perhaps")  # type: ignore[arg-type]


def test_coercion_leaves_incompatible_types_for_validation_to_report() -> None:
    record = Coercing(count=[1])  # type: ignore[arg-type]
    assert record.count == [1]
    assert [e.field for e in record.validate()] == ["count"]


def test_non_finite_decimals_are_validation_errors_not_type_errors() -> None:
    class Money(strm.Record, validation=True):
        amount: Decimal
        capped: Decimal = DecimalField(default=Decimal(0), max_digits=5, max_decimal_places=2)

    for bad in ("NaN", "Infinity", "-Infinity", "sNaN"):
        with pytest.raises(ValidationError, match="amount: expected finite Decimal"):
            Money(amount=bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"capped: expected finite Decimal"):
        Money(amount=1, capped=Decimal("NaN"))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="capped: must have at most 2 decimal places"):
        Money(amount=1, capped=Decimal("1.234"))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="capped: must have at most 5 digits"):
        Money(amount=1, capped=Decimal("12345.6"))  # type: ignore[arg-type]
    assert Money(amount=1, capped=Decimal("123.45")).capped == Decimal("123.45")  # type: ignore[arg-type]


def test_non_finite_decimals_pass_when_validation_is_off() -> None:
    class Money(strm.Record):
        amount: Decimal

    assert Money.from_data({"amount": "NaN"}).amount.is_nan()
    assert not Money.from_data({"amount": "NaN"}).is_valid()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_floats_are_validation_errors_unless_the_field_allows_them(bad: float) -> None:
    class Reading(strm.Record, validation=True):
        value: float
        maybe: float | None = None
        capped: float = FloatField(default=0.0, max_value=10.0)
        raw: float = FloatField(default=0.0, allow_nan=True)

    shown = repr(bad)
    with pytest.raises(ValidationError, match=f"value: must be a finite number, got float {shown}"):
        Reading(value=bad)
    with pytest.raises(ValidationError) as info:
        Reading(value=1.0, maybe=bad, capped=bad)
    assert [(e.field, repr(e.value)) for e in info.value.errors] == [
        ("maybe", shown),
        ("capped", shown),
    ]
    with pytest.raises(ValidationError, match="value: must be a finite number"):
        Reading(value=str(bad))  # type: ignore[arg-type]  # coerced to the float, then refused
    with pytest.raises(ValidationError, match="value: must be a finite number"):
        Reading.loads(f'{{"value": {json.dumps(bad)}}}'.encode())  # NaN, Infinity in JSON
    assert repr(Reading(value=1.0, raw=bad).raw) == shown
    assert repr(Reading.loads(f'{{"value": 1, "raw": {json.dumps(bad)}}}'.encode()).raw) == shown


def test_non_finite_floats_pass_when_validation_is_off_but_validate_reports_them() -> None:
    class Reading(strm.Record):
        value: float

    record = Reading(value=math.inf)
    assert record.value == math.inf
    (error,) = record.validate()
    assert error.reason == "value: must be a finite number, got float inf"


def test_field_limits() -> None:
    class Limited(strm.Record, validation=True):
        age: int = IntegerField(min_value=0, max_value=150)
        score: float = FloatField(default=0.0, min_value=0.0)
        name: str = StringField(
            default="x", min_length=1, max_length=3, allow_blank=False, trim_whitespace=True
        )

    assert Limited(age=0).age == 0
    assert Limited(age=1, name="  ab ").name == "ab"
    with pytest.raises(ValidationError) as info:
        Limited(age=200, score=-1.0, name="    ")
    message = str(info.value)
    assert "age: must be at most 150, got int 200" in message
    assert "score: must be at least 0.0" in message
    assert "name: cannot be blank" in message
    with pytest.raises(ValidationError, match="name: must have at most 3 characters"):
        Limited(age=1, name="abcd")


def test_field_limits_do_not_run_without_validation_but_validate_reports_them() -> None:
    class Limited(strm.Record):
        age: int = IntegerField(min_value=0)

    record = Limited(age=-1)
    assert record.age == -1
    assert [e.reason for e in record.validate()] == ["age: must be at least 0, got int -1"]
    with pytest.raises(ValidationError, match="Limited: 1 invalid field: age"):
        record.validate_or_raise()
    assert [e.reason for e in record.validation_errors] == [e.reason for e in record.validate()]


def test_nested_validation_errors_carry_the_inner_reason() -> None:
    class Inner(strm.Record, validation=True):
        n: int

    class Outer(strm.Record, validation=True):
        inner: Inner

    with pytest.raises(ValidationError, match=r"inner: cannot convert dict .* n: cannot convert"):
        Outer.from_data({"inner": {"n": "x"}})


def test_containers_are_validated_item_by_item() -> None:
    class Bag(strm.Record, validation=True, coerce=False):
        numbers: list[int]
        names: dict[str, str] = {}  # noqa: RUF012

    Bag(numbers=[1, 2])
    with pytest.raises(ValidationError, match=r"numbers: expected list\[int\]"):
        Bag(numbers=[1, "2"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match=r"names: expected dict\[str, str\]"):
        Bag(numbers=[], names={"a": 1})  # type: ignore[dict-item]


def test_per_field_coerce_override() -> None:
    class Mixed(strm.Record):
        a: int = IntegerField(coerce=True)
        b: int = 0

    record = Mixed(a="1", b="2")  # type: ignore[arg-type]
    assert (record.a, record.b) == (1, "2")


def test_validation_is_an_error_when_decoding_too() -> None:
    with pytest.raises(ValidationError, match="count"):
        Strict.loads(b'{"count": "lots"}')


def test_a_none_default_makes_the_field_accept_none_under_validation() -> None:
    class Sparse(strm.Record, validation=True):
        count: int = None  # type: ignore[assignment]

    assert Sparse().count is None
    assert Sparse(count="2").count == 2  # type: ignore[arg-type]
