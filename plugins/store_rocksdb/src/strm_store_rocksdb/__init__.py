"""strm-store-rocksdb: table stores in RocksDB (through rocksdict), under the scheme ``rocksdb://``.

This module is the plugin: strm registers it through the entry point ``store_rocksdb`` of group
``strm``, or by ``--plugin strm_store_rocksdb``. ``App(store='rocksdb://')`` then keeps each table
partition in its own RocksDB database under the app's ``tabledir``.
"""

from __future__ import annotations

import strm
from strm.kernel import records
from strm.kernel.records import Provision

from strm_store_rocksdb.options import OPTIONS
from strm_store_rocksdb.store import RocksDBStore


@strm.hookimpl
def strm_stores() -> list[Provision]:
    return [
        records.store(
            "rocksdb", RocksDBStore, description="RocksDB on disk (rocksdict), one per partition"
        )
    ]


__all__ = ["OPTIONS", "RocksDBStore"]
