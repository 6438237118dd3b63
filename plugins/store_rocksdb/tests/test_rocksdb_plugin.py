"""The plugin inside an app: the scheme, the factory the kernel calls, where files go."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from urllib.parse import quote

import pytest
import strm_store_rocksdb
from strm.kernel.errors import StoreLockedError
from strm.kernel.spi import Store
from strm.runtime.backend_contexts import store_context as app_store_context
from strm.testing.pytest_plugin import AppFactory
from strm_store_rocksdb import RocksDBStore

PLUGIN = "strm_store_rocksdb"


def test_the_entry_point_is_registered() -> None:
    (entry_point,) = [
        ep for ep in importlib.metadata.entry_points(group="strm") if ep.name == "store_rocksdb"
    ]
    assert entry_point.value == PLUGIN
    assert entry_point.dist is not None and entry_point.dist.name == "strm-store-rocksdb"
    assert entry_point.load() is strm_store_rocksdb


def test_the_installed_entry_point_loads_the_plugin(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(entry_points=True, store="rocksdb://")
    assert app.resolve_backend("store").factory is RocksDBStore
    info = {p.name: p for p in app.plugins.plugins()}["store_rocksdb"]
    assert info.distribution == "strm-store-rocksdb"
    assert info.module == PLUGIN
    assert not info.builtin


def test_the_scheme_resolves_to_the_store(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=[PLUGIN], store="rocksdb://")
    provision = app.resolve_backend("store")
    assert provision.name == "rocksdb"
    assert provision.factory is RocksDBStore


def test_the_factory_puts_each_partition_under_tabledir(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=[PLUGIN], store="rocksdb://")
    factory = app.resolve_backend("store").factory
    stores = [
        factory(url=app.conf.store, context=app_store_context(app, name, p))
        for name, p in [("counts", 0), ("counts", 1), ("totals", 0)]
    ]
    try:
        assert all(isinstance(store, Store) for store in stores)
        tabledir = app.conf.tabledir
        assert [store.path for store in stores] == [
            tabledir / "counts-0.rocksdb",
            tabledir / "counts-1.rocksdb",
            tabledir / "totals-0.rocksdb",
        ]
        assert all((store.path / "CURRENT").is_file() for store in stores)
        stores[0].set(b"k", b"v")
        assert stores[1].get(b"k") is None
    finally:
        for store in stores:
            store.close()


def test_a_url_with_a_directory_puts_the_partitions_there(
    strm_app_factory: AppFactory, tmp_path: Path
) -> None:
    directory = tmp_path / "elsewhere dir" / "tables"
    url = "rocksdb://" + quote(str(directory))
    app = strm_app_factory(plugins=[PLUGIN], store=url)
    store = app.resolve_backend("store").factory(url=url, context=app_store_context(app, "t", 5))
    try:
        assert store.path == directory / "t-5.rocksdb"
        assert store.path.is_dir()
        assert not app.conf.tabledir.exists()
    finally:
        store.close()


def test_a_relative_directory_is_under_tabledir(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=[PLUGIN])
    store = RocksDBStore(url="rocksdb:hot/disk", context=app_store_context(app, "t", 0))
    try:
        assert store.path == app.conf.tabledir / "hot" / "disk" / "t-0.rocksdb"
    finally:
        store.close()


def test_the_factory_takes_keywords_a_later_strm_may_add(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=[PLUGIN], store="rocksdb://")
    store = app.resolve_backend("store").factory(
        url="rocksdb://", context=app_store_context(app, "t", 0), standby=True
    )
    store.close()


def test_two_apps_on_one_datadir_collide_with_a_clear_error(
    strm_app_factory: AppFactory,
) -> None:
    first = strm_app_factory(plugins=[PLUGIN], store="rocksdb://")
    second = strm_app_factory(plugins=[PLUGIN], store="rocksdb://")
    assert first.conf.tabledir == second.conf.tabledir
    held = RocksDBStore(url="rocksdb://", context=app_store_context(first, "counts", 0))
    try:
        with pytest.raises(StoreLockedError, match="another worker on the same datadir"):
            RocksDBStore(url="rocksdb://", context=app_store_context(second, "counts", 0))
    finally:
        held.close()
