"""The ``aerospike://`` table store: one table partition in one Aerospike set.

Layout, in the namespace the URL names:

- every key of partition ``p`` of table ``t`` is one record of the set ``'t-p'`` (the ``set``
  option's template), whose primary key is the blob ``b'k' + key`` (Aerospike refuses empty
  blob keys, strm tables allow the empty key) and whose bins are ``k`` (the key, so a scan can
  give it back) and ``v`` (the value);
- the partition's applied changelog offsets are one record of a separate set (``offsets_set``,
  default ``'strm-applied-offsets'``) whose key is the data set's name and whose map bin
  ``offsets`` maps ``'["topic", partition]'`` to the offset. They are never data: ``items()``,
  ``size()`` and ``get()`` only look at the data set.

Aerospike has no transaction over several records in general, so :meth:`write_batch` writes the
data first and the offsets last, in one atomic ``operate`` on the offsets record: after a crash
half-way the offsets still name a point the data has reached (the data may be further ahead, and
replaying the changelog from there rewrites the same values). :meth:`clear` removes the offsets
first, then the data, for the same reason.

Every client call is retried on failure ``aerospike_retries_on_exception`` times, with
``aerospike_sleep_seconds_between_retries_on_exception`` between attempts; then it fails with
:class:`strm.kernel.errors.StoreError` and, when ``crash_app_on_aerospike_exception`` is true,
crashes the app. The store's API is synchronous, so the wait blocks the calling thread.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import aerospike
from aerospike import exception as ex
from aerospike_helpers.operations import map_operations  # type: ignore[import-untyped]
from strm.kernel.contexts import StoreContext
from strm.kernel.errors import StoreError
from strm.kernel.spi import TP

from strm_store_aerospike.clients import REGISTRY, ClientRegistry
from strm_store_aerospike.location import Location, LocationError, parse_location
from strm_store_aerospike.settings import CRASH_APP, ErrorPolicy

logger = logging.getLogger("strm_store_aerospike")

T = TypeVar("T")

#: Prefix of every record's primary key: it makes the empty key a non-empty blob.
KEY_PREFIX = b"k"
BIN_KEY = "k"
BIN_VALUE = "v"
BIN_OFFSETS = "offsets"

#: Errors that a retry cannot cure: the request itself is wrong.
NOT_RETRIED: tuple[type[ex.AerospikeError], ...] = (
    ex.ParamError,
    ex.RecordTooBig,
    ex.BinNameError,
    ex.NamespaceNotFound,
)

#: The wait between attempts; a module attribute so tests can replace it.
sleep: Callable[[float], None] = time.sleep


def describe_error(exc: BaseException) -> str:
    """An Aerospike exception in one line: class, code and message."""
    code = getattr(exc, "code", None)
    message = getattr(exc, "msg", None)
    if message is None:
        args = [a for a in exc.args if isinstance(a, str)]
        message = args[0] if args else str(exc)
    return f"{type(exc).__name__} (code {code}): {message}"


def offsets_key(tp: TP) -> str:
    """The key of a topic partition in the offsets map: JSON, so no topic name is ambiguous."""
    return json.dumps([tp.topic, tp.partition])


class AerospikeStore:
    """One table partition in an Aerospike set, implementing :class:`strm.kernel.spi.Store`.

    strm builds it as ``AerospikeStore(url=..., context=...)`` (a
    :class:`strm.kernel.contexts.StoreContext`); the client for the URL and options is shared with
    the other stores of the context's scope (its app) and closed with the last of them.
    """

    def __init__(
        self,
        *,
        url: str,
        context: StoreContext,
        registry: ClientRegistry = REGISTRY,
        **_: Any,
    ) -> None:
        self.table_name = table_name = context.table_name
        self.partition = partition = context.partition
        self._context = context
        self._where = f"table {table_name!r} partition {partition}"
        self._policy = ErrorPolicy.from_conf(context.conf)
        try:
            self.location: Location = parse_location(
                url, context.options, table=table_name, partition=partition, app=context.app_id
            )
        except LocationError as exc:
            raise StoreError(f"{self._where}: bad aerospike:// store: {exc}") from None
        self._registry = registry
        self._identity = self.location.client_identity()
        self._closed = False
        self._close_lock = threading.Lock()
        loc = self.location
        self._data_key = (loc.namespace, loc.set_name)
        self._offsets_key = (loc.namespace, loc.offsets_set, loc.set_name)
        self._client: Any = registry.acquire(context.scope, self._identity, self._connect)

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<AerospikeStore {self._where} on {self.location.describe()}{state}>"

    # -- the client ------------------------------------------------------------------------------

    def _connect(self) -> Any:
        factory = self.location.client_factory or aerospike.client
        config = self.location.client_config()
        return self._call("connect", lambda: factory(config).connect())

    def _call(self, what: str, call: Callable[[], T]) -> T:
        """Run one client call with the app's retries; ``RecordNotFound`` is not a failure
        and is raised as it is, for the caller to read as a missing record."""
        policy = self._policy
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except ex.RecordNotFound:
                raise
            except ex.AerospikeError as exc:
                if isinstance(exc, NOT_RETRIED) or attempt > policy.retries:
                    raise self._failed(what, exc, attempt) from exc
                logger.warning(
                    "%s: aerospike %s failed (%s); attempt %d of %d again in %gs",
                    self._where,
                    what,
                    describe_error(exc),
                    attempt + 1,
                    policy.retries + 1,
                    policy.sleep_seconds,
                )
                sleep(policy.sleep_seconds)

    def _failed(self, what: str, exc: BaseException, attempts: int) -> StoreError:
        tries = "attempt" if attempts == 1 else "attempts"
        error = StoreError(
            f"{self._where}: aerospike {what} on {self.location.describe()} failed after "
            f"{attempts} {tries}: {describe_error(exc)}"
        )
        if self._policy.crash_app:
            logger.error("%s; crashing the app (%s is true)", error, CRASH_APP)
            self._context.crash(error)
        return error

    def _live_client(self) -> Any:
        if self._closed:
            raise StoreError(f"{self._where}: the aerospike:// store is closed")
        return self._client

    def _key(self, key: bytes) -> tuple[str, str, bytearray]:
        return (*self._data_key, bytearray(KEY_PREFIX + key))

    def _value_of(self, bins: Mapping[str, Any], key: bytes) -> bytes:
        value = bins.get(BIN_VALUE)
        if not isinstance(value, bytes | bytearray):
            raise StoreError(
                f"{self._where}: the record of key {key!r} in {self.location.describe()} has no "
                f"bytes bin {BIN_VALUE!r}: the set holds records strm did not write"
            )
        return bytes(value)

    def _remove(self, client: Any, record_key: tuple[Any, ...]) -> None:
        with contextlib.suppress(ex.RecordNotFound):
            self._call("remove", lambda: client.remove(record_key))

    def _query(self, client: Any, *bins: str) -> Any:
        query = client.query(*self._data_key)
        if bins:
            query.select(*bins)
        return query

    # -- reads -----------------------------------------------------------------------------------

    def get(self, key: bytes) -> bytes | None:
        client = self._live_client()
        record_key = self._key(key)
        if self._policy.check_exists:
            _, meta = self._call("exists", lambda: client.exists(record_key))
            if meta is None:
                return None
        try:
            _, _, bins = self._call("get", lambda: client.get(record_key))
        except ex.RecordNotFound:
            return None
        return self._value_of(bins, key)

    def contains(self, key: bytes) -> bool:
        client = self._live_client()
        record_key = self._key(key)
        if self._policy.check_exists:
            _, meta = self._call("exists", lambda: client.exists(record_key))
            return meta is not None
        try:
            self._call("get", lambda: client.get(record_key))
        except ex.RecordNotFound:
            return False
        return True

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every pair of the partition, read by one scan of its set (held in memory)."""
        client = self._live_client()
        records = self._call("scan", lambda: self._query(client, BIN_KEY, BIN_VALUE).results())
        pairs: list[tuple[bytes, bytes]] = []
        for _, _, bins in records:
            key = bins.get(BIN_KEY)
            if isinstance(key, bytes | bytearray):
                pairs.append((bytes(key), self._value_of(bins, bytes(key))))
        return iter(pairs)

    def size(self) -> int:
        """The exact number of keys: a scan of the set without bins, counted."""
        client = self._live_client()

        def count() -> int:
            lock = threading.Lock()
            total = 0

            def tally(_record: Any) -> None:
                nonlocal total
                with lock:  # the client may call back from several threads
                    total += 1

            self._query(client).foreach(tally, options={"nobins": True})
            return total

        return self._call("scan", count)

    # -- writes ----------------------------------------------------------------------------------

    def _put(self, client: Any, key: bytes, value: bytes) -> None:
        record_key = self._key(key)
        bins = {BIN_KEY: bytes(key), BIN_VALUE: bytes(value)}
        self._call("put", lambda: client.put(record_key, bins))

    def set(self, key: bytes, value: bytes) -> None:
        self._put(self._live_client(), key, value)

    def delete(self, key: bytes) -> None:
        client = self._live_client()
        self._remove(client, self._key(key))

    def clear(self) -> None:
        """Forget the applied offsets, then remove every record of the partition's set."""
        client = self._live_client()
        self._remove(client, self._offsets_key)

        def keys() -> list[tuple[Any, ...]]:
            records = self._query(client).results(options={"nobins": True})
            return [key for key, _, _ in records]

        for record_key in self._call("scan", keys):
            # The key a scan returns carries the digest: remove by it.
            self._remove(client, tuple(record_key))

    def write_batch(
        self, puts: Mapping[bytes, bytes | None], applied: Mapping[TP, int] | None = None
    ) -> None:
        """The data first, key by key; then the offsets, in one atomic write."""
        client = self._live_client()
        for key, value in puts.items():
            if value is None:
                self._remove(client, self._key(key))
            else:
                self._put(client, key, value)
        if applied:
            self._write_offsets(client, applied)

    # -- applied offsets -------------------------------------------------------------------------

    def _write_offsets(self, client: Any, applied: Mapping[TP, int]) -> None:
        items = {offsets_key(tp): int(offset) for tp, offset in applied.items()}
        operations = [map_operations.map_put_items(BIN_OFFSETS, items)]
        record_key = self._offsets_key
        self._call("operate", lambda: client.operate(record_key, operations))

    def applied_offset(self, tp: TP) -> int | None:
        client = self._live_client()
        record_key = self._offsets_key
        try:
            _, _, bins = self._call("get", lambda: client.get(record_key))
        except ex.RecordNotFound:
            return None
        offsets = bins.get(BIN_OFFSETS) or {}
        value = offsets.get(offsets_key(tp))
        return None if value is None else int(value)

    def set_applied_offset(self, tp: TP, offset: int) -> None:
        self._write_offsets(self._live_client(), {tp: offset})

    # -- close -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop using the shared client (the last store to close closes it); harmless twice."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._registry.release(self._context.scope, self._identity)
