"""Records that refer to classes defined later in their module (string annotations)."""

from __future__ import annotations

import strm


class Parent(strm.Record, include_metadata=False):
    name: str
    child: Child | None = None
    siblings: list[Parent] = []  # noqa: RUF012


class Child(strm.Record, include_metadata=False):
    name: str
    parent_name: str = ""


def test_forward_references_resolve_on_first_use() -> None:
    parent = Parent.from_data({"name": "p", "child": {"name": "c"}, "siblings": [{"name": "s"}]})
    assert parent.child == Child("c")
    assert parent.siblings == [Parent("s")]
    assert parent.to_representation() == {
        "name": "p",
        "child": {"name": "c", "parent_name": ""},
        "siblings": [{"name": "s", "child": None, "siblings": []}],
    }
    assert Parent._options.fields["child"] == Child | None
    assert Parent.child.type == Child | None
    assert Parent.child.name.getattr(parent) == "c"


def test_future_annotations_of_plain_types() -> None:
    assert Child._options.fields == {"name": str, "parent_name": str}
    assert Child.loads(Child("c").dumps()) == Child("c")


class Early(strm.Record):
    later: Later | None = None


class Later(strm.Record):
    n: int = 0


def test_class_attribute_access_resolves_a_pending_class() -> None:
    assert Early._options.compiled is False
    assert Early.later.type == Later | None
    assert Early._options.compiled is True
