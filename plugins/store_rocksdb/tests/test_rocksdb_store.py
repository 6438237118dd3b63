"""The store on real RocksDB: the kernel's store contracts, then what RocksDB adds to them."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rocksdict import Rdict
from strm.kernel.errors import StoreError
from strm.kernel.spi import TP, Store
from strm.runtime.backend_contexts import store_context as app_store_context
from strm.testing.contracts import PersistentStoreContract, StoreContract
from strm.testing.contracts.store import Reopen
from strm.testing.pytest_plugin import AppFactory
from strm_store_rocksdb import RocksDBStore
from strm_store_rocksdb.store import ITEMS_CHUNK, OFFSETS_COLUMN_FAMILY

OpenStore = Callable[..., RocksDBStore]


class TestRocksDBStoreContract(PersistentStoreContract):
    """Every behaviour of :class:`StoreContract`, and the data surviving a close and reopen."""

    @pytest.fixture
    def store(self, open_store: OpenStore) -> RocksDBStore:
        return open_store("contract", 3)

    @pytest.fixture
    def reopen(self, open_store: OpenStore) -> Reopen:
        def reopen(store: Store) -> Store:
            assert isinstance(store, RocksDBStore)
            store.close()
            return open_store(store.table_name, store.partition)

        return reopen


class TestRocksDBStoreBuiltByTheApp(StoreContract):
    """The same contract on stores built as the kernel builds them: through the plugin manager,
    under the app's ``tabledir``."""

    @pytest.fixture
    def store(self, strm_app_factory: AppFactory) -> Iterator[Store]:
        app = strm_app_factory(plugins=["strm_store_rocksdb"], store="rocksdb://")
        factory = app.resolve_backend("store").factory
        store = factory(url=app.conf.store, context=app_store_context(app, "t", 0))
        yield store
        store.close()


# -- size, items, clear ----------------------------------------------------------------------


def test_size_is_an_exact_count_after_overwrites_and_deletes(open_store: OpenStore) -> None:
    store = open_store()
    store.write_batch({i.to_bytes(4, "big"): b"v" for i in range(3000)})
    store.write_batch({i.to_bytes(4, "big"): b"again" for i in range(1000)})
    store.write_batch({i.to_bytes(4, "big"): None for i in range(0, 3000, 2)})
    assert store.size() == 1500


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.set(b"new", b"v"),
        lambda s: s.delete(b"a"),
        lambda s: s.write_batch({b"new": b"v"}),
        lambda s: s.write_batch({b"a": None}),
        lambda s: s.clear(),
    ],
    ids=["set", "delete", "write_batch-put", "write_batch-delete", "clear"],
)
def test_size_follows_every_write(
    open_store: OpenStore, write: Callable[[RocksDBStore], None]
) -> None:
    store = open_store()
    store.set(b"a", b"1")
    store.set(b"b", b"2")
    assert store.size() == 2
    write(store)
    assert store.size() == len(dict(store.items()))


def test_items_reads_more_than_one_chunk_in_key_order(open_store: OpenStore) -> None:
    store = open_store()
    count = ITEMS_CHUNK * 2 + 7
    keys = [i.to_bytes(4, "big") for i in range(count)]
    store.write_batch({key: key[::-1] for key in reversed(keys)})
    pairs = list(store.items())
    assert [key for key, _ in pairs] == keys
    assert all(value == key[::-1] for key, value in pairs)


def test_writes_while_iterating_never_repeat_a_key(open_store: OpenStore) -> None:
    store = open_store()
    store.write_batch({i.to_bytes(4, "big"): b"v" for i in range(ITEMS_CHUNK * 3)})
    seen: list[bytes] = []
    for key, _ in store.items():
        seen.append(key)
        store.set(key, b"rewritten")
        store.set(key + b"\x00", b"added after the key")
    assert len(seen) == len(set(seen))
    assert set(seen) >= {i.to_bytes(4, "big") for i in range(ITEMS_CHUNK * 3)}


def test_closing_ends_an_unfinished_iteration_and_releases_the_database(
    open_store: OpenStore,
) -> None:
    store = open_store("t", 0)
    store.write_batch({i.to_bytes(4, "big"): b"v" for i in range(ITEMS_CHUNK + 1)})
    pairs = store.items()
    next(pairs)
    store.close()
    again = open_store("t", 0)  # not locked by the half-read iteration
    assert again.size() == ITEMS_CHUNK + 1
    with pytest.raises(StoreError, match="is closed"):
        list(pairs)


