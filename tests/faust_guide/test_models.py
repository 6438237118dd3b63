"""Faust's "Models, Serialization, and Codecs" chapter, written as a Faust user would:
``import strm as faust`` is the only change from a Faust application."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import strm as faust
from strm import codecs
from strm.builtins.memory_transport import drop_broker, unique_url
from strm.models import FieldDescriptor
from strm.models.fields import DatetimeField, IntegerField, StringField
from strm.testing import eventually


class Point(faust.Record, serializer="json"):
    x: int
    y: int = 0


class Account(faust.Record, serializer="json"):
    id: str
    balance: float


class Transfer(faust.Record, serializer="json"):
    account: Account
    amount: float


@pytest.fixture
def app(tmp_path: Path) -> Iterator[faust.App]:
    url = unique_url("guide-models")
    yield faust.App("guide-models", broker=url, store="memory://", datadir=str(tmp_path))
    drop_broker(url)


def test_a_record_serializes_with_its_serializer() -> None:
    point = Point(x=10, y=100)
    assert json.loads(point.dumps())["x"] == 10
    assert Point.loads(point.dumps()) == point
    assert Point.loads(point.dumps(serializer="pickle"), serializer="pickle") == point


def test_required_and_optional_fields() -> None:
    assert Point(x=10).y == 0
    assert Point(10, 30) == Point(x=10, y=30)
    with pytest.raises(faust.ValidationError, match="x: required field missing"):
        Point()


async def test_topics_and_anonymous_agents_carry_models(app: faust.App) -> None:
    my_topic = app.topic("guide-points", key_type=Point, value_type=Point)
    seen: list[tuple[Point, Point]] = []

    @app.agent(my_topic)
    async def task(events: Any) -> None:
        async for key, value in events.items():
            seen.append((key, value))

    @app.agent(key_type=Point, value_type=Point)
    async def my_agent(events: Any) -> None:
        async for key, value in events.items():
            seen.append((key, value))

    async with app.running():
        await my_topic.send(key=Point(x=10, y=20), value=Point(x=30, y=10))
        await my_agent.send(key=Point(x=1, y=2), value=Point(x=3, y=4))
        await eventually(lambda: len(seen) == 2)
    assert sorted(seen) == [(Point(1, 2), Point(3, 4)), (Point(10, 20), Point(30, 10))]


def test_fields_may_be_other_models_and_collections() -> None:
    class User(faust.Record):
        accounts: dict[str, Account]

    transfer = Transfer(account=Account(id="RBH1235678", balance=13000.0), amount=1000.0)
    assert Transfer.loads(transfer.dumps()).account == transfer.account
    user = User.loads(b'{"accounts": {"a": {"id": "a", "balance": 1.0}}}', serializer="json")
    assert user.accounts["a"] == Account(id="a", balance=1.0)


def test_coercion_datetimes_and_decimals() -> None:
    class Order(faust.Record, coerce=True, serializer="json"):
        price: Decimal
        quantity: Decimal
        placed: dt.datetime
        reference: str = StringField(coerce=True, default="")

    order = Order.loads(
        b'{"price": "12.30", "quantity": "2", "placed": "2019-01-12T00:44:36", "reference": 7}'
    )
    assert order.price == Decimal("12.30")
    assert order.placed == dt.datetime(2019, 1, 12, 0, 44, 36)
    assert order.reference == "7"
    assert json.loads(order.dumps())["price"] == "12.30"


def test_a_date_parser_reads_other_formats() -> None:
    def parse_date(text: str) -> dt.datetime:
        return dt.datetime.strptime(text, "%d/%m/%Y")

    class Login(faust.Record, coerce=True, date_parser=parse_date):
        when: dt.datetime
        also: dt.datetime = DatetimeField(date_parser=dt.datetime.fromisoformat, default=None)

    login = Login.from_data({"when": "12/01/2019", "also": "2020-02-02T00:00:00"})
    assert login.when == dt.datetime(2019, 1, 12)
    assert login.also == dt.datetime(2020, 2, 2)


def test_abstract_models_give_common_fields() -> None:
    class MyBaseRecord(faust.Record, abstract=True):
        time_created: float | None = None
        time_modified: float | None = None

    class Ledger(MyBaseRecord):
        id: str = ""

    ledger = Ledger(id="X", time_created=3124312.3442)
    assert ledger.time_created == 3124312.3442


def test_input_name_and_exclude() -> None:
    class OpenAPIParameter(faust.Record):
        location: str = StringField(default="query", input_name="in")

    assert OpenAPIParameter.from_data({"in": "header"}).location == "header"

    class Sale(faust.Record):
        price: float
        quantity: float
        user_id: str = StringField(required=True, exclude=True)

    sale = Sale(price=30.0, quantity=2.0, user_id="foo")
    assert sale.user_id == "foo"
    assert sale.asdict() == {"price": 30.0, "quantity": 2.0}
    assert "user_id" not in json.loads(sale.dumps(serializer="json"))


class Asset(faust.Record):
    url: str
    type: str = ""


class ImageAsset(Asset):
    type: str = "image"


class Article(faust.Record, polymorphic_fields=True):
    assets: list[Asset]


def test_polymorphic_fields_rebuild_the_subclass() -> None:
    article = Article(assets=[ImageAsset(url="http://localhost/a.png")])
    decoded = Article.loads(article.dumps(serializer="json"), serializer="json")
    assert isinstance(decoded.assets[0], ImageAsset)


def test_validation_raises_and_validate_lists_problems() -> None:
    class Person(faust.Record):
        age: int
        name: str

    person = Person(age="Gordon Gekko", name=32)
    assert {e.field for e in person.validate()} == {"age", "name"}
    assert not person.is_valid()

    class CheckedPerson(faust.Record, validation=True):
        age: int = IntegerField(min_value=18, max_value=99)
        name: str = ""

    with pytest.raises(faust.ValidationError, match="age"):
        CheckedPerson(age=12)


def test_custom_field_types() -> None:
    class ChoiceField(FieldDescriptor[str]):
        def __init__(self, choices: list[str], **kwargs: Any) -> None:
            self.choices = choices
            super().__init__(choices=choices, **kwargs)

        def validate(self, value: str) -> Iterable[faust.ValidationError]:
            if value not in self.choices:
                allowed = ", ".join(self.choices)
                yield self.validation_error(f"{self.field} must be one of {allowed}")

    class Order(faust.Record, validation=True):
        side: str = ChoiceField(["SELL", "BUY"])

    assert Order(side="SELL").side == "SELL"
    with pytest.raises(faust.ValidationError, match="side must be one of SELL, BUY"):
        Order(side="LEFT")


class raw_reversed(codecs.Codec):
    def _dumps(self, obj: Any) -> bytes:
        return bytes(obj)[::-1]

    def _loads(self, s: bytes) -> Any:
        return s[::-1]


def reversed_json() -> codecs.Codec:
    result: codecs.Codec = codecs.json() | raw_reversed()
    return result


@pytest.fixture
def restore_codec_registry() -> Iterator[None]:
    """Codecs registered by name are process-wide: forget this test's afterwards."""
    saved = dict(codecs.codecs)
    yield
    codecs.codecs.clear()
    codecs.codecs.update(saved)


