"""The ``leveldb://`` table store: one LevelDB database (plyvel) per table partition.

Keys are laid out under two one-byte prefixes in the partition's database: ``d`` + key for the
table's data and ``o`` + topic partition for the changelog offsets applied to it. Both live in one
database so :meth:`LevelDBStore.write_batch` can write them in one LevelDB write batch, which
LevelDB applies whole or not at all: after a crash the data and its offsets agree.

Scans use plyvel's raw iterator: plyvel's ordinary iterator stops silently when LevelDB's iterator
fails, which would make a damaged table look smaller instead of raising.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import plyvel  # type: ignore[import-untyped]
from strm.kernel.contexts import StoreContext
from strm.kernel.errors import StoreCorruptError, StoreError, StoreLockedError
from strm.kernel.redaction import redact_url
from strm.kernel.spi import TP

from strm_store_leveldb.options import plyvel_kwargs

#: Prefix of the table's own keys.
DATA_PREFIX = b"d"
#: Prefix of the applied changelog offsets, one key per topic partition.
OFFSET_PREFIX = b"o"

#: Phrases of LevelDB I/O errors caused by the machine rather than by damaged files.
_ENVIRONMENT_ERRORS = (
    "permission denied",
    "no space left",
    "read-only file system",
    "too many open files",
)


def offset_key(tp: TP) -> bytes:
    """The key of a topic partition's applied offset: the partition in a fixed width first, so
    no two topic partitions share a key whatever characters the topic has."""
    return OFFSET_PREFIX + tp.partition.to_bytes(8, "big", signed=True) + tp.topic.encode()


def encode_offset(offset: int) -> bytes:
    return offset.to_bytes(8, "big", signed=True)


def decode_offset(data: bytes) -> int:
    return int.from_bytes(data, "big", signed=True)


def database_path(url: str, tabledir: Path, table_name: str, partition: int) -> Path:
    """Where a table partition's database lives: ``<dir>/<table>-<partition>.leveldb``.

    ``<dir>`` is the absolute path of the URL (``leveldb:///var/lib/tables``), or the app's
    ``tabledir`` for a URL without one (``leveldb://``).
    """
    parts = urlsplit(url)
    shown = redact_url(url)
    if parts.netloc or parts.query or parts.fragment:
        raise StoreError(
            f"store {shown!r}: a leveldb URL is 'leveldb://' (the app's tabledir) or "
            "'leveldb:///absolute/directory'; it takes no host, query or fragment "
            "(give plyvel options with the table's options=)"
        )
    if parts.path:
        base = Path(unquote(parts.path))
        if not base.is_absolute():
            raise StoreError(
                f"store {shown!r}: the directory of a leveldb URL must be absolute, as in "
                "'leveldb:///var/lib/tables'; use 'leveldb://' for the app's tabledir"
            )
    else:
        base = Path(tabledir)
    if not table_name or table_name in {".", ".."} or "/" in table_name or "\\" in table_name:
        raise StoreError(
            f"store {shown!r}: table name {table_name!r} cannot name a directory; it must be "
            "non-empty and contain no path separator"
        )
    return base / f"{table_name}-{partition}.leveldb"


def _leveldb_message(exc: BaseException) -> str:
    """LevelDB's status text, which plyvel passes as bytes."""
    if not exc.args:
        return type(exc).__name__
    first = exc.args[0]
    return first.decode(errors="replace") if isinstance(first, bytes) else str(first)


class LevelDBStore:
    """One table partition in its own LevelDB database.

    Built by strm as ``LevelDBStore(url=..., context=...)`` (a
    :class:`strm.kernel.contexts.StoreContext`); the table's ``options`` are keyword arguments of
    ``plyvel.DB`` and default to ``create_if_missing=True``.
    """

    def __init__(
        self,
        *,
        url: str = "leveldb://",
        context: StoreContext,
        **_: Any,
    ) -> None:
        self.url = url
        self.table_name = table_name = context.table_name
        self.partition = partition = context.partition
        self.path = database_path(url, context.tabledir, table_name, partition)
        #: What is passed to ``plyvel.DB``: a copy, never the caller's mapping.
        self.options = plyvel_kwargs(context.options, where=self._where)
        self._db: Any = None  # set before opening: error translation asks whether it is closed
        self._db = self._open()

    def __repr__(self) -> str:
        state = " (closed)" if self._db is None else ""
        return f"<LevelDBStore {self.table_name!r}[{self.partition}] {self.path}{state}>"

    @property
    def _where(self) -> str:
        return f"leveldb store of table {self.table_name!r} partition {self.partition}"

    @property
    def closed(self) -> bool:
        return self._db is None

    # -- opening and errors ----------------------------------------------------------------------

    def _open(self) -> Any:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self._where}: cannot create {self.path.parent}: {exc}") from exc
        with self._translated("opening"):
            try:
                return plyvel.DB(str(self.path), **self.options)
            except (TypeError, ValueError) as exc:
                raise StoreError(
                    f"{self._where} at {self.path}: plyvel refused the options "
                    f"{self.options!r}: {exc}"
                ) from exc

    @contextmanager
    def _translated(self, doing: str) -> Iterator[None]:
        """Turn plyvel's errors into strm's, naming the table partition and what to do."""
        try:
            yield
        except plyvel.CorruptionError as exc:
            raise self._corrupt(_leveldb_message(exc)) from exc
        except plyvel.IOError as exc:
            raise self._io_error(_leveldb_message(exc), doing) from exc
        except plyvel.Error as exc:
            raise StoreError(
                f"{self._where} at {self.path}: {doing} failed: {_leveldb_message(exc)}"
            ) from exc
        except RuntimeError as exc:
            # plyvel's answer to a database closed under a running scan.
            if self._db is None:
                raise self._closed_error() from exc
            raise

    def _io_error(self, message: str, doing: str) -> StoreError:
        if f"lock {self.path / 'LOCK'}" in message:
            return StoreLockedError(
                f"{self._where} at {self.path} is locked: another process, or another open "
                f"store in this one, holds {self.path / 'LOCK'} ({message}). Most likely another "
                "worker is running on the same datadir: stop it, or give each worker its own "
                "datadir"
            )
        if any(phrase in message.lower() for phrase in _ENVIRONMENT_ERRORS):
            return StoreError(f"{self._where} at {self.path}: {doing} failed: {message}")
        return self._corrupt(message)

    def _corrupt(self, message: str) -> StoreCorruptError:
        return StoreCorruptError(
            f"{self._where} at {self.path} is corrupt ({message}). Delete the directory "
            f"{self.path} and restart: strm rebuilds the table from its changelog"
        )

    def _closed_error(self) -> StoreError:
        return StoreError(f"{self._where} at {self.path} is closed; open a new store to use it")

    def _live(self) -> Any:
        if self._db is None:
            raise self._closed_error()
        return self._db

    # -- scans -----------------------------------------------------------------------------------

    def _seek(self, prefix: bytes) -> Any:
        """A raw iterator at the first key under ``prefix``, on a snapshot taken now."""
        db = self._live()
        with self._translated("reading"):
            cursor = db.raw_iterator(verify_checksums=True)
            cursor.seek(prefix)
        return cursor

    def _keys(self, cursor: Any, prefix: bytes) -> Iterator[bytes]:
        """The full keys under ``prefix``, prefix included."""
        with self._translated("reading"):
            while cursor.valid():
                key: bytes = cursor.key()
                if not key.startswith(prefix):
                    break
                yield key
                cursor.next()

    def _pairs(self, cursor: Any) -> Iterator[tuple[bytes, bytes]]:
        with self._translated("reading"):
            while cursor.valid():
                key: bytes = cursor.key()
                if not key.startswith(DATA_PREFIX):
                    break
                yield key[len(DATA_PREFIX) :], cursor.value()
                cursor.next()

    # -- strm.kernel.spi.Store
    # --------------------------------------------------------------------------

    def get(self, key: bytes) -> bytes | None:
        db = self._live()
        with self._translated("reading"):
            value: bytes | None = db.get(DATA_PREFIX + key, verify_checksums=True)
        return value

    def set(self, key: bytes, value: bytes) -> None:
        db = self._live()
        with self._translated("writing"):
            db.put(DATA_PREFIX + key, value)

    def delete(self, key: bytes) -> None:
        db = self._live()
        with self._translated("writing"):
            db.delete(DATA_PREFIX + key)

    def contains(self, key: bytes) -> bool:
        return self.get(key) is not None

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every pair in key order, from a snapshot taken when ``items()`` is called: writes made
        while iterating do not show."""
        return self._pairs(self._seek(DATA_PREFIX))

    def size(self) -> int:
        """The exact number of keys, counted by a scan of the keys (LevelDB keeps no count)."""
        return sum(1 for _ in self._keys(self._seek(DATA_PREFIX), DATA_PREFIX))

    def clear(self) -> None:
        """Delete every key and every applied offset, in one batch: a cleared store is rebuilt
        from the start of its changelog."""
        db = self._live()
        with self._translated("clearing"), db.write_batch(transaction=True) as batch:
            for prefix in (DATA_PREFIX, OFFSET_PREFIX):
                for key in self._keys(self._seek(prefix), prefix):
                    batch.delete(key)

    def write_batch(
        self, puts: Mapping[bytes, bytes | None], applied: Mapping[TP, int] | None = None
    ) -> None:
        """One LevelDB write batch for the data and the applied offsets: all of it or none."""
        db = self._live()
        with self._translated("writing a batch"), db.write_batch(transaction=True) as batch:
            for key, value in puts.items():
                if value is None:
                    batch.delete(DATA_PREFIX + key)
                else:
                    batch.put(DATA_PREFIX + key, value)
            for tp, offset in (applied or {}).items():
                batch.put(offset_key(tp), encode_offset(offset))

    def applied_offset(self, tp: TP) -> int | None:
        db = self._live()
        with self._translated("reading"):
            data: bytes | None = db.get(offset_key(tp), verify_checksums=True)
        return None if data is None else decode_offset(data)

    def set_applied_offset(self, tp: TP, offset: int) -> None:
        db = self._live()
        with self._translated("writing"):
            db.put(offset_key(tp), encode_offset(offset))

    def close(self) -> None:
        """Release the database and its lock; harmless when already closed."""
        db, self._db = self._db, None
        if db is not None:
            db.close()
