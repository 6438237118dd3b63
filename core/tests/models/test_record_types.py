"""Field types: what each declared type accepts, how it is written to JSON and read back."""

import datetime as dt
import enum
import json
import uuid
from decimal import Decimal
from typing import Any, Literal

import pytest
import strm
from strm.kernel.errors import ValidationError

UTC = dt.UTC


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Item(strm.Record, namespace="tests.types.Item", include_metadata=False):
    sku: str
    qty: int = 1


class Everything(strm.Record, namespace="tests.types.Everything", include_metadata=False):
    when: dt.datetime
    day: dt.date
    at: dt.time
    price: Decimal
    ident: uuid.UUID
    color: Color
    blob: bytes
    ratio: float
    flag: bool
    items: list[Item]
    by_sku: dict[str, Item]
    counts: dict[int, int]
    tags: set[str]
    frozen: frozenset[int]
    pair: tuple[int, str]
    many: tuple[int, ...]
    maybe: Item | None
    either: int | str
    mode: Literal["a", "b"]
    anything: Any


WHEN = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
UID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def everything() -> Everything:
    return Everything(
        when=WHEN,
        day=dt.date(2024, 5, 6),
        at=dt.time(7, 8),
        price=Decimal("12345678901234567890.123456789"),
        ident=UID,
        color=Color.BLUE,
        blob=b"\x00\xffbytes",
        ratio=0.5,
        flag=True,
        items=[Item("a"), Item("b", 2)],
        by_sku={"a": Item("a")},
        counts={1: 2},
        tags={"y", "x"},
        frozen=frozenset({3, 1}),
        pair=(1, "one"),
        many=(1, 2, 3),
        maybe=None,
        either="text",
        mode="a",
        anything={"when": WHEN, "n": Decimal("1.5"), "s": {2, 1}, "i": Item("z")},
    )


def test_representation_is_json_ready() -> None:
    rep = everything().to_representation()
    assert rep["when"] == "2024-05-06T07:08:09.123456+00:00"
    assert rep["day"] == "2024-05-06"
    assert rep["at"] == "07:08:00"
    assert rep["price"] == "12345678901234567890.123456789"
    assert rep["ident"] == str(UID)
    assert rep["color"] == "blue"
    assert rep["items"] == [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]
    assert rep["by_sku"] == {"a": {"sku": "a", "qty": 1}}
    assert rep["tags"] == ["x", "y"]
    assert rep["frozen"] == [1, 3]
    assert rep["pair"] == [1, "one"]
    assert rep["many"] == [1, 2, 3]
    assert rep["anything"] == {
        "when": "2024-05-06T07:08:09.123456+00:00",
        "n": "1.5",
        "s": [1, 2],
        "i": {"sku": "z", "qty": 1},
    }
    json.dumps(rep)  # plain json, no custom encoder needed


def test_json_round_trip_restores_every_type() -> None:
    original = everything()
    restored = Everything.loads(original.dumps())
    for name in Everything._options.fields:
        if name != "anything":
            assert getattr(restored, name) == getattr(original, name), name
    assert type(restored.tags) is set and type(restored.frozen) is frozenset
    assert type(restored.pair) is tuple and type(restored.many) is tuple
    assert restored.counts == {1: 2}  # JSON keys are strings; declared int keys come back int
    assert restored.price == Decimal("12345678901234567890.123456789")


def test_pickle_round_trip_of_the_representation() -> None:
    original = everything()
    assert Everything.loads(original.dumps(serializer="pickle"), serializer="pickle").price == (
        original.price
    )


def test_iso_strings_are_parsed_for_date_fields_on_construction_too() -> None:
    class Stamp(strm.Record):
        when: dt.datetime
        day: dt.date | None = None

    s = Stamp(when="2024-01-02T03:04:05Z", day="2024-01-02")  # type: ignore[arg-type]
    assert s.when == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert s.day == dt.date(2024, 1, 2)
    assert Stamp(when=WHEN).day is None


def test_a_bad_iso_string_is_a_validation_error_naming_the_field() -> None:
    class Stamp(strm.Record):
        when: dt.datetime

    with pytest.raises(ValidationError, match="when: cannot convert str 'yesterday' to datetime"):
        Stamp.from_data({"when": "yesterday"})


def test_custom_date_parser() -> None:
    def parse(text: str) -> dt.datetime:
        return dt.datetime.strptime(text, "%d/%m/%Y").replace(tzinfo=UTC)

    class Local(strm.Record, date_parser=parse):
        when: dt.datetime

    assert Local.from_data({"when": "02/01/2024"}).when == dt.datetime(2024, 1, 2, tzinfo=UTC)


def test_decimals_from_strings_numbers_and_floats_keep_their_digits() -> None:
    class Money(strm.Record):
        amount: Decimal

    assert Money.from_data({"amount": "0.10"}).amount == Decimal("0.10")
    assert str(Money.from_data({"amount": "0.10"}).amount) == "0.10"
    assert Money.from_data({"amount": 3}).amount == Decimal(3)
    assert Money.from_data({"amount": 0.1}).amount == Decimal("0.1")
    with pytest.raises(ValidationError, match="amount: cannot convert str 'ten' to Decimal"):
        Money.from_data({"amount": "ten"})


def test_nested_records_from_mappings() -> None:
    class Order(strm.Record):
        item: Item
        extras: list[Item] = []  # noqa: RUF012

    order = Order(item={"sku": "a"}, extras=[{"sku": "b", "qty": 3}])  # type: ignore[arg-type]
    assert order.item == Item("a")
    assert order.extras == [Item("b", 3)]


def test_enums_from_values() -> None:
    class Paint(strm.Record):
        color: Color

    assert Paint.from_data({"color": "red"}).color is Color.RED
    with pytest.raises(ValidationError, match="color: cannot convert str 'green' to Color"):
        Paint.from_data({"color": "green"})


def test_fixed_tuple_length_is_enforced_on_input() -> None:
    class Pair(strm.Record):
        pair: tuple[int, int]

    with pytest.raises(ValidationError, match="expected 2 items, got 3"):
        Pair.from_data({"pair": [1, 2, 3]})


def test_bytes_travel_as_text_and_survive_any_byte() -> None:
    class Blob(strm.Record, include_metadata=False):
        data: bytes

    raw = bytes(range(256))
    assert Blob.loads(Blob(raw).dumps()).data == raw
    assert Blob(b"abc").to_representation() == {"data": "abc"}


def test_union_picks_the_member_that_fits() -> None:
    class Either(strm.Record):
        value: int | dt.datetime

    assert Either.from_data({"value": 3}).value == 3
    assert Either.from_data({"value": "2024-01-02T00:00:00"}).value == dt.datetime(2024, 1, 2)
    assert Either(dt.datetime(2024, 1, 2)).to_representation()["value"] == "2024-01-02T00:00:00"


def test_user_types_through_coercions() -> None:
    class Cents:
        def __init__(self, value: int) -> None:
            self.value = value

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Cents) and other.value == self.value

        def __hash__(self) -> int:
            return self.value

    class Price(strm.Record, coercions={Cents: Cents}):
        amount: Cents

    assert Price.from_data({"amount": 250}).amount == Cents(250)


def test_forward_reference_to_the_class_itself() -> None:
    class Node(strm.Record, include_metadata=False):
        name: str
        children: "list[Node]" = []  # noqa: RUF012

    tree = Node.from_data({"name": "root", "children": [{"name": "leaf"}]})
    assert tree.children == [Node("leaf")]
    assert tree.to_representation() == {
        "name": "root",
        "children": [{"name": "leaf", "children": []}],
    }