def test_codecs_by_name_and_custom_codecs(restore_codec_registry: None) -> None:
    data = codecs.dumps("json", {"a": 1})
    assert codecs.loads("json", data) == {"a": 1}
    assert codecs.loads("json|binary", codecs.dumps("json|binary", [1, 2])) == [1, 2]
    codecs.register("guide_reversed_json", reversed_json())

    class Flipped(faust.Record, serializer="guide_reversed_json", include_metadata=False):
        x: int

    assert Flipped(1).dumps() == b'}1:"x"{'
    assert Flipped.loads(b'}1:"x"{') == Flipped(1)


async def test_raw_values_without_models(app: faust.App) -> None:
    transfers_topic = app.topic("guide-transfers")
    large_transfers_topic = app.topic("guide-large-transfers", value_serializer="json")
    large: list[Any] = []

    @app.agent(transfers_topic)
    async def find_large_transfers(transfers: Any) -> None:
        async for transfer in transfers:
            if transfer["amount"] > 1000.0:
                await large_transfers_topic.send(value=transfer)

    @app.agent(large_transfers_topic)
    async def collect(stream: Any) -> None:
        async for transfer in stream:
            large.append(transfer)

    async with app.running():
        await transfers_topic.send(value={"account_id": "a", "amount": 10.0})
        await transfers_topic.send(value={"account_id": "b", "amount": 5000.0})
        await eventually(lambda: large == [{"account_id": "b", "amount": 5000.0}])
