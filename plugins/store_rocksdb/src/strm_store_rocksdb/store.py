"""The ``rocksdb://`` table store: one RocksDB database per table partition, through rocksdict.

Data lives in the database's default column family, as the bytes the kernel gives: no pickling,
no type tag (rocksdict's raw mode). The changelog offsets the store has applied live in the
column family ``strm-applied-offsets`` of the same database, so they are never data, and
:meth:`RocksDBStore.write_batch` writes both in one ``WriteBatch``: after a crash the data and the
offsets it claims to contain agree.

A database stays open, and locked, as long as any rocksdict object on it lives: a column family,
an iterator. The store keeps its column families only in its own attributes and deletes every
iterator before returning, so :meth:`RocksDBStore.close` releases the database even while an
exception raised by the store is still referenced.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

from rocksdict import ColumnFamily, Options, Rdict, WriteBatch
from strm.kernel.contexts import StoreContext
from strm.kernel.errors import StoreCorruptError, StoreError, StoreLockedError
from strm.kernel.redaction import redact_url
from strm.kernel.spi import TP

from strm_store_rocksdb.options import build_options

#: The column family that holds applied changelog offsets, apart from the data.
OFFSETS_COLUMN_FAMILY = "strm-applied-offsets"
#: Suffix of the directory of one table partition's database.
SUFFIX = ".rocksdb"
#: Pairs read per RocksDB iterator by :meth:`RocksDBStore.items`; no iterator outlives a chunk,
#: so a half-consumed ``items()`` never keeps a closed database (and its lock) alive.
ITEMS_CHUNK = 1024


def store_path(url: str, tabledir: Path, table_name: str, partition: int) -> Path:
    """Where one table partition's database lives: ``<dir>/<table_name>-<partition>.rocksdb``.

    ``rocksdb://`` puts it under the app's ``tabledir``, ``rocksdb:///abs/dir`` under that
    directory, and a relative path (``rocksdb:some/dir``) under ``tabledir``.
    """
    parts = urlsplit(url)
    if parts.netloc or parts.query or parts.fragment:
        raise StoreError(
            f"store URL {redact_url(url)!r}: a rocksdb:// URL names a directory, not a host or a "
            "query; use 'rocksdb://' (the app's tabledir) or 'rocksdb:///absolute/dir'"
        )
    if not table_name or "/" in table_name or "\\" in table_name or table_name in {".", ".."}:
        raise StoreError(f"rocksdb store: {table_name!r} cannot name a table's directory")
    directory = Path(unquote(parts.path))
    if not directory.is_absolute():
        directory = Path(tabledir) / directory
    return directory / f"{table_name}-{partition}{SUFFIX}"


def _offset_key(tp: TP) -> bytes:
    # The partition is digits and comes last, so the last NUL splits the key: one key per
    # topic partition, whatever characters the topic has.
    return f"{tp.topic}\x00{tp.partition}".encode()


def _offset_value(offset: int) -> bytes:
    return str(int(offset)).encode("ascii")


class _Closed:
    """Stands in for the database and its column families once the store is closed: any use
    raises a ``StoreError`` saying so, so reads and writes need no check of their own."""

    def __init__(self, message: str) -> None:
        self._message = message

    def __getattr__(self, name: str) -> NoReturn:
        raise StoreError(self._message)

    def __contains__(self, key: object) -> NoReturn:
        raise StoreError(self._message)


class RocksDBStore:
    """One table partition in its own RocksDB database.

    Built by strm as ``RocksDBStore(url=..., context=...)``, the context a
    :class:`strm.kernel.contexts.StoreContext` naming the table partition and its options. Opening
    fails with :class:`~strm.kernel.errors.StoreLockedError` when another worker holds the database
    and with :class:`~strm.kernel.errors.StoreCorruptError` when its files cannot be read; a corrupt
    block found later raises ``StoreCorruptError`` too, and any other RocksDB failure is a
    :class:`~strm.kernel.errors.StoreError` naming the store.
    """

    def __init__(
        self,
        *,
        url: str = "rocksdb://",
        context: StoreContext,
        **_: Any,
    ) -> None:
        self.url = url
        self.table_name = table_name = context.table_name
        self.partition = partition = context.partition
        options: Mapping[str, Any] | None = context.options
        self.path = store_path(url, context.tabledir, table_name, partition)
        rocksdb_options = build_options(options, self._where)
        if options is None or options.get("create_if_missing", True):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not (self.path / "CURRENT").is_file():
            # Checked here: RocksDB would leave a directory, a LOCK and a LOG behind.
            raise StoreError(
                f"rocksdb store {self._where}: no database at {self.path}, and the option "
                "create_if_missing is false"
            )
        self._db: Rdict = self._open(rocksdb_options)
        self._offsets: Rdict = self._db.get_column_family(OFFSETS_COLUMN_FAMILY)
        self._offsets_cf: ColumnFamily = self._db.get_column_family_handle(OFFSETS_COLUMN_FAMILY)
        #: The exact number of keys, counted once and kept until the next write.
        self._size: int | None = None
        self.closed = False

    @property
    def _where(self) -> str:
        return f"for table {self.table_name!r} partition {self.partition}"

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<RocksDBStore {self.table_name!r}[{self.partition}] {state} at {self.path}>"

    # -- opening, failing, closing -------------------------------------------------------------

    def _open(self, options: Options) -> Rdict:
        try:
            return Rdict(
                str(self.path),
                options,
                column_families={OFFSETS_COLUMN_FAMILY: Options(raw_mode=True)},
            )
        except Exception as exc:
            raise self._open_error(str(exc)) from None

    def _open_error(self, detail: str) -> StoreError:
        if detail.startswith("IO error") and "lock" in detail.lower():
            here = (
                " (in this process: another store of this table partition is open and was not "
                "closed)"
                if "current process" in detail
                else ""
            )
            return StoreLockedError(
                f"rocksdb store {self._where}: {self.path} is locked: another worker on the "
                f"same datadir probably holds it{here}; stop that worker or give each worker "
                f"its own datadir (RocksDB: {detail})"
            )
        if detail.startswith("Corruption"):
            return self._corrupt(detail)
        return StoreError(f"rocksdb store {self._where}: cannot open {self.path}: {detail}")

    def _corrupt(self, detail: str) -> StoreCorruptError:
        return StoreCorruptError(
            f"rocksdb store {self._where}: the database at {self.path} is corrupt; delete the "
            f"directory {self.path} and strm rebuilds the table from its changelog "
            f"(RocksDB: {detail})"
        )

    def _failed(self, exc: Exception) -> NoReturn:
        """Raise a RocksDB failure met while the store is open as a ``StoreError``.

        rocksdict reports a RocksDB status as a bare ``Exception``; anything else (the
        ``StoreError`` of a closed store, a ``TypeError`` for a key that is not bytes) propagates
        as it is.
        """
        if type(exc) is not Exception:
            raise exc
        detail = str(exc)
        if detail.startswith("Corruption"):
            raise self._corrupt(detail) from exc
        raise StoreError(f"rocksdb store {self._where} at {self.path}: {detail}") from exc

    def _closed_message(self) -> str:
        return f"rocksdb store {self._where} at {self.path} is closed; open a new store to use it"

    def _ensure_open(self) -> None:
        """For the methods that hand a column family to rocksdict or read no database."""
        if self.closed:
            raise StoreError(self._closed_message())

    def close(self) -> None:
        """Release the database and its lock; closing again does nothing."""
        if self.closed:
            return
        db = self._db
        closed: Any = _Closed(self._closed_message())
        # The column families hold the database too: drop them, or it stays open and locked.
        self._db = self._offsets = self._offsets_cf = closed
        self.closed = True
        try:
            db.close()
        except Exception as exc:
            self._failed(exc)

    # -- one key ---------------------------------------------------------------------------------

    def get(self, key: bytes) -> bytes | None:
        try:
            value: bytes | None = self._db.get(key)
        except Exception as exc:
            self._failed(exc)
        return value

    def set(self, key: bytes, value: bytes) -> None:
        self._size = None
        try:
            self._db.put(key, value)
        except Exception as exc:
            self._failed(exc)

    def delete(self, key: bytes) -> None:
        self._size = None
        try:
            self._db.delete(key)
        except Exception as exc:
            self._failed(exc)

    def contains(self, key: bytes) -> bool:
        try:
            return key in self._db
        except Exception as exc:
            self._failed(exc)

    # -- every key -------------------------------------------------------------------------------

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every pair in key order, read a chunk at a time.

        Writes made while iterating may or may not be seen, but no key is yielded twice. Closing
        the store ends an unfinished iteration with an error at its next chunk.
        """
        after: bytes | None = None
        while True:
            try:
                chunk = _read_chunk(self._db, after)
            except Exception as exc:
                self._failed(exc)
            yield from chunk
            if len(chunk) < ITEMS_CHUNK:
                return
            after = chunk[-1][0]

    def size(self) -> int:
        """The exact number of keys (not RocksDB's estimate), counted and kept until a write."""
        self._ensure_open()
        if self._size is None:
            try:
                self._size = _count_keys(self._db)
            except Exception as exc:
                self._failed(exc)
        return self._size

    def clear(self) -> None:
        """Delete every key and every applied offset in one write, then compact the files away."""
        self._ensure_open()
        self._size = None
        try:
            batch = WriteBatch(raw_mode=True)
            for source, column_family in ((self._db, None), (self._offsets, self._offsets_cf)):
                last = _last_key(source)
                if last is not None:
                    # Every key sorts at or after b"" and before the last key followed by a NUL.
                    batch.delete_range(b"", last + b"\x00", column_family)
            if not batch.is_empty():
                self._db.write(batch)
                self._db.compact_range(None, None)
                self._offsets.compact_range(None, None)
        except Exception as exc:
            self._failed(exc)

    # -- batches and applied offsets -----------------------------------------------------------

    def write_batch(
        self, puts: Mapping[bytes, bytes | None], applied: Mapping[TP, int] | None = None
    ) -> None:
        """Apply ``puts`` (``None`` deletes) and record ``applied`` in one atomic RocksDB write."""
        self._ensure_open()
        self._size = None
        try:
            batch = WriteBatch(raw_mode=True)
            for key, value in puts.items():
                if value is None:
                    batch.delete(key)
                else:
                    batch.put(key, value)
            for tp, offset in (applied or {}).items():
                batch.put(_offset_key(tp), _offset_value(offset), self._offsets_cf)
            if not batch.is_empty():
                self._db.write(batch)
        except Exception as exc:
            self._failed(exc)

    def applied_offset(self, tp: TP) -> int | None:
        try:
            raw: bytes | None = self._offsets.get(_offset_key(tp))
        except Exception as exc:
            self._failed(exc)
        return None if raw is None else int(raw)

    def set_applied_offset(self, tp: TP, offset: int) -> None:
        try:
            self._offsets.put(_offset_key(tp), _offset_value(offset))
        except Exception as exc:
            self._failed(exc)


# An iterator stops early on a corrupt block and says so only through ``status()``, so each scan
# below checks it; and each deletes its iterator however it ends, so that no traceback keeps it
# (and with it the database) alive.


def _read_chunk(db: Rdict, after: bytes | None) -> list[tuple[bytes, bytes]]:
    cursor = db.iter()
    try:
        if after is None:
            cursor.seek_to_first()
        else:
            cursor.seek(after + b"\x00")  # the smallest key after ``after``
        chunk: list[tuple[bytes, bytes]] = []
        while len(chunk) < ITEMS_CHUNK and cursor.valid():
            chunk.append((cursor.key(), cursor.value()))
            cursor.next()
        cursor.status()
        return chunk
    finally:
        del cursor


def _count_keys(db: Rdict) -> int:
    cursor = db.iter()
    try:
        cursor.seek_to_first()
        count = 0
        while cursor.valid():
            count += 1
            cursor.next()
        cursor.status()
        return count
    finally:
        del cursor


def _last_key(db: Rdict) -> bytes | None:
    cursor = db.iter()
    try:
        cursor.seek_to_last()
        last: bytes | None = cursor.key() if cursor.valid() else None
        cursor.status()
        return last
    finally:
        del cursor
