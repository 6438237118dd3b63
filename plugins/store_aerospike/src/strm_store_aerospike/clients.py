"""One Aerospike client per app and configuration, shared by that app's stores.

An Aerospike client is heavy (a connection pool per node and a cluster-tending thread), so the
partitions of every table of an app share one. The registry keys clients by the app's scope
(``context.scope`` of :class:`strm.kernel.contexts.StoreContext`, weakly: an app that is gone takes
its entry with it) and by the client configuration, counts the stores using each, and closes a
client when its last store closes. Two apps in one process never share a client.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass
class _Lease:
    client: Any
    users: int


class ClientRegistry:
    """Clients by app scope and identity, with the number of stores using each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_scope: weakref.WeakKeyDictionary[object, dict[Hashable, _Lease]] = (
            weakref.WeakKeyDictionary()
        )

    def acquire(self, scope: object, identity: Hashable, connect: Callable[[], Any]) -> Any:
        """The scope's client for ``identity``, made by ``connect()`` the first time."""
        with self._lock:
            leases = self._by_scope.setdefault(scope, {})
            lease = leases.get(identity)
            if lease is None:
                lease = leases[identity] = _Lease(connect(), 0)
            lease.users += 1
            return lease.client

    def release(self, scope: object, identity: Hashable) -> None:
        """One store stopped using the client; the last one closes it."""
        with self._lock:
            leases = self._by_scope.get(scope)
            lease = leases.get(identity) if leases is not None else None
            if lease is None or leases is None:
                return
            lease.users -= 1
            if lease.users > 0:
                return
            del leases[identity]
            if not leases:
                del self._by_scope[scope]
        try:
            lease.client.close()
        except Exception as exc:  # closing must not fail a store's close()
            logger.warning("closing an Aerospike client failed: %s: %s", type(exc).__name__, exc)

    def clients(self, scope: object) -> list[Any]:
        """The clients the stores of a scope hold now (for tests and diagnostics)."""
        with self._lock:
            return [lease.client for lease in self._by_scope.get(scope, {}).values()]


#: The plugin's registry: holds nothing but what open stores use.
REGISTRY = ClientRegistry()
