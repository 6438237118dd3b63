"""Tables whose values are sets: ``app.SetTable('tags')``; ``tags['k'].add('x')``.

The set a key returns is bound to its table: changing it in place (``add``, ``discard``,
``|=``...) records the change, which reaches the changelog at the next checkpoint as the whole
set — so replaying the changelog gives exactly the latest set.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strm.tables.global_table import GlobalTable
from strm.tables.shard import MISSING
from strm.tables.table import Table


class BoundSet(set[Any]):
    """A set that writes itself back to its table when changed."""

    def __init__(self, table: Table, key: Any, items: Iterable[Any] = ()) -> None:
        super().__init__(items)
        self._table = table
        self._key = key

    def _changed(self) -> None:
        Table.__setitem__(self._table, self._key, set(self))


def _mutating(name: str) -> Any:
    method = getattr(set, name)

    def wrapper(self: BoundSet, *args: Any) -> Any:
        result = method(self, *args)
        self._changed()
        return self if name.startswith("__i") else result

    wrapper.__name__ = name
    return wrapper


for _name in (
    "add",
    "discard",
    "remove",
    "pop",
    "clear",
    "update",
    "difference_update",
    "intersection_update",
    "symmetric_difference_update",
    "__ior__",
    "__iand__",
    "__isub__",
    "__ixor__",
):
    setattr(BoundSet, _name, _mutating(_name))


def _frozen(items: list[Any]) -> list[Any]:
    return [tuple(_frozen(m)) if isinstance(m, list) else m for m in items]


class SetTable(Table):
    """A table of sets; ``default`` is ``set``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", set)
        super().__init__(*args, **kwargs)

    def __getitem__(self, key: Any) -> BoundSet:
        hook = self.key_get_hook
        if hook is not None:
            hook(key)
        value = self._get(key)
        return BoundSet(self, key, () if value is MISSING else value)

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, set(value))

    def loads_value(self, raw: bytes) -> Any:
        value = super().loads_value(raw)
        if value is None:
            return None
        # JSON has no tuples: members that were tuples come back as lists.
        return {tuple(_frozen(m)) if isinstance(m, list) else m for m in value}


class SetGlobalTable(SetTable, GlobalTable):
    """A table of sets held whole on every worker."""
