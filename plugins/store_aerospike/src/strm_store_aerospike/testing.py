"""An in-process stand-in for an Aerospike cluster, for tests without a server.

:class:`FakeAerospike` plays the cluster; calling it (``fake(config)``) plays
``aerospike.client(config)`` and returns a connected :class:`FakeClient`. The clients model the
part of the official client's API the ``aerospike://`` store uses, with the same signatures, the
same return shapes and the same exception classes, imported from ``aerospike.exception``:

- ``put``, ``get``, ``exists``, ``remove`` and ``operate`` (write, read and ``map_put_items``
  operations built with ``aerospike_helpers.operations``) on ``(namespace, set, key)`` tuples,
  or on ``(namespace, set, None, digest)`` tuples as queries return them;
- ``query(namespace, set)`` without a secondary-index filter (a scan), with ``select``,
  ``results`` and ``foreach`` (a callback returning ``False`` stops it) and the ``nobins``
  option;
- ``connect``, ``is_connected`` and ``close``.

Records are found by the real digest (``aerospike.calc_digest``), so keys of different types
never meet, as on a server. Primary keys may be ``str``, ``int`` or a non-empty ``bytearray``:
an empty ``bytearray`` is refused with the client's ``ParamError``. A missing record is
``RecordNotFound``, an unknown namespace ``NamespaceNotFound``, a bin name longer than 15
characters ``BinNameError``, a record over ``max_record_size`` ``RecordTooBig``, a call on a
closed client ``ClusterError``. Anything the double does not model raises ``NotImplementedError``
naming it, rather than pretending.

Use it with the store through the ``client_factory`` option::

    fake = FakeAerospike()
    app.Table("counts", store="aerospike:///test", options={"client_factory": fake})

:meth:`FakeAerospike.fail_next` injects failures (the next N calls raise a chosen exception) to
test retries and crash handling; :attr:`FakeAerospike.calls` lists every call made.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aerospike
from aerospike import exception as ex

#: Aerospike's limits that the double enforces.
MAX_BIN_NAME = 15
MAX_SET_NAME = 63
DEFAULT_MAX_RECORD_SIZE = 1024 * 1024

#: The operations ``operate`` models.
MODELLED_OPERATIONS = frozenset(
    {aerospike.OPERATOR_READ, aerospike.OPERATOR_WRITE, aerospike.OP_MAP_PUT_ITEMS}
)

#: ``ttl`` in a record's metadata when it never expires, as the server reports it.
NEVER_EXPIRES = 4294967295

KeyTuple = tuple[Any, ...]
RecordTuple = tuple[KeyTuple, dict[str, Any], dict[str, Any]]


def make_error(
    cls: type[ex.AerospikeError], message: str, *, in_doubt: bool = False
) -> ex.AerospikeError:
    """An exception of the client's class, filled in as the client fills it in."""
    code = cls.code
    error = cls(code, message, "fake_aerospike", 0, in_doubt)
    error.msg = message
    error.file = "fake_aerospike"
    error.line = 0
    error.in_doubt = in_doubt
    return error


@dataclass
class _Record:
    bins: dict[str, Any]
    generation: int = 1
    user_key: Any = None


@dataclass
class _Failure:
    remaining: int
    error: Callable[[], BaseException]
    methods: frozenset[str] | None


@dataclass
class Call:
    """One call a client made: the method and the key or set it was about."""

    method: str
    target: Any = None
    failed: bool = False


@dataclass
class _Namespace:
    sets: dict[str | None, dict[bytes, _Record]] = field(default_factory=dict)


