"""The plugin inside an app: the ``leveldb`` scheme, the kernel's factory call, the entry point."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import strm_store_leveldb
from strm.kernel.spi import Store
from strm.runtime.backend_contexts import store_context as app_store_context
from strm.testing.pytest_plugin import AppFactory
from strm_store_leveldb import LevelDBStore

PLUGIN = "strm_store_leveldb"


def test_the_store_scheme_resolves_to_the_plugins_store(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=[PLUGIN], store="leveldb://")
    provision = app.resolve_backend("store")
    assert provision.factory is LevelDBStore
    assert provision.name == "leveldb"


def test_the_factory_builds_a_store_as_the_kernel_calls_it(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=[PLUGIN], store="leveldb://")
    factory = app.resolve_backend("store").factory
    store = factory(url=app.conf.store, context=app_store_context(app, "t", 0))
    try:
        assert isinstance(store, Store)
        assert isinstance(store, LevelDBStore)
        assert store.path == app.conf.tabledir / "t-0.leveldb"
        store.set(b"k", b"v")
        assert store.get(b"k") == b"v"
    finally:
        store.close()


def test_a_tables_own_url_picks_its_directory(strm_app_factory: AppFactory, tmp_path: Path) -> None:
    app = strm_app_factory(plugins=[PLUGIN])
    url = f"leveldb://{tmp_path / 'own'}"
    factory = app.resolve_backend("store", url=url).factory
    context = app_store_context(app, "t", 1, {"max_open_files": 50})
    store = factory(url=url, context=context)
    try:
        assert store.path == tmp_path / "own" / "t-1.leveldb"
    finally:
        store.close()


def test_an_app_on_leveldb_configures(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=[PLUGIN], store="leveldb://").configure()
    assert app.conf.store == "leveldb://"
    assert "leveldb" in app.plugins.provisions("store")


def test_the_entry_point_is_registered() -> None:
    (entry_point,) = [
        ep for ep in metadata.entry_points(group="strm") if ep.name == "store_leveldb"
    ]
    assert entry_point.value == PLUGIN
    assert entry_point.dist is not None
    assert entry_point.dist.name == "strm-store-leveldb"
    assert entry_point.load() is strm_store_leveldb


def test_the_installed_entry_point_loads_the_plugin(strm_app_factory: AppFactory) -> None:
    """Load by entry point, as users will; other installed strm plugins are blocked so that
    only this one is on trial."""
    others = [
        f"no:{ep.name}" for ep in metadata.entry_points(group="strm") if ep.name != "store_leveldb"
    ]
    app = strm_app_factory(entry_points=True, plugins=others, store="leveldb://")
    provision = app.resolve_backend("store")
    assert provision.factory is LevelDBStore
    assert provision.distribution == "strm-store-leveldb"
    info = {p.name: p for p in app.plugins.plugins()}["store_leveldb"]
    assert info.distribution == "strm-store-leveldb"
    assert info.module == PLUGIN
    assert not info.builtin
    assert info.hooks == ["strm_stores"]
