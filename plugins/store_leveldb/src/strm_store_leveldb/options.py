"""The ``options=`` of a ``leveldb://`` table: keyword arguments of ``plyvel.DB``, checked first.

A misspelt option would otherwise reach plyvel as a ``TypeError`` that names neither the table nor
the valid names, so they are checked here against the names ``plyvel.DB`` accepts.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from strm.kernel.errors import StoreError

#: Keyword arguments of ``plyvel.DB(name, ...)`` (plyvel 1.5) that a table may set.
PLYVEL_OPTIONS = frozenset(
    {
        "create_if_missing",
        "error_if_exists",
        "paranoid_checks",
        "write_buffer_size",
        "max_open_files",
        "lru_cache_size",
        "block_size",
        "block_restart_interval",
        "max_file_size",
        "compression",
        "bloom_filter_bits",
    }
)

#: plyvel options the store refuses, with the reason: it keeps data and applied offsets under
#: key prefixes, which needs LevelDB's default bytewise key order.
UNSUPPORTED_OPTIONS = {
    "comparator": "the store keeps its data and applied offsets under key prefixes, which needs "
    "LevelDB's default bytewise key order",
    "comparator_name": "the store keeps its data and applied offsets under key prefixes, which "
    "needs LevelDB's default bytewise key order",
}

#: What the store passes unless a table's options say otherwise.
DEFAULTS: Mapping[str, Any] = {"create_if_missing": True}


def plyvel_kwargs(options: Mapping[str, Any] | None, *, where: str) -> dict[str, Any]:
    """The keyword arguments for ``plyvel.DB``: :data:`DEFAULTS` updated with ``options``.

    Returns a new dict, so the caller's mapping is never changed. ``where`` names the table
    partition in the error raised for an unknown or unsupported option.
    """
    given = dict(options or {})
    for name in given:
        if name in UNSUPPORTED_OPTIONS:
            raise StoreError(
                f"{where}: leveldb option {name!r} is not supported: {UNSUPPORTED_OPTIONS[name]}"
            )
        if name not in PLYVEL_OPTIONS:
            close = difflib.get_close_matches(str(name), sorted(PLYVEL_OPTIONS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise StoreError(
                f"{where}: unknown leveldb option {name!r}; {hint}"
                f"valid options (plyvel.DB arguments): {', '.join(sorted(PLYVEL_OPTIONS))}"
            )
    return {**DEFAULTS, **given}
