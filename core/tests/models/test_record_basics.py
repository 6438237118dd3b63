"""Declaring records: fields, defaults, construction, comparison and the class options."""

import copy
import pickle
from typing import ClassVar, Optional

import pytest
import strm
from strm.kernel.errors import ValidationError
from strm.models import FieldDescriptor, IntegerField, StringField


class Point(strm.Record, namespace="tests.basics.Point"):
    x: int
    y: int = 0


class Tagged(strm.Record):
    name: str
    tags: list[str] = []  # noqa: RUF012 - a default copied per instance, as documented
    labels: dict[str, str] = {}  # noqa: RUF012
    note: Optional[str] = None  # noqa: UP045 - the typing spelling must work too
    comment: str | None = None
    count: int = None  # type: ignore[assignment]  # Faust's idiom: None default means optional
    limit: ClassVar[int] = 10


def test_keyword_and_positional_construction() -> None:
    assert Point(x=1, y=2) == Point(1, 2)
    assert Point(1).y == 0
    assert Point(1, y=5).y == 5


def test_instance_attributes_are_the_values() -> None:
    p = Point(3, 4)
    assert (p.x, p.y) == (3, 4)
    p.x = 10
    assert p.x == 10
    assert p.asdict() == {"x": 10, "y": 4}


def test_missing_required_fields_are_named_even_without_validation() -> None:
    class Three(strm.Record):
        a: int
        b: str
        c: float = 0.0

    with pytest.raises(ValidationError) as info:
        Three()
    message = str(info.value)
    assert "a: required field missing" in message
    assert "b: required field missing" in message
    assert "c:" not in message
    assert [e.field for e in info.value.errors] == ["a", "b"]


def test_missing_fields_in_data_are_named() -> None:
    with pytest.raises(ValidationError, match="x: required field missing"):
        Point.from_data({"y": 1})


def test_unknown_keyword_and_too_many_positionals_are_type_errors() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Point(x=1, z=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"Point.__init__\(\) takes"):
        Point(1, 2, 3)  # type: ignore[call-arg]


def test_mutable_defaults_are_not_shared() -> None:
    a, b = Tagged("a"), Tagged("b")
    a.tags.append("x")
    a.labels["k"] = "v"
    assert b.tags == [] and b.labels == {}
    assert Tagged.tags.default == []


def test_optional_fields_default_to_none_and_classvars_are_not_fields() -> None:
    t = Tagged("n")
    assert t.note is None and t.comment is None and t.count is None
    assert "limit" not in Tagged._options.descriptors
    assert Tagged.limit == 10
    assert list(Tagged._options.fields) == ["name", "tags", "labels", "note", "comment", "count"]


def test_optional_field_without_default_is_not_required() -> None:
    class Opt(strm.Record):
        a: int | None
        b: int

    assert Opt(b=1).a is None
    assert Opt._options.descriptors["a"].required is False


def test_equality_hash_and_ordering_by_value() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(1, 3)
    assert hash(Point(1, 2)) == hash(Point(1, 2))
    assert len({Point(1, 2), Point(1, 2), Point(2, 1)}) == 2
    assert sorted([Point(2, 0), Point(1, 5), Point(1, 2)]) == [Point(1, 2), Point(1, 5), Point(2)]
    assert Point(1) <= Point(1) and Point(2) > Point(1) and Point(2) >= Point(1)


def test_records_of_other_classes_are_never_equal() -> None:
    class Other(strm.Record):
        x: int
        y: int = 0

    assert Point(1) != Other(1)
    assert Point(1) != {"x": 1, "y": 0}
    with pytest.raises(TypeError):
        _ = Point(1) < Other(1)  # type: ignore[operator]


def test_repr_shows_fields_in_order() -> None:
    assert repr(Point(1, 2)) == "Point(x=1, y=2)"


def test_derive_copies_with_changes() -> None:
    p = Point(1, 2)
    assert p.derive(y=5) == Point(1, 5)
    assert p == Point(1, 2)

    class Other(strm.Record):
        y: int
        z: int = 0

    assert p.derive(Other(y=9, z=3)) == Point(1, 9)
    assert p.derive(Other(y=9), y=7) == Point(1, 7)


def test_subclass_inherits_fields_and_options() -> None:
    class Base(strm.Record, serializer="json", include_metadata=False):
        a: int
        b: int = 1

    class Child(Base):
        c: str = "c"
        b = 5  # a new default for an inherited field

    assert list(Child._options.fields) == ["a", "b", "c"]
    assert Child(1) == Child(a=1, b=5, c="c")
    assert Child._options.serializer == "json"
    assert Child._options.include_metadata is False
    assert Child.a.model is Child and Base.a.model is Base
    assert Child._options.namespace.endswith("Child")


def test_two_record_bases_contribute_their_fields() -> None:
    class A(strm.Record):
        a: int = 0

    class B(strm.Record):
        b: int = 0

    class AB(A, B):
        c: int = 0

    assert set(AB._options.fields) == {"a", "b", "c"}
    assert AB(a=1, b=2, c=3).asdict() == {"a": 1, "b": 2, "c": 3}


def test_non_default_field_after_default_is_refused() -> None:
    with pytest.raises(TypeError, match="field 'b' has no default but follows a"):

        class Bad(strm.Record):
            a: int = 0
            b: int


