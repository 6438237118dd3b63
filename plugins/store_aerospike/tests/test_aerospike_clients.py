"""One client per app and configuration, shared by the app's stores and closed with the last;
the configuration it is given, and credentials that never show."""

from __future__ import annotations

import gc
from collections.abc import Callable

import aerospike
import pytest
from strm.app import App
from strm.kernel.errors import StoreError
from strm.runtime.backend_contexts import Scope, scope_of
from strm.runtime.backend_contexts import store_context as app_store_context
from strm.testing.contexts import context_settings, store_context
from strm_store_aerospike import REGISTRY, AerospikeStore, ClientRegistry
from strm_store_aerospike.testing import FakeAerospike

OpenStore = Callable[..., AerospikeStore]


def test_the_stores_of_an_app_share_one_client(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike
) -> None:
    app = make_app()
    stores = [open_store(table, partition, app=app) for table in "ab" for partition in range(3)]
    assert len(fake.clients) == 1
    client = fake.clients[0]
    assert REGISTRY.clients(scope_of(app)) == [client]
    for store in stores[:-1]:
        store.close()
    assert client.is_connected()
    stores[-1].set(b"k", b"v")
    stores[-1].close()
    assert not client.is_connected()
    assert REGISTRY.clients(scope_of(app)) == []


def test_a_store_opened_after_the_last_closed_gets_a_new_client(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike
) -> None:
    app = make_app()
    open_store(app=app).close()
    store = open_store(app=app)
    assert len(fake.clients) == 2
    assert store._client is fake.clients[1]
    assert fake.clients[1].is_connected()


def test_two_apps_never_share_a_client(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike
) -> None:
    first, second = make_app("first"), make_app("second")
    one = open_store(app=first)
    two = open_store(app=second)
    assert one._client is not two._client
    assert REGISTRY.clients(scope_of(first)) == [one._client]
    assert REGISTRY.clients(scope_of(second)) == [two._client]


def test_another_configuration_gets_another_client(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike
) -> None:
    app = make_app()
    plain = open_store("t", 0, app=app)
    tuned = open_store("t", 1, app=app, client={"policies": {"read": {"total_timeout": 500}}})
    same = open_store("t", 2, app=app, client={"policies": {"read": {"total_timeout": 500}}})
    assert plain._client is not tuned._client
    assert tuned._client is same._client
    assert len(fake.clients) == 2


def test_an_app_that_is_gone_leaves_nothing_behind(fake: FakeAerospike) -> None:
    registry = ClientRegistry()
    scope = Scope("gone")
    context = store_context(
        conf=context_settings("gone", plugins=["strm_store_aerospike"]),
        scope=scope,
        options={"client_factory": fake},
    )
    AerospikeStore(url="aerospike:///test", context=context, registry=registry)
    assert len(registry.clients(scope)) == 1
    del scope, context
    gc.collect()
    assert len(registry._by_scope) == 0


def test_stores_without_an_app_share_a_client_by_scope(fake: FakeAerospike) -> None:
    conf = context_settings("plain", plugins=["strm_store_aerospike"])
    scopes = [Scope("plain"), Scope("plain")]
    stores = [
        AerospikeStore(
            url="aerospike:///test",
            context=store_context(
                conf=conf, scope=scope, partition=p, options={"client_factory": fake}
            ),
        )
        for scope in scopes
        for p in range(2)
    ]
    try:
        assert len(fake.clients) == 2
        assert stores[0]._client is stores[1]._client
        assert stores[1]._client is not stores[2]._client
    finally:
        for store in stores:
            store.close()


def test_the_client_gets_hosts_credentials_and_client_options(
    open_store: OpenStore, fake: FakeAerospike
) -> None:
    open_store(
        url="aerospike://alice:s%40cret@db1:3100,db2,[::1]:3200/test",
        client={"policies": {"write": {"total_timeout": 2000}}, "use_shared_connection": True},
    )
    assert fake.clients[0].config == {
        "hosts": [("db1", 3100), ("db2", 3000), ("::1", 3200)],
        "user": "alice",
        "password": "s@cret",
        "policies": {"write": {"total_timeout": 2000}},
        "use_shared_connection": True,
    }


def test_options_win_over_the_url_and_client_hosts_over_both(
    open_store: OpenStore, fake: FakeAerospike
) -> None:
    open_store(
        url="aerospike://alice:old@db1/test",
        user="bob",
        password="new",
        client={"hosts": [("tls-host", 4333, "tls-name")]},
    )
    config = fake.clients[0].config
    assert config["user"] == "bob"
    assert config["password"] == "new"
    assert config["hosts"] == [("tls-host", 4333, "tls-name")]


def test_the_password_never_shows(open_store: OpenStore, make_app: Callable[..., App]) -> None:
    store = open_store(url="aerospike://alice:hunter2@db1/test", password="hunter3")
    shown = [repr(store), repr(store.location), store.location.describe()]
    assert not any("hunter" in text for text in shown)
    with pytest.raises(StoreError) as info:
        open_store(url="aerospike://alice:hunter2@db1/", password="hunter3")
    assert "hunter" not in str(info.value)
    with pytest.raises(StoreError) as info:
        open_store(url="aerospike://db1/test", password=12345)
    assert "12345" not in str(info.value)


def test_a_closed_store_refuses_work_and_closing_twice_is_harmless(
    open_store: OpenStore,
) -> None:
    store = open_store("counts", 2)
    store.close()
    store.close()
    assert "closed" in repr(store)
    with pytest.raises(StoreError, match=r"table 'counts' partition 2: .* is closed"):
        store.get(b"k")


def test_without_options_the_official_client_is_used(
    make_app: Callable[..., App], fake: FakeAerospike, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aerospike, "client", fake)
    store = AerospikeStore(
        url="aerospike://db:3000/test", context=app_store_context(make_app(), "t", 0)
    )
    try:
        store.set(b"k", b"v")
        assert fake.clients[0].config == {"hosts": [("db", 3000)]}
    finally:
        store.close()
