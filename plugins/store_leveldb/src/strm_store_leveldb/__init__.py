"""strm-store-leveldb: table stores in LevelDB (through plyvel), under the scheme ``leveldb://``.

This module is the plugin: strm registers it through the entry point ``store_leveldb`` of group
``strm``, or by ``--plugin strm_store_leveldb``. ``App(store='leveldb://')`` then keeps each table
partition in its own LevelDB database under the app's ``tabledir``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import strm
from strm.kernel import records
from strm.kernel.records import Provision

from strm_store_leveldb.options import PLYVEL_OPTIONS

if TYPE_CHECKING:
    from strm_store_leveldb.store import LevelDBStore


#: ``LevelDBStore``, imported (with plyvel) on first use: the plugin names its store by path,
#: so an app that keeps no table in LevelDB never loads plyvel (about 2 MiB of resident memory).
__getattr__ = records.lazy_exports(
    __name__, {"LevelDBStore": "strm_store_leveldb.store:LevelDBStore"}
)


@strm.hookimpl
def strm_stores() -> list[Provision]:
    return [
        records.store(
            "leveldb",
            "strm_store_leveldb.store:LevelDBStore",
            description="LevelDB on disk (plyvel), one per table partition",
        )
    ]


__all__ = ["PLYVEL_OPTIONS", "LevelDBStore"]
