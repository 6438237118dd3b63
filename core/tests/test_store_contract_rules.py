"""The store contract's rules, shown on a SQLite store written from the guide alone.

``SqliteStore`` follows every rule docs/plugins.md states (files under ``tabledir``, a connection
usable from any thread behind a lock, damaged files as ``StoreCorruptError``) and passes every
store suite. ``ThreadBoundSqliteStore`` keeps sqlite3's default ``check_same_thread=True``, which
is what broke a real plugin at its first checkpoint: the suite must fail it, saying why.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import types
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import strm
from strm.kernel import records
from strm.kernel.contexts import StoreContext
from strm.kernel.errors import StoreCorruptError, StoreError
from strm.kernel.spi import TP, Store
from strm.runtime.backend_contexts import store_context as app_store_context
from strm.testing.contracts import PersistentStoreContract, StoreContract, StoreFilesContract
from strm.testing.contracts.store import Reopen
from strm.testing.pytest_plugin import AppFactory

PLUGIN = "strm_contract_rules_sqlite"


class SqliteStore:
    """One table partition in ``<tabledir>/<table>-<partition>.sqlite3``."""

    check_same_thread = False

    def __init__(
        self,
        *,
        url: str,
        context: StoreContext,
        **_: Any,
    ) -> None:
        table_name, partition = context.table_name, context.partition
        self.where = f"sqlite store of table {table_name!r} partition {partition}"
        self.path = context.tabledir / f"{table_name}-{partition}.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = sqlite3.connect(
            self.path, check_same_thread=self.check_same_thread, isolation_level=None
        )
        self._run(
            "CREATE TABLE IF NOT EXISTS data (k BLOB PRIMARY KEY, v BLOB NOT NULL);"
            "CREATE TABLE IF NOT EXISTS offsets (topic TEXT, part INTEGER, off INTEGER,"
            " PRIMARY KEY (topic, part));",
            script=True,
        )

    def _run(self, sql: str, *params: Any, script: bool = False) -> list[Any]:
        if self._db is None:
            raise StoreError(f"{self.where}: used after close()")
        try:
            with self._lock:
                if script:
                    self._db.executescript(sql)
                    return []
                return self._db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.ProgrammingError):
                raise
            raise StoreCorruptError(
                f"{self.where}: {self.path} cannot be read ({exc}); delete it and strm "
                "rebuilds the table from its changelog"
            ) from exc

    def get(self, key: bytes) -> bytes | None:
        rows = self._run("SELECT v FROM data WHERE k = ?", key)
        return bytes(rows[0][0]) if rows else None

    def set(self, key: bytes, value: bytes) -> None:
        self._run("INSERT OR REPLACE INTO data VALUES (?, ?)", key, value)

    def delete(self, key: bytes) -> None:
        self._run("DELETE FROM data WHERE k = ?", key)

    def contains(self, key: bytes) -> bool:
        return bool(self._run("SELECT 1 FROM data WHERE k = ?", key))

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        return iter([(bytes(k), bytes(v)) for k, v in self._run("SELECT k, v FROM data")])

    def size(self) -> int:
        return int(self._run("SELECT COUNT(*) FROM data")[0][0])

    def clear(self) -> None:
        self._run("BEGIN; DELETE FROM data; DELETE FROM offsets; COMMIT;", script=True)

    def write_batch(
        self, puts: Mapping[bytes, bytes | None], applied: Mapping[TP, int] | None = None
    ) -> None:
        db = self._db
        if db is None:
            raise StoreError(f"{self.where}: used after close()")
        with self._lock, db:  # one transaction: the data and its offsets agree after a crash
            db.execute("BEGIN")
            for key, value in puts.items():
                if value is None:
                    db.execute("DELETE FROM data WHERE k = ?", (key,))
                else:
                    db.execute("INSERT OR REPLACE INTO data VALUES (?, ?)", (key, value))
            for tp, offset in (applied or {}).items():
                db.execute(
                    "INSERT OR REPLACE INTO offsets VALUES (?, ?, ?)",
                    (tp.topic, tp.partition, offset),
                )

    def applied_offset(self, tp: TP) -> int | None:
        rows = self._run(
            "SELECT off FROM offsets WHERE topic = ? AND part = ?", tp.topic, tp.partition
        )
        return int(rows[0][0]) if rows else None

    def set_applied_offset(self, tp: TP, offset: int) -> None:
        self._run("INSERT OR REPLACE INTO offsets VALUES (?, ?, ?)", tp.topic, tp.partition, offset)

    def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()


class ThreadBoundSqliteStore(SqliteStore):
    """sqlite3's default: the connection refuses every thread but the one that opened it."""

    check_same_thread = True


