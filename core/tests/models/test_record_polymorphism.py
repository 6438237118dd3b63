"""Namespaces: payloads name their model, and decoding builds the class they name."""

import json

import pytest
import strm
from strm.kernel.errors import ValidationError
from strm.models import FAUST_METADATA_KEY, METADATA_KEY, registry


class Shape(strm.Record, namespace="tests.poly.Shape"):
    name: str


class Circle(Shape, namespace="tests.poly.Circle"):
    radius: float = 1.0


class Square(Shape, namespace="tests.poly.Square"):
    side: float = 1.0


class Drawing(strm.Record, namespace="tests.poly.Drawing"):
    main: Shape
    others: list[Shape] = []  # noqa: RUF012
    by_name: dict[str, Shape] = {}  # noqa: RUF012


class Unrelated(strm.Record, namespace="tests.poly.Unrelated"):
    name: str


class Animal(strm.Record, abstract=True, namespace="tests.poly.Animal"):
    name: str


class Dog(Animal, namespace="tests.poly.Dog"):
    barks: bool = True


def test_the_metadata_key_names_the_namespace() -> None:
    assert METADATA_KEY == "__strm"
    assert FAUST_METADATA_KEY == "__faust"
    assert Circle("c", 2.0).to_representation() == {
        "name": "c",
        "radius": 2.0,
        "__strm": {"ns": "tests.poly.Circle"},
    }


def test_namespaces_register_and_default_to_module_and_qualname() -> None:
    assert registry["tests.poly.Circle"] is Circle

    class Local(strm.Record):
        a: int = 0

    test = "test_namespaces_register_and_default_to_module_and_qualname"
    namespace = f"{__name__}.{test}.<locals>.Local"
    assert Local._options.namespace == namespace
    assert registry[namespace] is Local


def test_loads_on_a_base_class_returns_the_named_subclass() -> None:
    shape = Shape.loads(Circle("c", 2.5).dumps())
    assert type(shape) is Circle
    assert shape == Circle("c", 2.5)


def test_nested_fields_typed_as_the_base_class_are_built_as_subclasses() -> None:
    drawing = Drawing(
        main=Square("s", 3.0),
        others=[Circle("c"), Shape("plain")],
        by_name={"sq": Square("sq")},
    )
    restored = Drawing.loads(drawing.dumps())
    assert type(restored.main) is Square
    assert [type(s) for s in restored.others] == [Circle, Shape]
    assert type(restored.by_name["sq"]) is Square
    assert restored == drawing


def test_faust_metadata_is_understood() -> None:
    payload = {
        "main": {"name": "c", "radius": 4.0, "__faust": {"ns": "tests.poly.Circle"}},
        "__faust": {"ns": "tests.poly.Drawing"},
    }
    drawing = strm.Record.loads(json.dumps(payload).encode())
    assert type(drawing) is Drawing
    assert drawing.main == Circle("c", 4.0)


def test_untyped_decoding_through_record_itself() -> None:
    assert strm.Record.from_data(Dog("rex").to_representation()) == Dog("rex")
    with pytest.raises(ValidationError, match="Record: it is abstract and the payload names no"):
        strm.Record.from_data({"name": "x"})
    with pytest.raises(ValidationError, match=r"namespace 'nowhere\.X' is not a registered model"):
        strm.Record.from_data({"__strm": {"ns": "nowhere.X"}})


def test_namespace_of_an_unrelated_class_is_ignored_by_a_concrete_class() -> None:
    # The declared type stays authoritative: metadata may only narrow it to a subclass.
    data = Unrelated("u").to_representation()
    assert type(Shape.from_data(data)) is Shape
    unknown = {"name": "n", "__strm": {"ns": "renamed.module.Shape"}}
    assert type(Shape.from_data(unknown)) is Shape


def test_abstract_bases_decode_to_their_subclasses_only() -> None:
    assert type(Animal.loads(Dog("rex").dumps())) is Dog
    with pytest.raises(ValidationError, match="Animal: it is abstract and the payload's namespace"):
        Animal.from_data(Circle("c").to_representation())


def test_without_metadata_nested_base_fields_stay_base() -> None:
    class Quiet(strm.Record, include_metadata=False, namespace="tests.poly.Quiet"):
        shape: Shape

    rep = Quiet(Circle("c")).to_representation()
    assert "__strm" not in rep
    assert rep["shape"]["__strm"] == {"ns": "tests.poly.Circle"}  # the nested model's option
    assert type(Quiet.from_data(rep).shape) is Circle


def test_polymorphic_fields_off_builds_the_declared_class() -> None:
    class Fixed(strm.Record, polymorphic_fields=False):
        shape: Shape

    assert type(Fixed.from_data({"shape": Circle("c").to_representation()}).shape) is Shape


def test_preferred_type_is_used_without_metadata() -> None:
    assert type(Shape.from_data({"name": "x"}, preferred_type=Square)) is Square


def test_a_redefined_namespace_points_to_the_latest_class() -> None:
    class First(strm.Record, namespace="tests.poly.Redefined"):
        a: int = 0

    class Second(strm.Record, namespace="tests.poly.Redefined"):
        a: int = 0

    assert registry["tests.poly.Redefined"] is Second
    assert type(strm.Record.from_data(First().to_representation())) is Second