class FakeAerospike:
    """An in-memory Aerospike cluster; ``fake(config)`` is ``aerospike.client(config)``.

    ``namespaces`` are those the cluster has (``'test'`` by default, as a fresh server has);
    data outlives the clients, so a store closed and opened again finds what it wrote.
    """

    def __init__(
        self,
        namespaces: Iterable[str] = ("test",),
        *,
        max_record_size: int = DEFAULT_MAX_RECORD_SIZE,
    ) -> None:
        self._lock = threading.RLock()
        self._namespaces = {name: _Namespace() for name in namespaces}
        self._failures: list[_Failure] = []
        self.max_record_size = max_record_size
        #: Every call of every client, in order (``connect`` for ``fake(config)``).
        self.calls: list[Call] = []
        #: The clients made, in order; ``client.config`` is the configuration each was given.
        self.clients: list[FakeClient] = []

    # -- the module-level API --------------------------------------------------------------------

    def __call__(self, config: Mapping[str, Any]) -> FakeClient:
        """``aerospike.client(config)``: check the configuration, connect, return the client."""
        if not isinstance(config, Mapping):
            raise make_error(ex.ParamError, "Config must be a dict")
        hosts = config.get("hosts")
        if not hosts or not isinstance(hosts, list | tuple):
            raise make_error(ex.ParamError, "Hosts must not be empty")
        for host in hosts:
            if not (
                isinstance(host, tuple)
                and len(host) in (2, 3)
                and isinstance(host[0], str)
                and isinstance(host[1], int)
            ):
                raise make_error(ex.ParamError, f"Invalid host {host!r}")
        self._enter("connect", [f"{h[0]}:{h[1]}" for h in hosts])
        client = FakeClient(self, dict(config))
        with self._lock:
            self.clients.append(client)
        return client

    client = __call__

    # -- error injection and inspection ----------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        error: BaseException | type[BaseException] | None = None,
        *,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Make the next ``count`` calls (of ``methods`` only, when given) raise ``error``.

        ``error`` is an exception or an exception class; the default is the client's
        ``TimeoutError``. Exception classes of ``aerospike.exception`` are filled in with their
        code and a message, as the client raises them. Rules queue up in the order they are
        given.
        """
        if count < 0:
            raise ValueError(f"count must be at least 0, got {count}")
        if count == 0:
            return
        make: Callable[[], BaseException]
        if error is None:
            make = lambda: make_error(ex.TimeoutError, "AEROSPIKE_ERR_TIMEOUT (injected)")  # noqa: E731
        elif isinstance(error, type):
            cls = error
            if issubclass(cls, ex.AerospikeError):
                make = lambda: make_error(cls, f"{cls.__name__} (injected)")  # noqa: E731
            else:
                make = cls
        else:
            instance = error
            make = lambda: instance  # noqa: E731
        with self._lock:
            self._failures.append(
                _Failure(count, make, frozenset(methods) if methods is not None else None)
            )

    def heal(self) -> None:
        """Forget every failure still queued by :meth:`fail_next`."""
        with self._lock:
            self._failures.clear()

    def count(self, method: str) -> int:
        """How many calls of ``method`` were made (failed ones included)."""
        with self._lock:
            return sum(1 for call in self.calls if call.method == method)

    def records(self, namespace: str, set: str | None) -> dict[bytes, dict[str, Any]]:
        """The bins of every record of a set, by digest (a copy, for assertions)."""
        with self._lock:
            records = self._set(namespace, set, create=False)
            return {digest: copy.deepcopy(r.bins) for digest, r in records.items()}

    def set_names(self, namespace: str) -> list[str | None]:
        """The sets of a namespace that hold at least one record."""
        with self._lock:
            return [name for name, records in self._ns(namespace).sets.items() if records]

    # -- internals shared by the clients ---------------------------------------------------------

    def _enter(self, method: str, target: Any = None) -> None:
        """Record a call; raise the injected failure when one is due."""
        with self._lock:
            call = Call(method, target)
            self.calls.append(call)
            for failure in self._failures:
                if failure.remaining > 0 and (failure.methods is None or method in failure.methods):
                    failure.remaining -= 1
                    if failure.remaining == 0:
                        self._failures.remove(failure)
                    call.failed = True
                    raise failure.error()

    def _ns(self, namespace: str) -> _Namespace:
        found = self._namespaces.get(namespace)
        if found is None:
            raise make_error(ex.NamespaceNotFound, f"AEROSPIKE_ERR_NAMESPACE_NOT_FOUND {namespace}")
        return found

    def _set(self, namespace: str, set: str | None, *, create: bool) -> dict[bytes, _Record]:
        ns = self._ns(namespace)
        records = ns.sets.get(set)
        if records is None:
            records = {}
            if create:
                ns.sets[set] = records
        return records


def _check_bins(bins: Mapping[str, Any]) -> None:
    if not isinstance(bins, Mapping):
        raise make_error(ex.ParamError, "Record should be passed as bin-value pair")
    for name, value in bins.items():
        if not isinstance(name, str):
            raise make_error(ex.ParamError, "A bin name must be a string or unicode string.")
        if len(name.encode()) > MAX_BIN_NAME:
            raise make_error(ex.BinNameError, "A bin name should not exceed 15 characters limit")
        _check_value(value)


def _check_value(value: Any) -> None:
    if value is None or isinstance(value, bool | int | float | str | bytes | bytearray):
        return
    if isinstance(value, list):
        for item in value:
            _check_value(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str | int | bytes):
                raise make_error(ex.ParamError, f"Unsupported map key type {type(key).__name__}")
            _check_value(item)
        return
    raise make_error(ex.ParamError, f"Unsupported bin value type {type(value).__name__}")


def _stored(value: Any) -> Any:
    """A value as the server keeps it: blobs come back as ``bytes``."""
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, list):
        return [_stored(item) for item in value]
    if isinstance(value, dict):
        return {key: _stored(item) for key, item in value.items()}
    return value


def _size(value: Any) -> int:
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, list):
        return sum(_size(item) for item in value) + 1
    if isinstance(value, dict):
        return sum(_size(k) + _size(v) for k, v in value.items()) + 1
    return 8


class FakeClient:
    """One client of a :class:`FakeAerospike`, with the official client's method signatures."""

    def __init__(self, cluster: FakeAerospike, config: dict[str, Any]) -> None:
        self._cluster = cluster
        self.config = config
        self._connected = True

    def __repr__(self) -> str:
        # The configuration may hold a password: show the hosts only.
        state = "connected" if self._connected else "closed"
        return f"<FakeClient {self.config.get('hosts')!r} {state}>"

    # -- connection ------------------------------------------------------------------------------

    def connect(self, username: str | None = None, password: str | None = None) -> FakeClient:
        """A no-op on a connected client; reconnects a closed one."""
        if not self._connected:
            self._cluster._enter("connect", self.config.get("hosts"))
            self._connected = True
        return self

    def is_connected(self) -> bool:
        return self._connected

    def close(self) -> None:
        self._connected = False

    # -- keys ------------------------------------------------------------------------------------

    def _digest(self, key: Any) -> tuple[str, str | None, bytes, Any]:
        """``(namespace, set, digest, primary key)`` of a key tuple, checked as the client
        checks it."""
        if not isinstance(key, tuple) or len(key) not in (3, 4):
            raise make_error(ex.ParamError, "key is invalid")
        namespace, set_name, primary = key[0], key[1], key[2]
        if not isinstance(namespace, str):
            raise make_error(ex.ParamError, "namespace must be a string")
        if set_name is not None and not isinstance(set_name, str):
            raise make_error(ex.ParamError, "set must be a string")
        if set_name is not None and len(set_name.encode()) > MAX_SET_NAME:
            raise make_error(ex.ParamError, f"set name longer than {MAX_SET_NAME} bytes")
        if primary is None:
            digest = key[3] if len(key) == 4 else None
            if not isinstance(digest, bytearray | bytes) or len(digest) != 20:
                raise make_error(ex.ParamError, "either key or digest is required")
            return namespace, set_name, bytes(digest), None
        if isinstance(primary, bytearray) and not primary:
            raise make_error(ex.ParamError, "Byte array size cannot be 0")
        if isinstance(primary, bool) or not isinstance(primary, str | int | bytearray):
            raise make_error(ex.ParamError, "key is invalid")
        digest = bytes(aerospike.calc_digest(namespace, set_name or "", primary))
        return namespace, set_name, digest, primary

    def _require_connection(self) -> None:
        if not self._connected:
            raise make_error(ex.ClusterError, "No connection to aerospike cluster")

    @staticmethod
    def _key_out(namespace: str, set_name: str | None, primary: Any, digest: bytes) -> KeyTuple:
        return (namespace, set_name, primary, bytearray(digest))

    @staticmethod
    def _meta(record: _Record) -> dict[str, Any]:
        return {"ttl": NEVER_EXPIRES, "gen": record.generation}

    def _lookup(self, method: str, key: Any) -> tuple[KeyTuple, _Record | None, bytes]:
        self._cluster._enter(method, key)
        self._require_connection()
        namespace, set_name, digest, primary = self._digest(key)
        records = self._cluster._set(namespace, set_name, create=False)
        return self._key_out(namespace, set_name, primary, digest), records.get(digest), digest

    # -- record commands -------------------------------------------------------------------------

    def put(
        self,
        key: KeyTuple,
        bins: dict[str, Any],
        meta: dict[str, Any] | None = None,
        policy: dict[str, Any] | None = None,
        serializer: Any = None,
    ) -> None:
        cluster = self._cluster
        cluster._enter("put", key)
        self._require_connection()
        namespace, set_name, digest, primary = self._digest(key)
        _check_bins(bins)
        policy = policy or {}
        exists = policy.get("exists", aerospike.POLICY_EXISTS_IGNORE)
        with cluster._lock:
            records = cluster._set(namespace, set_name, create=True)
            current = records.get(digest)
            if exists == aerospike.POLICY_EXISTS_CREATE and current is not None:
                raise make_error(ex.RecordExistsError, "AEROSPIKE_ERR_RECORD_EXISTS")
            if (
                exists in (aerospike.POLICY_EXISTS_UPDATE, aerospike.POLICY_EXISTS_REPLACE)
                and current is None
            ):
                raise make_error(ex.RecordNotFound, "AEROSPIKE_ERR_RECORD_NOT_FOUND")
            replace = exists in (
                aerospike.POLICY_EXISTS_REPLACE,
                aerospike.POLICY_EXISTS_CREATE_OR_REPLACE,
            )
            new_bins = {} if current is None or replace else copy.deepcopy(current.bins)
            for name, value in bins.items():
                if value is None:
                    new_bins.pop(name, None)
                else:
                    new_bins[name] = _stored(value)
            self._store(records, digest, current, new_bins, primary, policy)

    def _store(
        self,
        records: dict[bytes, _Record],
        digest: bytes,
        current: _Record | None,
        bins: dict[str, Any],
        primary: Any,
        policy: Mapping[str, Any],
    ) -> None:
        size = sum(len(name) + _size(value) for name, value in bins.items())
        if size > self._cluster.max_record_size:
            raise make_error(ex.RecordTooBig, "AEROSPIKE_ERR_RECORD_TOO_BIG")
        if not bins:
            # A record left without bins is deleted, as on the server.
            records.pop(digest, None)
            return
        send_key = policy.get("key") == aerospike.POLICY_KEY_SEND
        user_key = primary if send_key else (current.user_key if current is not None else None)
        generation = current.generation + 1 if current is not None else 1
        records[digest] = _Record(bins, generation, user_key)

    def get(self, key: KeyTuple, policy: dict[str, Any] | None = None) -> RecordTuple:
        with self._cluster._lock:
            key_out, record, _ = self._lookup("get", key)
            if record is None:
                raise make_error(ex.RecordNotFound, "AEROSPIKE_ERR_RECORD_NOT_FOUND")
            return key_out, self._meta(record), copy.deepcopy(record.bins)

    def exists(
        self, key: KeyTuple, policy: dict[str, Any] | None = None
    ) -> tuple[KeyTuple, dict[str, Any] | None]:
        with self._cluster._lock:
            key_out, record, _ = self._lookup("exists", key)
            return key_out, None if record is None else self._meta(record)

    def remove(
        self,
        key: KeyTuple,
        meta: dict[str, Any] | None = None,
        policy: dict[str, Any] | None = None,
    ) -> None:
        with self._cluster._lock:
            key_out, record, digest = self._lookup("remove", key)
            if record is None:
                raise make_error(ex.RecordNotFound, "AEROSPIKE_ERR_RECORD_NOT_FOUND")
            if meta and "gen" in meta and meta["gen"] != record.generation:
                raise make_error(ex.RecordGenerationError, "AEROSPIKE_ERR_RECORD_GENERATION")
            self._cluster._set(key_out[0], key_out[1], create=False).pop(digest, None)

    def operate(
        self,
        key: KeyTuple,
        list: list[dict[str, Any]],  # the client's parameter name
        meta: dict[str, Any] | None = None,
        policy: dict[str, Any] | None = None,
    ) -> RecordTuple:
        """Write (``OPERATOR_WRITE``), read (``OPERATOR_READ``) and ``OP_MAP_PUT_ITEMS``
        operations, applied in order to one record, all or none."""
        cluster = self._cluster
        operations = list
        cluster._enter("operate", key)
        self._require_connection()
        namespace, set_name, digest, primary = self._digest(key)
        if not operations:
            raise make_error(ex.ParamError, "Operations list is empty")
        writes = False
        with cluster._lock:
            records = cluster._set(namespace, set_name, create=True)
            current = records.get(digest)
            bins = {} if current is None else copy.deepcopy(current.bins)
            result: dict[str, Any] = {}
            for operation in operations:
                code = operation.get("op")
                if code not in MODELLED_OPERATIONS:
                    raise NotImplementedError(
                        f"FakeAerospike does not model the operation {operation!r}"
                    )
                name = operation.get("bin")
                if not isinstance(name, str):
                    raise make_error(ex.ParamError, "Bin name should be of type string")
                if code == aerospike.OPERATOR_READ:
                    if current is None and not writes:
                        raise make_error(ex.RecordNotFound, "AEROSPIKE_ERR_RECORD_NOT_FOUND")
                    if name in bins:
                        result[name] = copy.deepcopy(bins[name])
                elif code == aerospike.OPERATOR_WRITE:
                    _check_bins({name: operation.get("val")})
                    writes = True
                    value = operation.get("val")
                    if value is None:
                        bins.pop(name, None)
                    else:
                        bins[name] = _stored(value)
                else:  # OP_MAP_PUT_ITEMS
                    items = operation.get("val")
                    if not isinstance(items, dict):
                        raise make_error(ex.ParamError, "map_put_items needs a dict")
                    _check_bins({name: items})
                    existing = bins.get(name, {})
                    if not isinstance(existing, dict):
                        raise make_error(
                            ex.BinIncompatibleType, "AEROSPIKE_ERR_BIN_INCOMPATIBLE_TYPE"
                        )
                    existing = {**existing, **_stored(items)}
                    bins[name] = existing
                    result[name] = len(existing)
                    writes = True
            if writes:
                self._store(records, digest, current, bins, primary, policy or {})
                current = records.get(digest)
            meta_out = self._meta(current) if current is not None else {"ttl": 0, "gen": 0}
            return self._key_out(namespace, set_name, primary, digest), meta_out, result

    # -- queries ---------------------------------------------------------------------------------

    def query(self, namespace: str, set: str | None = None) -> FakeQuery:
        return FakeQuery(self, namespace, set)

    def scan(self, namespace: str, set: str | None = None) -> FakeQuery:
        """The deprecated ``Scan``: the same as a query without a filter."""
        return FakeQuery(self, namespace, set)

    def _snapshot(
        self, namespace: str, set_name: str | None, selected: tuple[str, ...] | None, nobins: bool
    ) -> list[RecordTuple]:
        cluster = self._cluster
        cluster._enter("query", (namespace, set_name))
        self._require_connection()
        with cluster._lock:
            ns = cluster._ns(namespace)
            if set_name is None:
                sources = [(name, recs) for name, recs in ns.sets.items()]
            else:
                sources = [(set_name, ns.sets.get(set_name, {}))]
            found: list[RecordTuple] = []
            for name, records in sources:
                for digest, record in records.items():
                    if nobins:
                        bins: dict[str, Any] = {}
                    elif selected is not None:
                        bins = {
                            b: copy.deepcopy(record.bins[b]) for b in selected if b in record.bins
                        }
                    else:
                        bins = copy.deepcopy(record.bins)
                    key = self._key_out(namespace, name, record.user_key, digest)
                    found.append((key, self._meta(record), bins))
            return found


class FakeQuery:
    """A query without a secondary-index filter: every record of the set."""

    def __init__(self, client: FakeClient, namespace: str, set_name: str | None) -> None:
        self._client = client
        self.namespace = namespace
        self.set = set_name
        self._selected: tuple[str, ...] | None = None
        self.max_records = 0

    def select(self, *bins: str) -> None:
        if self._selected is not None:
            raise make_error(ex.ClientError, "select() was already called on this query")
        self._selected = bins

    def where(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("FakeAerospike does not model secondary-index queries")

    def results(
        self, policy: dict[str, Any] | None = None, options: dict[str, Any] | None = None
    ) -> list[RecordTuple]:
        nobins = bool((options or {}).get("nobins"))
        return self._client._snapshot(self.namespace, self.set, self._selected, nobins)

    def foreach(
        self,
        callback: Callable[[RecordTuple], Any],
        policy: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        for record in self.results(policy, options):
            if callback(record) is False:
                break
