"""The kernel's store contracts, run on a real LevelDB database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from strm.spi import Store
from strm.testing.contracts import PersistentStoreContract
from strm.testing.contracts.store import Reopen
from strm.testing.pytest_plugin import AppFactory
from strm_store_leveldb import LevelDBStore

OpenStore = Callable[..., LevelDBStore]


class TestLevelDBStoreContract(PersistentStoreContract):
    """``PersistentStoreContract``, which extends ``StoreContract``: both suites, on stores built
    the way strm builds them (under the app's ``tabledir``); a reopen closes the store and opens
    the same directory again."""

    @pytest.fixture
    def store(self, strm_app_factory: AppFactory, open_store: OpenStore) -> Store:
        app = strm_app_factory(plugins=["strm_store_leveldb"], store="leveldb://")
        return open_store(url=app.conf.store, app=app, table_name="contract", partition=3)

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
