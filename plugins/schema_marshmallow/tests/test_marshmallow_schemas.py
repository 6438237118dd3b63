"""marshmallow schemas as key and value types: loaded with validation on receive, dumped and
checked on send, and a refused payload dead-lettered like a record's."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import marshmallow
import pytest
from strm.app import App
from strm.builtins.memory_transport import drop_broker, get_broker, unique_url
from strm.kernel.errors import CodecError, KeyDecodeError, ValueDecodeError
from strm.testing import eventually
from strm.testing.pytest_plugin import AppFactory
from strm_schema_marshmallow import MarshmallowType


class OrderSchema(marshmallow.Schema):
    id = marshmallow.fields.Str(required=True)
    amount = marshmallow.fields.Float(required=True, validate=marshmallow.validate.Range(min=0))


@dataclasses.dataclass
class Customer:
    name: str
    email: str


class CustomerSchema(marshmallow.Schema):
    name = marshmallow.fields.Str(required=True)
    email = marshmallow.fields.Email(required=True)

    @marshmallow.post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Customer:
        return Customer(**data)


@pytest.fixture
def broker_url() -> Iterator[str]:
    url = unique_url("marshmallow")
    yield url
    drop_broker(url)


def make(factory: AppFactory, broker_url: str, **settings: Any) -> App:
    return factory(
        "mm", plugins=["strm_schema_marshmallow"], broker=broker_url, topic_partitions=1, **settings
    )


def written(broker_url: str, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    return [(m.key, m.value) for log in get_broker(broker_url).topics[topic].logs for m in log]


def test_the_plugin_provides_the_marshmallow_model_type(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = make(strm_app_factory, broker_url).configure()
    provision = app.plugins.provisions("model_type")["marshmallow"]
    assert provision.factory is MarshmallowType
    assert app.serializers.model_types.for_type(OrderSchema) is not None
    assert app.serializers.model_types.for_type(OrderSchema(many=True)) is not None
    assert app.serializers.model_types.for_type(dict) is None


def test_the_installed_entry_point_loads_it(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory("ep", entry_points=True).configure()
    provider = app.plugins.provider("model_type", "marshmallow")
    assert provider is not None
    assert provider.distribution == "strm-schema-marshmallow"


async def test_values_and_keys_round_trip_through_their_schemas(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = make(strm_app_factory, broker_url)
    orders = app.topic("orders", key_type=CustomerSchema, value_type=OrderSchema)
    seen: list[tuple[Any, Any]] = []

    @app.agent(orders)
    async def read(stream: Any) -> None:
        async for key, value in stream.items():
            seen.append((key, value))

    async with app.running():
        await orders.send(key=Customer("ann", "ann@example.com"), value={"id": "a1", "amount": 2})
        await eventually(lambda: len(seen) == 1)
    assert seen == [(Customer("ann", "ann@example.com"), {"id": "a1", "amount": 2.0})]
    [(key, value)] = written(broker_url, "orders")
    assert json.loads(key or b"") == {"name": "ann", "email": "ann@example.com"}
    assert json.loads(value or b"") == {"id": "a1", "amount": 2.0}


async def test_a_schema_instance_keeps_its_options(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = make(strm_app_factory, broker_url)
    batches = app.topic("batches", value_type=OrderSchema(many=True))
    seen: list[Any] = []

    @app.agent(batches)
    async def read(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    async with app.running():
        await batches.send(value=[{"id": "a", "amount": 1}, {"id": "b", "amount": 2}])
        await eventually(lambda: len(seen) == 1)
    assert seen == [[{"id": "a", "amount": 1.0}, {"id": "b", "amount": 2.0}]]


def test_decode_errors_carry_marshmallows_messages(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = make(strm_app_factory, broker_url).configure()
    schema = app.topic("orders", key_type=CustomerSchema, value_type=OrderSchema).schema
    with pytest.raises(ValueDecodeError) as caught:
        schema.loads_value(app.serializers, b'{"amount": -1, "extra": 1}')
    assert str(caught.value) == (
        "cannot decode value as OrderSchema: SchemaValidationError: OrderSchema: 3 invalid "
        "fields: amount: Must be greater than or equal to 0.; extra: Unknown field.; "
        "id: Missing data for required field."
    )
    with pytest.raises(KeyDecodeError, match=r"email: Not a valid email address\.$"):
        schema.loads_key(app.serializers, b'{"name": "x", "email": "nope"}')
    with pytest.raises(ValueDecodeError, match=r"empty value as OrderSchema"):
        schema.loads_value(app.serializers, None)


async def test_a_value_the_schema_refuses_is_not_sent(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = make(strm_app_factory, broker_url)
    orders = app.topic("orders", value_type=OrderSchema)
    with pytest.raises(CodecError, match=r"amount: Must be greater than or equal to 0\.$"):
        await orders.send(value={"id": "a1", "amount": -5})
    assert "orders" not in get_broker(broker_url).topics or not written(broker_url, "orders")


async def test_a_refused_payload_is_dead_lettered_like_a_records(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = make(strm_app_factory, broker_url, dead_letter_topic="dlq")
    orders = app.topic("orders", value_type=OrderSchema)
    seen: list[Any] = []

    @app.agent(orders)
    async def read(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    async with app.running():
        await orders.send_raw(key=b"k", value=b'{"id": "bad", "amount": "lots"}')
        await orders.send(value={"id": "good", "amount": 1})
        await eventually(lambda: seen == [{"id": "good", "amount": 1.0}])
        await eventually(lambda: "dlq" in get_broker(broker_url).topics)
        await eventually(lambda: len(written(broker_url, "dlq")) == 1)
    [letter] = [m for log in get_broker(broker_url).topics["dlq"].logs for m in log]
    assert (letter.key, letter.value) == (b"k", b'{"id": "bad", "amount": "lots"}')
    error = dict(letter.headers)["strm-error"].decode()
    assert "ValueDecodeError: cannot decode value as OrderSchema" in error
    assert "amount: Not a valid number." in error
