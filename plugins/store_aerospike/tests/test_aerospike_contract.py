"""The kernel's store contracts, on every backend of the environment (see ``conftest.py``):
the in-process double always, a real Aerospike server when ``AEROSPIKE_HOSTS`` is set."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from strm.kernel.spi import TP, Store
from strm.testing.contracts import PersistentStoreContract
from strm.testing.contracts.store import Reopen
from strm_store_aerospike import AerospikeStore

OpenStore = Callable[..., AerospikeStore]


class TestAerospikeStoreContract(PersistentStoreContract):
    @pytest.fixture
    def store(self, open_backend_store: OpenStore) -> Store:
        return open_backend_store()

    @pytest.fixture
    def reopen(self, open_backend_store: OpenStore) -> Reopen:
        def reopen(store: Store) -> Store:
            table, partition = store.table_name, store.partition  # type: ignore[attr-defined]
            store.close()
            return open_backend_store(table, partition)

        return reopen


def test_partitions_and_tables_do_not_share_data(open_backend_store: OpenStore) -> None:
    first = open_backend_store("counts", 0)
    second = open_backend_store("counts", 1)
    other = open_backend_store("totals", 0)
    first.set(b"k", b"counts-0")
    second.set(b"k", b"counts-1")
    first.set_applied_offset(TP("c", 0), 4)
    assert other.get(b"k") is None
    assert dict(second.items()) == {b"k": b"counts-1"}
    assert second.applied_offset(TP("c", 0)) is None
    first.clear()
    assert second.get(b"k") == b"counts-1"
    assert second.size() == 1


def test_two_stores_of_one_partition_see_each_others_writes(
    open_backend_store: OpenStore,
) -> None:
    writer = open_backend_store("t", 3)
    reader = open_backend_store("t", 3)
    writer.write_batch({b"a": b"1"}, {TP("t", 3): 7})
    assert reader.get(b"a") == b"1"
    assert reader.applied_offset(TP("t", 3)) == 7
