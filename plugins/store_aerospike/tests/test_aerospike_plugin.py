"""The plugin inside strm: its entry point, the scheme, and stores opened by the kernel."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import entry_points

import pytest
from strm.app import App
from strm.cli.main import main
from strm.kernel.errors import StoreError
from strm.kernel.spi import TP, Store
from strm.runtime.backend_contexts import store_context as app_store_context
from strm.testing.pytest_plugin import AppFactory
from strm_store_aerospike import AerospikeStore
from strm_store_aerospike.testing import FakeAerospike

PLUGIN = "strm_store_aerospike"
SETTING_NAMES = (
    "store_check_exists",
    "crash_app_on_aerospike_exception",
    "aerospike_retries_on_exception",
    "aerospike_sleep_seconds_between_retries_on_exception",
)


def test_the_entry_point_is_registered() -> None:
    [point] = [p for p in entry_points(group="strm") if p.name == "store_aerospike"]
    assert point.value == PLUGIN
    assert point.dist is not None and point.dist.name == "strm-store-aerospike"


def test_the_installed_entry_point_loads_the_plugin(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(entry_points=True, store="aerospike://db:3000/test")
    provision = app.resolve_backend("store")
    assert provision.factory is AerospikeStore
    assert provision.distribution == "strm-store-aerospike"
    info = {p.name: p for p in app.plugins.plugins()}["store_aerospike"]
    assert info.distribution == "strm-store-aerospike"
    assert info.module == PLUGIN
    assert not info.builtin


def test_the_scheme_resolves_through_the_plugin_manager(make_app: Callable[..., App]) -> None:
    app = make_app(store="aerospike://db:3000/test")
    provision = app.resolve_backend("store")
    assert provision.name == "aerospike"
    assert provision.factory is AerospikeStore
    assert "aerospike" in app.plugins.provisions("store")


def test_the_factory_builds_a_store_the_way_strm_calls_it(
    make_app: Callable[..., App], fake: FakeAerospike
) -> None:
    app = make_app(store="aerospike://db:3000/test", store_check_exists=False)
    factory = app.resolve_backend("store").factory
    context = app_store_context(app, "counts", 2, {"client_factory": fake})
    store = factory(url=app.conf.store, context=context)
    try:
        assert isinstance(store, Store)
        store.write_batch({b"k": b"v"}, {TP("counts-changelog", 2): 0})
        assert dict(store.items()) == {b"k": b"v"}
        assert fake.set_names("test") == ["counts-2", "strm-applied-offsets"]
        assert fake.clients[0].config["hosts"] == [("db", 3000)]
    finally:
        store.close()


def test_the_kernel_opens_table_partitions_with_the_tables_options(
    make_app: Callable[..., App], fake: FakeAerospike
) -> None:
    app = make_app(store="memory://")
    table = app.Table(
        "counts",
        store="aerospike://db/test",
        partitions=4,
        options={"client_factory": fake, "set": "{app}-{table}-{partition}"},
    )
    stores = [app.tables.open_store(table, partition) for partition in (1, 3)]
    try:
        assert [s.location.set_name for s in stores] == ["test-app-counts-1", "test-app-counts-3"]
        assert len(fake.clients) == 1
    finally:
        for store in stores:
            store.close()
    assert not fake.clients[0].is_connected()


def test_a_bad_store_url_fails_when_the_kernel_opens_the_partition(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    table = app.Table("counts", store="aerospike://db:3000", partitions=1)
    with pytest.raises(StoreError, match=r"table 'counts' partition 0: .*no namespace"):
        app.tables.open_store(table, 0)


def test_strm_settings_lists_them_as_this_plugins(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["settings", "--json"])
    assert info.value.code == 0
    listed = {entry["name"]: entry for entry in json.loads(capsys.readouterr().out)}
    for name in SETTING_NAMES:
        assert listed[name]["distribution"] == "strm-store-aerospike"