def test_defining_init_is_refused_and_post_init_runs() -> None:
    with pytest.raises(TypeError, match="defines __init__"):

        class Bad(strm.Record):
            a: int

            def __init__(self) -> None:
                pass

    class Area(strm.Record):
        w: int
        h: int

        def __post_init__(self) -> None:
            self.area = self.w * self.h

    assert Area(2, 3).area == 6
    assert Area.from_data({"w": 4, "h": 5}).area == 20


def test_field_names_that_hide_record_methods_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot be named 'dumps'"):

        class Bad(strm.Record):
            dumps: str


def test_unknown_and_unsupported_options_raise_naming_them() -> None:
    with pytest.raises(TypeError, match="unknown model option 'serialiser'"):

        class Typo(strm.Record, serialiser="json"):  # type: ignore[call-arg]
            a: int

    with pytest.raises(TypeError, match="does not support the model option 'allow_blessed_key'"):

        class Blessed(strm.Record, allow_blessed_key=True):  # type: ignore[call-arg]
            a: int

    with pytest.raises(TypeError, match="isodates=False is not supported"):

        class NoDates(strm.Record, isodates=False):
            a: int

    with pytest.raises(TypeError, match="option validation takes a bool"):

        class Wrong(strm.Record, validation="yes"):  # type: ignore[arg-type]
            a: int

    with pytest.raises(TypeError, match="serializer must be a codec name or codec object"):

        class NoCodec(strm.Record, serializer=42):  # type: ignore[arg-type]
            a: int


def test_faust_compatible_switches_are_accepted() -> None:
    class Faustish(strm.Record, isodates=True, decimals=True, serializer="json"):
        a: int

    assert Faustish(1).a == 1


def test_inner_options_class() -> None:
    class WithOptions(strm.Record):
        a: int

        class Options:
            namespace = "tests.basics.WithOptions"
            include_metadata = False
            serializer = "json"

    assert WithOptions._options.namespace == "tests.basics.WithOptions"
    assert WithOptions(1).to_representation() == {"a": 1}
    assert not hasattr(WithOptions, "Options")


def test_abstract_records_cannot_be_built() -> None:
    class Event(strm.Record, abstract=True):
        id: str

    class Click(Event):
        x: int = 0

    with pytest.raises(TypeError, match="Event is abstract"):
        Event(id="a")
    with pytest.raises(TypeError, match="Record is abstract"):
        strm.Record()
    assert Click(id="a").id == "a"
    assert Click._options.abstract is False


def test_pickle_and_copy() -> None:
    p = Point(1, 2)
    assert pickle.loads(pickle.dumps(p)) == p
    assert copy.copy(p) == p and copy.deepcopy(p) == p


def test_field_options_names_exclusion_and_typed_descriptors() -> None:
    class Renamed(strm.Record, include_metadata=False):
        account_id: str = StringField(input_name="accountId", output_name="acct")
        secret: str = FieldDescriptor(default="", exclude=True)
        count: int = IntegerField(default=0)
        alias: str = FieldDescriptor(default="a", output_name="aka")

    r = Renamed.from_data({"accountId": "A1", "secret": "s", "count": 2, "aka": "b"})
    assert (r.account_id, r.secret, r.count, r.alias) == ("A1", "s", 2, "b")
    assert r.to_representation() == {"acct": "A1", "count": 2, "aka": "b"}
    assert r.asdict() == {"account_id": "A1", "count": 2, "alias": "b"}
    # output_name alone is also the input name, so a record reads back what it wrote
    assert Renamed.from_data({"accountId": "A1", "aka": "z"}).alias == "z"


def test_field_descriptor_options_are_checked() -> None:
    with pytest.raises(TypeError, match="cannot be required and have a default"):
        FieldDescriptor(required=True, default=1)

    class Loose(strm.Record):
        a: int = FieldDescriptor(required=False)

    assert Loose().a is None


def test_records_with_no_fields() -> None:
    class Empty(strm.Record, include_metadata=False):
        pass

    assert Empty() == Empty()
    assert Empty().to_representation() == {}
    assert Empty.from_data({"extra": 1}) == Empty()


def test_unknown_keys_in_data_are_ignored() -> None:
    assert Point.from_data({"x": 1, "y": 2, "added_later": True}) == Point(1, 2)


def test_from_data_needs_a_mapping() -> None:
    with pytest.raises(ValidationError, match="cannot build Point from list"):
        Point.from_data([1, 2])


def test_from_data_returns_a_record_unchanged() -> None:
    p = Point(1)
    assert Point.from_data(p) is p


def test_fields_may_take_builtin_and_parameter_like_names() -> None:
    class Odd(strm.Record, include_metadata=False, validation=True):
        self: int
        isinstance: str = "i"
        Exception: float = 0.0
        dict: int | None = None
        data: str = "d"

    odd = Odd.from_data({"self": "1", "isinstance": "x", "Exception": 2, "data": "y"})
    expected = {"self": 1, "isinstance": "x", "Exception": 2.0, "dict": None, "data": "y"}
    assert odd.asdict() == expected
    assert Odd(self=1) == Odd(1)
