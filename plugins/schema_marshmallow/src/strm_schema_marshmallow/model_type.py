"""The model type: what the kernel asks about a declared type that is a marshmallow schema.

marshmallow is not imported here: every app with the plugin installed makes a
:class:`MarshmallowType`, and most declare no schema. A schema exists only once the app has
imported marshmallow itself, so until then no type is one (and the import, about 30 ms of CPU,
is spared at each start).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import marshmallow


class SchemaValidationError(ValueError):
    """marshmallow's errors as one line: ``2 invalid fields: amount: ...; id: ...``, which the
    kernel puts in its decode error (and so in the dead letter's ``strm-error`` header)."""

    def __init__(self, schema: marshmallow.Schema, messages: Any) -> None:
        self.messages = messages
        problems = _flatten(messages)
        noun = "field" if len(problems) == 1 else "fields"
        super().__init__(
            f"{type(schema).__name__}: {len(problems)} invalid {noun}: {'; '.join(problems)}"
        )


class MarshmallowType:
    """Loads and dumps with one schema instance per schema class (schemas are reusable); an
    instance given as the type (``OrderSchema(many=True)``, ``partial=...``) is used as it is."""

    def __init__(self) -> None:
        self._instances: dict[type[marshmallow.Schema], marshmallow.Schema] = {}

    def handles(self, tp: Any) -> bool:
        loaded = sys.modules.get("marshmallow")
        if loaded is None:
            return False  # no schema class exists before marshmallow is imported
        if isinstance(tp, loaded.Schema):
            return True
        return isinstance(tp, type) and issubclass(tp, loaded.Schema)

    def schema(self, tp: Any) -> marshmallow.Schema:
        import marshmallow  # loaded already: ``tp`` is a schema (``handles``)

        if isinstance(tp, marshmallow.Schema):
            return tp
        instance = self._instances.get(tp)
        if instance is None:
            instance = self._instances[tp] = tp()
        return instance

    def load(self, tp: Any, data: Any) -> Any:
        import marshmallow

        schema = self.schema(tp)
        try:
            return schema.load(data)
        except marshmallow.ValidationError as exc:
            raise SchemaValidationError(schema, exc.messages) from exc

    def dump(self, tp: Any, value: Any) -> Any:
        schema = self.schema(tp)
        dumped = schema.dump(value)
        errors = schema.validate(dumped)
        if errors:
            raise SchemaValidationError(schema, errors)
        return dumped


def _flatten(messages: Any, path: str = "") -> list[str]:
    """``['amount: Not a valid number.', 'items.0.sku: Missing data for required field.']``."""
    if isinstance(messages, Mapping):
        found: list[str] = []
        for key, inner in sorted(messages.items(), key=lambda item: str(item[0])):
            name = "(schema)" if key == "_schema" else str(key)
            found += _flatten(inner, f"{path}.{name}" if path else name)
        return found
    if isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            return [f"{path}: {' '.join(messages)}" if path else " ".join(messages)]
        return [line for m in messages for line in _flatten(m, path)]
    return [f"{path}: {messages}" if path else str(messages)]
