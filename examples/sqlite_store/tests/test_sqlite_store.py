"""The SQLite store against the kernel's contract suites, and as strm builds it from a plugin."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from strm.kernel.errors import StoreError
from strm.kernel.spi import TP, Store
from strm.runtime.backend_contexts import store_context as app_store_context
from strm.testing.contexts import store_context
from strm.testing.contracts import PersistentStoreContract
from strm.testing.contracts.store import Reopen
from strm_example_sqlite import SQLiteStore

OpenStore = Callable[..., SQLiteStore]


@pytest.fixture
def open_store(tmp_path: Path) -> Iterator[OpenStore]:
    """Stores under ``tmp_path/tables``; every one opened is closed at teardown."""
    opened: list[SQLiteStore] = []

    def open_(table_name: str = "t", partition: int = 0, **kwargs: Any) -> SQLiteStore:
        kwargs.setdefault("url", f"sqlite://{tmp_path / 'tables'}")
        kwargs.setdefault(
            "context",
            store_context(datadir=tmp_path / "data", table_name=table_name, partition=partition),
        )
        store = SQLiteStore(**kwargs)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


class TestSQLiteStoreContract(PersistentStoreContract):
    """Both store suites, on a store built the way strm builds it: under the context's
    tabledir."""

    @pytest.fixture
    def store(self, open_store: OpenStore) -> Store:
        return open_store(url="sqlite://", table_name="contract", partition=3)

    @pytest.fixture
    def reopen(self, open_store: OpenStore) -> Reopen:
        def reopen_(store: Store) -> Store:
            assert isinstance(store, SQLiteStore)
            store.close()
            again = open_store(
                url=f"sqlite://{store.path.parent}", table_name="contract", partition=3
            )
            assert again.path == store.path
            return again

        return reopen_


def test_the_plugin_provides_the_scheme(strm_app_factory: Callable[..., Any]) -> None:
    app = strm_app_factory(plugins=["strm_example_sqlite"], store="sqlite://")
    assert app.resolve_backend("store").factory is SQLiteStore


def test_one_file_per_table_partition_under_the_tabledir(
    strm_app_factory: Callable[..., Any], open_store: OpenStore
) -> None:
    app = strm_app_factory(plugins=["strm_example_sqlite"], store="sqlite://")
    first = open_store(url="sqlite://", context=app_store_context(app, "counts", 0))
    second = open_store(url="sqlite://", context=app_store_context(app, "counts", 1))
    first.set(b"k", b"zero")
    second.set(b"k", b"one")
    assert first.path == Path(app.conf.tabledir) / "counts-0.sqlite3"
    assert second.path.is_file()
    assert (first.get(b"k"), second.get(b"k")) == (b"zero", b"one")


def test_write_batch_from_another_thread(open_store: OpenStore) -> None:
    """The kernel writes batches from a worker thread and reads on the event loop's."""
    store = open_store()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            store.write_batch({b"a": b"1", b"b": None}, {TP("changelog", 0): 7})
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive() and errors == []
    assert store.get(b"a") == b"1"
    assert store.applied_offset(TP("changelog", 0)) == 7


def test_a_failed_batch_changes_nothing(open_store: OpenStore) -> None:
    store = open_store()
    store.write_batch({b"kept": b"v"}, {TP("changelog", 0): 1})

    class Boom(Exception):
        pass

    class Exploding(dict[bytes, bytes | None]):
        def items(self) -> Any:
            yield (b"new", b"v")
            raise Boom

    with pytest.raises(Boom):
        store.write_batch(Exploding(), {TP("changelog", 0): 2})
    assert dict(store.items()) == {b"kept": b"v"}
    assert store.applied_offset(TP("changelog", 0)) == 1


def test_a_closed_store_says_so(open_store: OpenStore) -> None:
    store = open_store()
    store.close()
    with pytest.raises(StoreError, match="is closed"):
        store.get(b"k")


@pytest.mark.parametrize("url", ["sqlite://host/x", "sqlite://relative", "sqlite:///x?y=1"])
def test_a_bad_url_is_a_store_error(url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="sqlite"):
        SQLiteStore(url=url, context=store_context(datadir=tmp_path))
