"""The four settings of Faust's configuration reference that only the Aerospike store reads.

They are declared by this plugin (``strm_settings``), so they exist in ``app.conf`` only when the
plugin is loaded; without it, strm names this distribution when one of them is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strm.kernel.settings.setting import Setting
from strm.kernel.settings.types import Bool, Int, Seconds

CHECK_EXISTS = "store_check_exists"
CRASH_APP = "crash_app_on_aerospike_exception"
RETRIES = "aerospike_retries_on_exception"
SLEEP = "aerospike_sleep_seconds_between_retries_on_exception"

#: The reference puts them among the stream settings.
SECTION = "Stream"

SETTINGS: list[Setting] = [
    Setting(
        CHECK_EXISTS,
        Bool(),
        "aerospike:// stores: True makes get() and contains() ask the server whether the record "
        "exists first (exists(), metadata only); False skips that call: get() reads the record "
        "at once and a missing record (RecordNotFound) is a missing key, contains() reads the "
        "record too.",
        default=True,
        env="STORE_CHECK_EXISTS",
        section=SECTION,
    ),
    Setting(
        CRASH_APP,
        Bool(),
        "aerospike:// stores: when a call to Aerospike still fails after its retries, True "
        "crashes the app (the worker stops, its offsets are not committed) and raises "
        "StoreError; False only raises StoreError, for the caller to handle (a dead-letter "
        "topic, for instance) while the app keeps running.",
        default=True,
        env="CRASH_APP_ON_AEROSPIKE_EXCEPTION",
        section=SECTION,
    ),
    Setting(
        RETRIES,
        Int(min=0),
        "aerospike:// stores: how many times a failed call to Aerospike is retried before it "
        "counts as failed (0: no retry).",
        default=60,
        env="AEROSPIKE_RETRIES_ON_EXCEPTION",
        section=SECTION,
    ),
    Setting(
        SLEEP,
        Seconds(min=0),
        "aerospike:// stores: seconds to wait between two attempts of a failed call. The wait "
        "blocks the thread that called the store (see the plugin's README).",
        default=1.0,
        env="AEROSPIKE_SLEEP_SECONDS_BETWEEN_RETRIES_ON_EXCEPTION",
        section=SECTION,
    ),
]


@dataclass(frozen=True)
class ErrorPolicy:
    """What a store does about failed calls, read from the app's settings."""

    check_exists: bool = True
    crash_app: bool = True
    retries: int = 60
    sleep_seconds: float = 1.0

    @classmethod
    def from_conf(cls, conf: Any) -> ErrorPolicy:
        return cls(
            check_exists=bool(getattr(conf, CHECK_EXISTS)),
            crash_app=bool(getattr(conf, CRASH_APP)),
            retries=int(getattr(conf, RETRIES)),
            sleep_seconds=float(getattr(conf, SLEEP)),
        )
