"""The ``example_sqlite`` plugin: tables kept in SQLite, one file per table partition.

The only hook is :func:`strm_stores`; everything else (serialisation, changelogs, recovery) is
the kernel's, which is why a persistent store fits in one small module.
"""

from __future__ import annotations

import strm
from strm.kernel import records
from strm.kernel.records import Provision

from strm_example_sqlite.store import SQLiteStore


@strm.hookimpl
def strm_stores() -> list[Provision]:
    return [records.store("sqlite", SQLiteStore, description="one SQLite file per table partition")]


__all__ = ["SQLiteStore", "strm_stores"]
