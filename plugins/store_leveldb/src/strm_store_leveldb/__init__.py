"""strm-store-leveldb: table stores in LevelDB (through plyvel), under the scheme ``leveldb://``.

This module is the plugin: strm registers it through the entry point ``store_leveldb`` of group
``strm``, or by ``--plugin strm_store_leveldb``. ``App(store='leveldb://')`` then keeps each table
partition in its own LevelDB database under the app's ``tabledir``.
"""

from __future__ import annotations

import strm
from strm.kernel import records
from strm.kernel.records import Provision

from strm_store_leveldb.options import PLYVEL_OPTIONS
from strm_store_leveldb.store import LevelDBStore


@strm.hookimpl
def strm_stores() -> list[Provision]:
    return [
        records.store(
            "leveldb", LevelDBStore, description="LevelDB on disk (plyvel), one per table partition"
        )
    ]


__all__ = ["PLYVEL_OPTIONS", "LevelDBStore"]
