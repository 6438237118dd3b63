"""Types from other schema libraries as a topic's ``key_type``/``value_type``.

strm's own :class:`~strm.Record` is built in. A plugin makes another library's schemas usable the
same way (a marshmallow ``Schema``, say) by providing a :class:`ModelType` through the
``strm_model_types`` hook: the kernel asks each one whether it handles a declared type and, for
the first that does, calls ``load`` on what the codec decoded (validation included) and ``dump``
before the codec encodes. A ``load`` that raises becomes the side's decode error, which is
logged and dead-lettered like a record's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

__all__ = ["ModelType", "ModelTypes"]


@runtime_checkable
class ModelType(Protocol):
    """What a ``strm_model_types`` provision's factory returns (it takes no arguments)."""

    def handles(self, tp: Any) -> bool:
        """Whether ``tp``, as given to ``key_type=``/``value_type=``, is one of this library's."""
        ...

    def load(self, tp: Any, data: Any) -> Any:
        """The value for ``data``, as the codec decoded it (a dict from JSON); raises on data
        that ``tp`` refuses, with a message saying what was wrong."""
        ...

    def dump(self, tp: Any, value: Any) -> Any:
        """What the codec encodes for ``value`` (a dict for JSON)."""
        ...


class ModelTypes:
    """The app's model types, and which one handles a type, looked up once per type."""

    def __init__(self, model_types: Iterable[ModelType] = ()) -> None:
        self.model_types = tuple(model_types)
        self._chosen: dict[int, tuple[Any, ModelType | None]] = {}

    def __bool__(self) -> bool:
        return bool(self.model_types)

    def for_type(self, tp: Any) -> ModelType | None:
        """The first model type that handles ``tp``, or ``None``."""
        if not self.model_types:
            return None
        cached = self._chosen.get(id(tp))
        if cached is not None and cached[0] is tp:  # the type itself is kept, so ids stay unique
            return cached[1]
        chosen = next((m for m in self.model_types if m.handles(tp)), None)
        self._chosen[id(tp)] = (tp, chosen)
        return chosen
