"""The ``sqlite://`` table store: one SQLite database file per table partition.

The table's data and the changelog offsets applied to it live in one database, so
:meth:`SQLiteStore.write_batch` commits both in one transaction: after a crash they agree, and
recovery replays only the changelog's tail.

The kernel calls ``write_batch`` from a worker thread and everything else from the event loop,
so the connection is opened with ``check_same_thread=False`` and every use of it holds a lock:
SQLite's own serialisation is per connection only when the library was built for it, the lock
makes no such assumption.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from strm.kernel.contexts import StoreContext
from strm.kernel.errors import StoreError
from strm.kernel.redaction import redact_url
from strm.kernel.spi import TP

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS data (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS applied ("
    " topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,"
    " PRIMARY KEY (topic, partition)) WITHOUT ROWID",
)


def database_path(url: str, tabledir: Path, table_name: str, partition: int) -> Path:
    """``<dir>/<table>-<partition>.sqlite3``, where ``<dir>`` is the URL's absolute path
    (``sqlite:///var/lib/tables``) or, for ``sqlite://``, the app's ``tabledir``."""
    parts = urlsplit(url)
    shown = redact_url(url)
    if parts.netloc or parts.query or parts.fragment:
        raise StoreError(
            f"store {shown!r}: a sqlite URL is 'sqlite://' (the app's tabledir) or "
            "'sqlite:///absolute/directory'; it takes no host, query or fragment"
        )
    if parts.path:
        base = Path(unquote(parts.path))
        if not base.is_absolute():
            raise StoreError(f"store {shown!r}: the directory of a sqlite URL must be absolute")
    else:
        base = Path(tabledir)
    if not table_name or table_name in {".", ".."} or "/" in table_name or "\\" in table_name:
        raise StoreError(
            f"store {shown!r}: table name {table_name!r} cannot name a file; it must be "
            "non-empty and contain no path separator"
        )
    return base / f"{table_name}-{partition}.sqlite3"


class SQLiteStore:
    """One table partition in its own SQLite file.

    Built by strm as ``SQLiteStore(url=..., context=...)`` (a
    :class:`strm.kernel.contexts.StoreContext`); the table's ``options`` may hold ``timeout``
    (seconds to wait for a lock held by another connection, default 5).
    """

    def __init__(
        self,
        *,
        url: str = "sqlite://",
        context: StoreContext,
        **_: Any,
    ) -> None:
        self.url = url
        self.table_name = table_name = context.table_name
        self.partition = partition = context.partition
        self.path = database_path(url, context.tabledir, table_name, partition)
        timeout = float(context.options.get("timeout", 5.0))
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit (isolation_level=None): transactions are begun explicitly below.
            self._db: sqlite3.Connection | None = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            for statement in SCHEMA:
                self._db.execute(statement)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self._where}: cannot open {self.path}: {exc}") from exc

    @property
    def _where(self) -> str:
        return f"sqlite store of table {self.table_name!r} partition {self.partition}"

    def __repr__(self) -> str:
        state = "" if self._db is not None else " closed"
        return f"<SQLiteStore {self.table_name!r}[{self.partition}] {self.path}{state}>"

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"{self._where} at {self.path} is closed; open a new store to use it")
        return self._db

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn().execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"{self._where} at {self.path}: {exc}") from exc

    def get(self, key: bytes) -> bytes | None:
        rows = self._query("SELECT value FROM data WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    def set(self, key: bytes, value: bytes) -> None:
        self._query("INSERT OR REPLACE INTO data (key, value) VALUES (?, ?)", (key, value))

    def delete(self, key: bytes) -> None:
        self._query("DELETE FROM data WHERE key = ?", (key,))

    def contains(self, key: bytes) -> bool:
        return bool(self._query("SELECT 1 FROM data WHERE key = ?", (key,)))

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """A snapshot: the rows are read before the first is yielded, so writes while iterating
        neither fail nor show."""
        rows = self._query("SELECT key, value FROM data")
        return iter([(bytes(key), bytes(value)) for key, value in rows])

    def size(self) -> int:
        count: int = self._query("SELECT COUNT(*) FROM data")[0][0]
        return count

    def clear(self) -> None:
        self._transaction({}, None, clear=True)

    def write_batch(
        self, puts: Mapping[bytes, bytes | None], applied: Mapping[TP, int] | None = None
    ) -> None:
        """One transaction: the puts, the deletes (``None`` values) and the applied offsets are
        all stored, or none of them."""
        self._transaction(puts, applied)

    def _transaction(
        self,
        puts: Mapping[bytes, bytes | None],
        applied: Mapping[TP, int] | None,
        *,
        clear: bool = False,
    ) -> None:
        with self._lock:
            db = self._conn()
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    if clear:
                        db.execute("DELETE FROM data")
                        db.execute("DELETE FROM applied")
                    db.executemany(
                        "INSERT OR REPLACE INTO data (key, value) VALUES (?, ?)",
                        [(k, v) for k, v in puts.items() if v is not None],
                    )
                    db.executemany(
                        "DELETE FROM data WHERE key = ?",
                        [(k,) for k, v in puts.items() if v is None],
                    )
                    db.executemany(
                        "INSERT OR REPLACE INTO applied (topic, partition, offset)"
                        " VALUES (?, ?, ?)",
                        [(tp.topic, tp.partition, off) for tp, off in (applied or {}).items()],
                    )
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"{self._where} at {self.path}: write failed: {exc}") from exc

    def applied_offset(self, tp: TP) -> int | None:
        rows = self._query(
            "SELECT offset FROM applied WHERE topic = ? AND partition = ?", (tp.topic, tp.partition)
        )
        return int(rows[0][0]) if rows else None

    def set_applied_offset(self, tp: TP, offset: int) -> None:
        self._transaction({}, {tp: offset})

    def close(self) -> None:
        """Close the file; a second close is harmless."""
        with self._lock:
            db, self._db = self._db, None
        if db is not None:
            db.close()
