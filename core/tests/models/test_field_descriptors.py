"""Field descriptors: ``Model.field`` describes the field and extracts it from a value."""

import datetime as dt
from decimal import Decimal

import pytest
import strm
from strm.models import (
    BooleanField,
    BytesField,
    DatetimeField,
    DecimalField,
    FieldDescriptor,
    FloatField,
    IntegerField,
    StringField,
    field_for_type,
)


class Address(strm.Record):
    city: str
    zip: str = ""


class Customer(strm.Record):
    name: str
    address: Address | None = None


class Order(strm.Record):
    id: int
    customer: Customer
    total: Decimal = Decimal(0)


ORDER = Order(1, Customer("ann", Address("Oslo")))


def test_class_access_gives_the_descriptor() -> None:
    field = Order.id
    assert isinstance(field, FieldDescriptor)
    assert strm.FieldDescriptor is FieldDescriptor
    assert (field.field, field.type, field.model, field.required) == ("id", int, Order, True)
    assert Order.total.required is False and Order.total.default == Decimal(0)
    assert field.ident == "Order.id"
    assert field.path == "id"


def test_instance_access_gives_the_value() -> None:
    assert ORDER.id == 1
    assert ORDER.customer.name == "ann"


def test_getattr_extracts_the_value() -> None:
    assert Order.id.getattr(ORDER) == 1
    assert Order.customer.getattr(ORDER) == Customer("ann", Address("Oslo"))


def test_nested_descriptors_chain_with_a_dotted_path() -> None:
    name = Order.customer.name
    assert isinstance(name, FieldDescriptor)
    assert name.path == "customer.name"
    assert name.field == "name" and name.model is Customer and name.type is str
    assert name.parent is Order.customer
    assert name.getattr(ORDER) == "ann"
    city = Order.customer.address.city  # through an Optional[Address]
    assert city.path == "customer.address.city"
    assert city.getattr(ORDER) == "Oslo"
    assert Order.customer.name is name  # chains are cached
    assert Customer.name.path == "name"  # the model's own descriptor is untouched


def test_descriptor_repr() -> None:
    assert repr(Order.id) == "<IntegerField: Order.id: int>"
    assert repr(Order.total) == "<DecimalField: Order.total: Decimal = Decimal('0')>"
    assert repr(Order.customer.address.city) == "<StringField: Order.customer.address.city: str>"


def test_chaining_into_a_non_record_or_unknown_field_fails_clearly() -> None:
    with pytest.raises(AttributeError, match=r"Order\.id is of type int, not a record"):
        _ = Order.id.nothing
    with pytest.raises(AttributeError, match="Customer has no field 'nothing'"):
        _ = Order.customer.nothing


def test_each_subclass_gets_its_own_descriptors() -> None:
    class Special(Order):
        note: str = ""

    assert Special.id.model is Special and Order.id.model is Order
    assert Special.id.getattr(Special(1, Customer("b"))) == 1


def test_annotation_picks_the_descriptor_class() -> None:
    class Typed(strm.Record):
        a: bool
        b: int
        c: float
        d: Decimal
        e: str
        f: bytes
        g: dt.datetime
        h: list[int]
        i: int | None = None

    kinds = [type(d) for d in Typed._options.descriptors.values()]
    assert kinds == [
        BooleanField,
        IntegerField,
        FloatField,
        DecimalField,
        StringField,
        BytesField,
        DatetimeField,
        FieldDescriptor,
        IntegerField,
    ]
    assert field_for_type(int | None) is IntegerField


def test_an_unbound_descriptor_cannot_extract() -> None:
    with pytest.raises(TypeError, match="not attached to a model"):
        FieldDescriptor().getattr(ORDER)


def test_a_deleted_value_is_an_attribute_error() -> None:
    order = Order(2, Customer("x"))
    del order.__dict__["total"]
    with pytest.raises(AttributeError, match="no value for 'total'"):
        _ = order.total
