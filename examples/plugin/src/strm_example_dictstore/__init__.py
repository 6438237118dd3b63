"""strm-example-dictstore: a small, complete strm plugin to copy from.

This module is the plugin: strm registers it through the entry point ``example_dictstore`` of
group ``strm`` (see ``pyproject.toml``), or by ``--plugin strm_example_dictstore``. Each function
marked ``@strm.hookimpl`` implements one hook of :mod:`strm.kernel.hookspecs`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import click
import strm
from strm.kernel import records
from strm.kernel.records import Provision
from strm.kernel.settings.setting import Setting
from strm.kernel.settings.types import Int
from strm.kernel.spi import TP

from strm_example_dictstore.cli import dictstore_info, max_keys_option
from strm_example_dictstore.codec import ReverseCodec
from strm_example_dictstore.store import MAX_KEYS_SETTING, DictStore, DictStoreFullError

logger = logging.getLogger(__name__)


@strm.hookimpl
def strm_stores() -> list[Provision]:
    return [records.store("dictstore", DictStore, description="in-process dict with a key cap")]


@strm.hookimpl
def strm_codecs() -> list[Provision]:
    return [records.codec("reverse", ReverseCodec, description="bytes reversed")]


@strm.hookimpl
def strm_settings() -> list[Setting]:
    return [
        Setting(
            MAX_KEYS_SETTING,
            Int(min=1),
            "Most keys one dictstore:// table partition holds; a write beyond it fails.",
            default=10_000,
            env="DICTSTORE_MAX_KEYS",
            section="DictStore",
        )
    ]


@strm.hookimpl
def strm_cli_options() -> list[click.Option]:
    return [max_keys_option]


@strm.hookimpl
def strm_cli_commands() -> list[click.Command]:
    return [dictstore_info]


@strm.hookimpl
def strm_app_configured(app: strm.App) -> None:
    if app.conf.store.startswith("dictstore:"):
        logger.info(
            "app %r stores tables in dictstore:// with at most %d keys per partition",
            app.conf.id,
            getattr(app.conf, MAX_KEYS_SETTING),
        )


@strm.hookimpl
def strm_worker_starting(app: strm.App) -> None:
    logger.info("worker of app %r starting", app.conf.id)


@strm.hookimpl
def strm_worker_stopping(app: strm.App) -> None:
    logger.info("worker of app %r stopping", app.conf.id)


@strm.hookimpl
def strm_partitions_assigned(app: strm.App, assigned: Sequence[TP]) -> None:
    logger.info("app %r was assigned %d partitions", app.conf.id, len(assigned))


__all__ = ["DictStore", "DictStoreFullError", "ReverseCodec"]