def test_clear_empties_the_files_not_only_the_view(open_store: OpenStore) -> None:
    noise = random.Random(0)
    store = open_store("t", 0)
    store.write_batch({i.to_bytes(4, "big"): noise.randbytes(200) for i in range(5000)})
    store.set_applied_offset(TP("t", 0), 5000)
    store.close()
    store = open_store("t", 0)  # opening flushes the write-ahead log into SST files
    assert sum(f.stat().st_size for f in store.path.glob("*.sst")) > 500_000
    store.clear()
    assert list(store.path.glob("*.sst")) == []
    assert store.size() == 0
    assert store.applied_offset(TP("t", 0)) is None


def test_clear_covers_the_largest_keys(open_store: OpenStore) -> None:
    store = open_store()
    store.write_batch({b"": b"1", b"\xff" * 100: b"2", b"\xff" * 100 + b"\x00": b"3"})
    store.clear()
    assert list(store.items()) == []


# -- write_batch and applied offsets ------------------------------------------------------------


def test_a_batch_that_cannot_be_built_writes_nothing(open_store: OpenStore) -> None:
    store = open_store()
    store.set(b"kept", b"1")
    with pytest.raises((TypeError, ValueError)):
        store.write_batch({b"a": b"1", b"b": "not bytes"}, {TP("t", 0): 7})  # type: ignore[dict-item]
    assert dict(store.items()) == {b"kept": b"1"}
    assert store.applied_offset(TP("t", 0)) is None


def test_applied_offsets_live_in_their_own_column_family(
    open_store: OpenStore, tables: Path
) -> None:
    store = open_store("t", 0)
    store.set(b"t\x000", b"data that looks like an offset key")
    store.write_batch({}, {TP("t", 0): 9})
    path = store.path
    store.close()
    assert set(Rdict.list_cf(str(path))) == {"default", OFFSETS_COLUMN_FAMILY}
    again = open_store("t", 0)
    assert again.applied_offset(TP("t", 0)) == 9
    assert dict(again.items()) == {b"t\x000": b"data that looks like an offset key"}


def test_topic_partitions_that_share_characters_have_their_own_offsets(
    open_store: OpenStore,
) -> None:
    store = open_store()
    offsets = {TP("t1", 0): 1, TP("t", 10): 2, TP("t\x001", 0): 3, TP("t", 1): 4, TP("", 0): 5}
    store.write_batch({}, offsets)
    assert {tp: store.applied_offset(tp) for tp in offsets} == offsets


# -- closed stores ------------------------------------------------------------------------------


#: Every method but ``close``, by name.
USES: dict[str, Callable[[RocksDBStore], object]] = {
    "get": lambda s: s.get(b"k"),
    "set": lambda s: s.set(b"k", b"v"),
    "delete": lambda s: s.delete(b"k"),
    "contains": lambda s: s.contains(b"k"),
    "items": lambda s: list(s.items()),
    "size": lambda s: s.size(),
    "clear": lambda s: s.clear(),
    "write_batch": lambda s: s.write_batch({b"k": b"v"}),
    "write_batch-offsets": lambda s: s.write_batch({}, {TP("t", 0): 1}),
    "write_batch-empty": lambda s: s.write_batch({}),
    "applied_offset": lambda s: s.applied_offset(TP("t", 0)),
    "set_applied_offset": lambda s: s.set_applied_offset(TP("t", 0), 1),
}


@pytest.mark.parametrize("use", USES.values(), ids=USES.keys())
def test_a_closed_store_says_so(
    open_store: OpenStore, use: Callable[[RocksDBStore], object]
) -> None:
    store = open_store("counts", 2)
    store.size()  # a cached size must not hide the closed store
    store.close()
    with pytest.raises(StoreError) as info:
        use(store)
    message = str(info.value)
    assert "table 'counts' partition 2" in message
    assert str(store.path) in message
    assert "is closed" in message


def test_close_releases_the_lock_at_once(open_store: OpenStore) -> None:
    first = open_store("t", 0)
    first.set(b"k", b"v")
    first.applied_offset(TP("t", 0))
    first.close()
    assert open_store("t", 0).get(b"k") == b"v"


def test_repr_names_the_table_partition_and_state(open_store: OpenStore) -> None:
    store = open_store("counts", 1)
    assert repr(store) == f"<RocksDBStore 'counts'[1] open at {store.path}>"
    store.close()
    assert repr(store) == f"<RocksDBStore 'counts'[1] closed at {store.path}>"
