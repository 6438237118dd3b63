"""strm-store-rocksdb: table stores in RocksDB (through rocksdict), under the scheme ``rocksdb://``.

This module is the plugin: strm registers it through the entry point ``store_rocksdb`` of group
``strm``, or by ``--plugin strm_store_rocksdb``. ``App(store='rocksdb://')`` then keeps each table
partition in its own RocksDB database under the app's ``tabledir``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import strm
from strm.kernel import records
from strm.kernel.records import Provision

if TYPE_CHECKING:
    from strm_store_rocksdb.options import OPTIONS
    from strm_store_rocksdb.store import RocksDBStore

#: What this module exports from the modules that import rocksdict, loaded on first access: the
#: plugin names its store by path, so an app that keeps no table in RocksDB never loads
#: rocksdict (about 9 MiB of resident memory).
__getattr__ = records.lazy_exports(
    __name__,
    {
        "OPTIONS": "strm_store_rocksdb.options:OPTIONS",
        "RocksDBStore": "strm_store_rocksdb.store:RocksDBStore",
    },
)


@strm.hookimpl
def strm_stores() -> list[Provision]:
    return [
        records.store(
            "rocksdb",
            "strm_store_rocksdb.store:RocksDBStore",
            description="RocksDB on disk (rocksdict), one per partition",
        )
    ]


__all__ = ["OPTIONS", "RocksDBStore"]
