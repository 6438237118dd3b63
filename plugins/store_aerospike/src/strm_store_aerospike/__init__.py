"""strm-store-aerospike: table stores in an Aerospike cluster, under the scheme ``aerospike://``.

This module is the plugin: strm registers it through the entry point ``store_aerospike`` of group
``strm``, or by ``--plugin strm_store_aerospike``. ``App(store='aerospike://host:3000/ns')`` then
keeps each table partition in its own set of the namespace ``ns``. The plugin also declares the
four Aerospike settings of the configuration reference (``store_check_exists``,
``crash_app_on_aerospike_exception``, ``aerospike_retries_on_exception`` and
``aerospike_sleep_seconds_between_retries_on_exception``).

:mod:`strm_store_aerospike.testing` has an in-process double of the Aerospike client for tests
without a server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import strm
from strm.kernel import records
from strm.kernel.records import Provision
from strm.kernel.settings.setting import Setting

from strm_store_aerospike.clients import REGISTRY, ClientRegistry
from strm_store_aerospike.location import Location, parse_location
from strm_store_aerospike.settings import SETTINGS, ErrorPolicy

if TYPE_CHECKING:
    from strm_store_aerospike.store import AerospikeStore


#: ``AerospikeStore``, imported (with the Aerospike client) on first use: the plugin names its
#: store by path, so an app that keeps no table in Aerospike never loads the client (about
#: 4 MiB of resident memory).
__getattr__ = records.lazy_exports(
    __name__, {"AerospikeStore": "strm_store_aerospike.store:AerospikeStore"}
)


@strm.hookimpl
def strm_stores() -> list[Provision]:
    return [
        records.store(
            "aerospike",
            "strm_store_aerospike.store:AerospikeStore",
            description="Aerospike cluster, one set per table partition",
        )
    ]


@strm.hookimpl
def strm_settings() -> list[Setting]:
    return list(SETTINGS)


__all__ = [
    "REGISTRY",
    "AerospikeStore",
    "ClientRegistry",
    "ErrorPolicy",
    "Location",
    "parse_location",
]
