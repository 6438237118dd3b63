"""The ``codecs`` built-in plugin: strm's codecs (:mod:`strm.codecs.builtin`) by name."""

from __future__ import annotations

from strm.codecs.builtin import BUILTIN_CODECS
from strm.kernel import records
from strm.kernel.hookspecs import hookimpl
from strm.kernel.records import Provision


@hookimpl
def strm_codecs() -> list[Provision]:
    return [
        records.codec(name, codec, description=description)
        for name, (codec, description) in BUILTIN_CODECS.items()
    ]
