"""The kernel's store contracts, run on a real LevelDB database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from strm.kernel.spi import Store
from strm.testing.contracts import PersistentStoreContract
from strm.testing.contracts.store import Reopen
from strm_store_leveldb import LevelDBStore

OpenStore = Callable[..., LevelDBStore]


class TestLevelDBStoreContract(PersistentStoreContract):
    """``PersistentStoreContract``, which extends ``StoreContract``: both suites, on stores built
    the way strm builds them (under the context's ``tabledir``); a reopen closes the store and opens
    the same directory again."""

    @pytest.fixture
    def store(self, open_store: OpenStore) -> Store:
        return open_store(url="leveldb://", table_name="contract", partition=3)

    @pytest.fixture
    def reopen(self, open_store: OpenStore) -> Reopen:
        def reopen_(store: Store) -> Store:
            assert isinstance(store, LevelDBStore)
            store.close()
            again = open_store(
                url=f"leveldb://{store.path.parent}", table_name="contract", partition=3
            )
            assert again.path == store.path
            return again

        return reopen_
