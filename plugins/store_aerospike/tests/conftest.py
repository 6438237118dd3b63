"""Fixtures: apps with the plugin, and Aerospike backends to run stores on.

The backends come from the environment: the in-process double always (with and without
``store_check_exists``), and a real server as well when ``AEROSPIKE_HOSTS`` is set
(``host:port[,host:port]``; namespace ``AEROSPIKE_NAMESPACE``, default ``test``). On a server
every test writes to sets of its own and empties them at teardown.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from strm.app import App
from strm.runtime.backend_contexts import store_context as app_store_context
from strm.testing.pytest_plugin import AppFactory
from strm_store_aerospike import AerospikeStore
from strm_store_aerospike.testing import FakeAerospike

PLUGIN = "strm_store_aerospike"
SERVER_HOSTS = os.environ.get("AEROSPIKE_HOSTS", "").strip()
SERVER_NAMESPACE = os.environ.get("AEROSPIKE_NAMESPACE", "test").strip() or "test"


@dataclass
class Backend:
    """Where stores of a test live: the double (``fake``) or a real server."""

    name: str
    check_exists: bool
    fake: FakeAerospike | None = None
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def url(self) -> str:
        if self.fake is not None:
            return "aerospike://127.0.0.1:3000/test"
        return f"aerospike://{SERVER_HOSTS}/{SERVER_NAMESPACE}"

    def options(self) -> dict[str, Any]:
        if self.fake is not None:
            return {"client_factory": self.fake}
        # Sets of this test only, so runs and tests never see each other's records.
        return {
            "set": f"strm-{self.run}-{{table}}-{{partition}}",
            "offsets_set": f"strm-{self.run}-offsets",
        }


def _backend_params() -> list[Any]:
    params = [
        pytest.param(("double", True), id="double"),
        pytest.param(("double", False), id="double-no-exists-check"),
    ]
    if SERVER_HOSTS:
        params += [
            pytest.param(("server", True), id="server"),
            pytest.param(("server", False), id="server-no-exists-check"),
        ]
    return params


@pytest.fixture(params=_backend_params())
def backend(request: pytest.FixtureRequest) -> Backend:
    kind, check_exists = request.param
    return Backend(kind, check_exists, FakeAerospike() if kind == "double" else None)


@pytest.fixture
def fake() -> FakeAerospike:
    return FakeAerospike()


@pytest.fixture
def make_app(strm_app_factory: AppFactory) -> Callable[..., App]:
    """``make_app(**settings)``: an app with this plugin loaded (no entry points)."""

    def make(id: str = "test-app", **settings: Any) -> App:
        return strm_app_factory(id, plugins=[PLUGIN], **settings)

    return make


OpenStore = Callable[..., AerospikeStore]


@pytest.fixture
def open_backend_store(backend: Backend, make_app: Callable[..., App]) -> Iterator[OpenStore]:
    """``open_backend_store(table='t', partition=0)``: a store on the test's backend, through
    the app's store factory and with the context the kernel builds; at teardown the data is
    removed (on a server) and every store is closed."""
    settings: dict[str, Any] = {"store_check_exists": backend.check_exists}
    if backend.fake is None:
        # A server that cannot be reached fails each test in seconds, not minutes.
        settings["aerospike_retries_on_exception"] = 2
        settings["aerospike_sleep_seconds_between_retries_on_exception"] = 0.2
    app = make_app(store=backend.url, **settings)
    factory = app.resolve_backend("store").factory
    opened: list[AerospikeStore] = []

    def open_(table: str = "t", partition: int = 0) -> AerospikeStore:
        context = app_store_context(app, table, partition, backend.options())
        store: AerospikeStore = factory(url=backend.url, context=context)
        opened.append(store)
        return store

    yield open_
    if backend.fake is None:
        for table, partition in {(s.table_name, s.partition) for s in opened}:
            cleaner = open_(table, partition)
            cleaner.clear()
    for store in opened:
        store.close()


@pytest.fixture
def open_store(fake: FakeAerospike, make_app: Callable[..., App]) -> Iterator[OpenStore]:
    """``open_store(table='t', partition=0, app=None, url=..., **options)``: a store on the
    test's :class:`FakeAerospike` (``client_factory`` is filled in); closed at teardown.
    Without ``app``, one app (with default settings) serves every call."""
    apps: list[App] = []
    opened: list[AerospikeStore] = []

    def open_(
        table: str = "t",
        partition: int = 0,
        *,
        app: App | None = None,
        url: str = "aerospike://127.0.0.1:3000/test",
        **options: Any,
    ) -> AerospikeStore:
        if app is None:
            if not apps:
                apps.append(make_app(store=url))
            app = apps[0]
        options.setdefault("client_factory", fake)
        context = app_store_context(app, table, partition, options)
        store = AerospikeStore(url=url, context=context)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()