@pytest.fixture(autouse=True)
def sqlite_plugin(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A plugin module providing ``sqlite://`` and ``sqlite-bound://``, as a third party's."""
    module = types.ModuleType(PLUGIN)

    @strm.hookimpl
    def strm_stores() -> list[strm.Provision]:
        return [
            records.store("sqlite", SqliteStore),
            records.store("sqlite-bound", ThreadBoundSqliteStore),
        ]

    module.strm_stores = strm_stores  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, PLUGIN, module)
    return module


def open_through_the_kernel(app: strm.App, url: str) -> Store:
    context = app_store_context(app, "t", 0)
    return app.resolve_backend("store", url=url).factory(url=url, context=context)


class TestSqliteStore(StoreContract):
    @pytest.fixture
    def store(self, strm_app_factory: AppFactory) -> Iterator[Store]:
        store = open_through_the_kernel(strm_app_factory(plugins=[PLUGIN]), "sqlite://")
        yield store
        store.close()


class TestSqliteStorePersists(PersistentStoreContract):
    @pytest.fixture
    def app(self, strm_app_factory: AppFactory) -> strm.App:
        return strm_app_factory(plugins=[PLUGIN])

    @pytest.fixture
    def store(self, app: strm.App) -> Store:
        return open_through_the_kernel(app, "sqlite://")

    @pytest.fixture
    def reopen(self, app: strm.App) -> Iterator[Reopen]:
        opened: list[Store] = []

        def reopen_(store: Store) -> Store:
            store.close()
            opened.append(open_through_the_kernel(app, "sqlite://"))
            return opened[-1]

        yield reopen_
        for store in opened:
            store.close()


def spoil_every_file(directory: Path) -> None:
    for path in directory.rglob("*.sqlite3"):
        path.write_bytes(b"this is not a database file" * 100)


class TestSqliteStoreFiles(StoreFilesContract):
    url = "sqlite://"
    plugins = (PLUGIN,)

    @pytest.fixture
    def damage(self) -> Callable[[Path], None]:
        return spoil_every_file


# -- the suite fails stores that break a rule, and says why ---------------------------------------


def test_a_thread_bound_store_fails_the_cross_thread_test_saying_why(
    strm_app_factory: AppFactory,
) -> None:
    store = open_through_the_kernel(strm_app_factory(plugins=[PLUGIN]), "sqlite-bound://")
    # It passes everything done on the opening thread...
    StoreContract().test_write_batch_sets_and_deletes(store)
    # ...and fails where strm calls it from a worker thread.
    with pytest.raises(pytest.fail.Exception) as info:
        StoreContract().test_write_batch_runs_on_another_thread(store)
    message = str(info.value)
    assert message.startswith("write_batch raised ProgrammingError: SQLite objects created in a")
    assert "when called on a thread other than the one that opened the store" in message
    assert "strm calls write_batch through asyncio.to_thread" in message
    assert "check_same_thread=False" in message
    store.close()


def test_a_thread_bound_store_fails_the_concurrent_read_test_saying_why(
    strm_app_factory: AppFactory,
) -> None:
    store = open_through_the_kernel(strm_app_factory(plugins=[PLUGIN]), "sqlite-bound://")
    with pytest.raises(pytest.fail.Exception, match="on a worker thread while the opening"):
        StoreContract().test_reads_on_the_opening_thread_while_write_batch_runs(store)
    store.close()


def test_a_store_whose_damaged_files_raise_a_plain_error_fails_the_files_suite(
    strm_app_factory: AppFactory, tmp_path: Path
) -> None:
    class PlainErrorStore(SqliteStore):
        def _run(self, sql: str, *params: Any, script: bool = False) -> list[Any]:
            try:
                return super()._run(sql, *params, script=script)
            except StoreCorruptError as exc:
                raise StoreError(str(exc)) from None

    app = strm_app_factory(plugins=[PLUGIN], datadir=str(tmp_path / "data"))

    def open_(table_name: str = "t", partition: int = 0, **_: Any) -> Store:
        return PlainErrorStore(
            url="sqlite://", context=app_store_context(app, table_name, partition)
        )

    suite = TestSqliteStoreFiles()
    with pytest.raises(StoreError):
        suite.test_damaged_files_are_a_store_corrupt_error(app.conf, open_, spoil_every_file)
