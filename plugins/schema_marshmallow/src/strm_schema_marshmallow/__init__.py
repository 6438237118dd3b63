"""strm plugin: a marshmallow ``Schema`` (class or instance) as a topic's ``key_type`` or
``value_type``.

Through the kernel's ``strm_model_types`` hook: payloads are decoded with the topic's codec and
loaded by the schema, with its validation; a payload the schema refuses is a decode error,
logged and dead-lettered like a record's. Values sent are dumped by the schema, and checked by
it before they leave, so that what readers would refuse is refused at the sender.
"""

from __future__ import annotations

import strm
from strm.kernel import records

from strm_schema_marshmallow.model_type import MarshmallowType, SchemaValidationError

__all__ = ["MarshmallowType", "SchemaValidationError", "strm_model_types"]


@strm.hookimpl
def strm_model_types() -> list[records.Provision]:
    return [
        records.model_type(
            "marshmallow", MarshmallowType, description="marshmallow Schema classes and instances"
        )
    ]
