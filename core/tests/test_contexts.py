"""Backends receive narrow contexts: what the kernel builds over an app, and what tests build
without one."""

from __future__ import annotations

import ast
import gc
import weakref
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
from strm.app import App
from strm.kernel.assignor import PartitionAssignor
from strm.kernel.contexts import CacheContext, StoreContext, TransportContext, WebContext
from strm.kernel.errors import ConfigurationError
from strm.runtime.backend_contexts import (
    Scope,
    cache_context,
    scope_of,
    store_context,
    transport_context,
    web_context,
)
from strm.testing import contexts as testing
from strm.testing.pytest_plugin import AppFactory
from strm.web.http import Request, Response


def test_the_contexts_module_imports_nothing_of_the_app() -> None:
    """Only the standard library at run time (the app's types are for the type checker)."""
    import strm.kernel.contexts

    tree = ast.parse(Path(strm.kernel.contexts.__file__).read_text())
    imported: set[str] = set()
    for node in tree.body:  # top level only: an ``if TYPE_CHECKING:`` block is skipped
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            imported.add(node.module)
    assert imported, "the module's imports were not found"
    assert {name for name in imported if name.split(".")[0] == "strm"} == set()


def test_a_store_context_over_an_app(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory("shop")
    context = store_context(app, "counts", 3, {"level": 2})
    assert isinstance(context, StoreContext)
    assert (context.app_id, context.table_name, context.partition) == ("shop", "counts", 3)
    assert context.tabledir == app.conf.tabledir
    assert context.conf is app.conf
    assert dict(context.options) == {"level": 2}
    with pytest.raises(TypeError):
        context.options["level"] = 3  # type: ignore[index]
    with pytest.raises(FrozenInstanceError):
        context.partition = 4  # type: ignore[misc]


def test_a_store_crashes_the_app_through_its_context(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    error = RuntimeError("disk gone")
    store_context(app, "t", 0).crash(error)
    assert app.crash_error is error


def test_one_scope_per_app_gone_with_the_app() -> None:
    first = App("first", environ={}, entry_points=False)
    second = App("second", environ={}, entry_points=False)
    assert scope_of(first) is store_context(first, "t", 0).scope is cache_context(first).scope
    assert scope_of(first) is transport_context(first).scope
    assert scope_of(first) is not scope_of(second)
    gone = weakref.ref(scope_of(first))
    del first
    gc.collect()
    assert gone() is None


def test_a_cache_context_over_an_app(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory("shop")
    context = cache_context(app)
    assert isinstance(context, CacheContext)
    assert (context.app_id, context.conf) == ("shop", app.conf)


async def test_a_transport_context_answers_from_the_app(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory("shop", table_standby_replicas=1)
    app.Table("counts", default=int)
    context = transport_context(app)
    assert isinstance(context, TransportContext)
    assert context.changelog_topics() == set()  # asked at each rebalance, not once
    async with app.running():
        assert context.changelog_topics() == {"shop-counts-changelog"}
    assert context.advertised_url() == str(app.conf.canonical_url)
    assignor = context.assignor()
    assert isinstance(assignor, PartitionAssignor)
    assert assignor.standby_replicas == 1
    assert assignor is not context.assignor()


async def test_a_web_context_hands_requests_to_its_handler(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    answer = Response(body=b"ok")
    seen: list[Request] = []

    async def handler(request: Request) -> Response:
        seen.append(request)
        return answer

    context = web_context(app, handler)
    assert isinstance(context, WebContext)
    request = Request(method="GET", path="/x")
    assert await context.handle(request) is answer
    assert seen == [request]
    assert callable(context.listener_factory)


def test_testing_contexts_need_no_app(tmp_path: Path) -> None:
    context = testing.store_context(datadir=tmp_path, table_name="t", partition=1)
    assert isinstance(context, StoreContext)
    assert context.tabledir.is_relative_to(tmp_path)
    assert context.app_id == testing.TEST_APP_ID
    assert isinstance(testing.cache_context(), CacheContext)
    transport = testing.transport_context(advertised_url="http://127.0.0.1:1")
    assert isinstance(transport, TransportContext)
    assert transport.advertised_url() == "http://127.0.0.1:1"
    assert transport.changelog_topics() == set()


def test_a_testing_store_context_records_crashes(tmp_path: Path) -> None:
    crashes = testing.CrashLog()
    context = testing.store_context(datadir=tmp_path, on_crash=crashes)
    error = RuntimeError("boom")
    context.crash(error)
    assert crashes.errors == [error] and crashes.error is error


def test_testing_settings_are_checked_as_an_app_checks_them(tmp_path: Path) -> None:
    conf = testing.context_settings("billing", topic_partitions=3)
    assert (conf.id, conf.topic_partitions) == ("billing", 3)
    with pytest.raises(ConfigurationError):
        testing.context_settings(no_such_setting=1)
    with pytest.raises(TypeError, match="datadir= or conf="):
        testing.store_context()
    with pytest.raises(TypeError, match="not both"):
        testing.store_context(datadir=tmp_path, conf=conf)


def test_contexts_of_one_scope_share_it(tmp_path: Path) -> None:
    scope = Scope("one")
    conf = testing.context_settings("one", datadir=str(tmp_path))
    a = testing.store_context(conf=conf, scope=scope, partition=0)
    b = testing.store_context(conf=conf, scope=scope, partition=1)
    assert a.scope is b.scope is scope
