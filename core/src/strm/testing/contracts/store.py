"""The contract every table store meets: :class:`strm.spi.Store`, bytes in and bytes out.

:class:`StoreContract` asks for a ``store`` fixture that returns a new, empty store for one table
partition; it may close the store again at teardown (``close()`` must be harmless twice).
Stores that keep their data across processes also pass :class:`PersistentStoreContract`, which
asks in addition for a ``reopen`` fixture.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from strm.spi import TP, Store

#: Every byte value, NUL and bytes that are not UTF-8 included.
ALL_BYTES = bytes(range(256))
#: Big enough to cross a page or block size, small enough for any backend's record limit.
LARGE_VALUE = bytes(range(256)) * 400

Reopen = Callable[[Store], Store]


def _items(store: Store) -> dict[bytes, bytes]:
    pairs = list(store.items())
    found = dict(pairs)
    assert len(found) == len(pairs), f"items() yielded a key twice: {pairs!r}"
    return found


class StoreContract:
    """Behaviour every :class:`strm.spi.Store` must have, whatever keeps the bytes."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError(
            "subclass StoreContract and define a 'store' fixture returning a new, empty store"
        )

    # -- shape -----------------------------------------------------------------------------------

    def test_implements_the_store_protocol(self, store: Store) -> None:
        assert isinstance(store, Store)

    def test_a_new_store_is_empty(self, store: Store) -> None:
        assert store.size() == 0
        assert _items(store) == {}
        assert store.get(b"k") is None
        assert not store.contains(b"k")

    # -- get, set, delete, contains --------------------------------------------------------------

    def test_set_then_get(self, store: Store) -> None:
        store.set(b"k", b"v")
        value = store.get(b"k")
        assert value == b"v"
        assert type(value) is bytes

    def test_get_of_a_missing_key_is_none(self, store: Store) -> None:
        store.set(b"k", b"v")
        assert store.get(b"other") is None

    def test_set_replaces_the_value(self, store: Store) -> None:
        store.set(b"k", b"first")
        store.set(b"k", b"second")
        assert store.get(b"k") == b"second"
        assert store.size() == 1

    def test_delete_removes_the_key(self, store: Store) -> None:
        store.set(b"k", b"v")
        store.set(b"kept", b"v")
        store.delete(b"k")
        assert store.get(b"k") is None
        assert not store.contains(b"k")
        assert store.get(b"kept") == b"v"
        assert store.size() == 1

    def test_delete_of_a_missing_key_is_harmless(self, store: Store) -> None:
        store.set(b"kept", b"v")
        store.delete(b"missing")
        assert _items(store) == {b"kept": b"v"}

    def test_contains(self, store: Store) -> None:
        store.set(b"k", b"v")
        assert store.contains(b"k")
        assert not store.contains(b"missing")

    def test_keys_that_share_a_prefix_are_distinct(self, store: Store) -> None:
        store.set(b"a", b"1")
        store.set(b"ab", b"2")
        store.set(b"abc", b"3")
        store.delete(b"ab")
        assert _items(store) == {b"a": b"1", b"abc": b"3"}

    # -- bytes -----------------------------------------------------------------------------------

    def test_empty_value_is_a_value_not_a_missing_key(self, store: Store) -> None:
        store.set(b"k", b"")
        assert store.get(b"k") == b""
        assert store.contains(b"k")
        assert store.size() == 1
        assert _items(store) == {b"k": b""}

    def test_empty_key(self, store: Store) -> None:
        store.set(b"", b"v")
        assert store.get(b"") == b"v"
        assert store.contains(b"")
        store.delete(b"")
        assert not store.contains(b"")

    def test_binary_keys_and_values_are_kept_exactly(self, store: Store) -> None:
        store.set(ALL_BYTES, ALL_BYTES[::-1])
        store.set(b"\x00", b"\x00\x00")
        store.set(b"\xff\xfe", LARGE_VALUE)
        assert store.get(ALL_BYTES) == ALL_BYTES[::-1]
        assert store.get(b"\x00") == b"\x00\x00"
        assert store.get(b"\x00\x00") is None
        assert store.get(b"\xff\xfe") == LARGE_VALUE
        assert _items(store) == {
            ALL_BYTES: ALL_BYTES[::-1],
            b"\x00": b"\x00\x00",
            b"\xff\xfe": LARGE_VALUE,
        }

    # -- items, size, clear ----------------------------------------------------------------------

    def test_items_yields_every_pair_as_bytes(self, store: Store) -> None:
        expected = {f"key-{i}".encode(): f"value-{i}".encode() for i in range(100)}
        for key, value in expected.items():
            store.set(key, value)
        pairs = list(store.items())
        assert all(type(k) is bytes and type(v) is bytes for k, v in pairs)
        assert dict(pairs) == expected
        assert len(pairs) == len(expected)

    def test_items_can_be_iterated_again(self, store: Store) -> None:
        store.set(b"a", b"1")
        store.set(b"b", b"2")
        assert _items(store) == _items(store) == {b"a": b"1", b"b": b"2"}

    def test_size_counts_keys(self, store: Store) -> None:
        for i in range(1000):
            store.set(i.to_bytes(4, "big"), b"v")
        assert store.size() == 1000
        store.set((0).to_bytes(4, "big"), b"again")
        store.delete((1).to_bytes(4, "big"))
        assert store.size() == 999

    def test_clear_removes_every_key(self, store: Store) -> None:
        for i in range(10):
            store.set(bytes([i]), b"v")
        store.clear()
        assert store.size() == 0
        assert _items(store) == {}
        assert store.get(b"\x00") is None
        store.set(b"after", b"v")
        assert _items(store) == {b"after": b"v"}

    def test_clear_forgets_applied_offsets(self, store: Store) -> None:
        # A cleared store must be rebuilt from the start of its changelog.
        store.set(b"k", b"v")
        store.set_applied_offset(TP("t", 0), 10)
        store.clear()
        assert store.applied_offset(TP("t", 0)) is None

    # -- write_batch -----------------------------------------------------------------------------

    def test_write_batch_sets_and_deletes(self, store: Store) -> None:
        store.set(b"old", b"1")
        store.set(b"gone", b"2")
        store.write_batch({b"new": b"3", b"old": b"4", b"gone": None, b"never": None})
        assert _items(store) == {b"new": b"3", b"old": b"4"}
        assert not store.contains(b"gone")
        assert not store.contains(b"never")
        assert store.size() == 2

    def test_write_batch_with_nothing_changes_nothing(self, store: Store) -> None:
        store.set(b"k", b"v")
        store.write_batch({})
        assert _items(store) == {b"k": b"v"}

    def test_write_batch_records_applied_offsets_with_the_data(self, store: Store) -> None:
        store.write_batch({b"k": b"v"}, {TP("t", 0): 9, TP("t", 1): 4})
        assert _items(store) == {b"k": b"v"}
        assert store.applied_offset(TP("t", 0)) == 9
        assert store.applied_offset(TP("t", 1)) == 4
        store.write_batch({}, {TP("t", 0): 12})
        assert store.applied_offset(TP("t", 0)) == 12
        assert store.applied_offset(TP("t", 1)) == 4

    def test_write_batch_keeps_binary_and_empty_values(self, store: Store) -> None:
        store.write_batch({ALL_BYTES: b"", b"": ALL_BYTES, b"big": LARGE_VALUE})
        assert _items(store) == {ALL_BYTES: b"", b"": ALL_BYTES, b"big": LARGE_VALUE}

    # -- applied offsets -------------------------------------------------------------------------

    def test_applied_offset_of_an_unknown_partition_is_none(self, store: Store) -> None:
        assert store.applied_offset(TP("t", 0)) is None

    def test_applied_offset_is_kept_and_replaced(self, store: Store) -> None:
        tp = TP("t", 0)
        store.set_applied_offset(tp, 0)
        assert store.applied_offset(tp) == 0
        store.set_applied_offset(tp, 41)
        store.set_applied_offset(tp, 2**62)
        assert store.applied_offset(tp) == 2**62

    def test_applied_offsets_are_independent_per_topic_partition(self, store: Store) -> None:
        offsets = {TP("t", 0): 5, TP("t", 1): 7, TP("u", 0): 11, TP("t.changelog", 0): 13}
        for tp, offset in offsets.items():
            store.set_applied_offset(tp, offset)
        store.set_applied_offset(TP("t", 1), 8)
        assert {tp: store.applied_offset(tp) for tp in offsets} == {**offsets, TP("t", 1): 8}
        assert store.applied_offset(TP("t", 2)) is None
        assert store.applied_offset(TP("u", 1)) is None

    def test_applied_offsets_are_not_data(self, store: Store) -> None:
        store.set(b"k", b"v")
        store.set_applied_offset(TP("t", 0), 3)
        assert store.size() == 1
        assert _items(store) == {b"k": b"v"}

    # -- close -----------------------------------------------------------------------------------

    def test_close_twice_is_harmless(self, store: Store) -> None:
        store.set(b"k", b"v")
        store.close()
        store.close()


class PersistentStoreContract(StoreContract):
    """For stores whose data outlives the object: what was written is there after a reopen.

    Define a ``reopen`` fixture returning a function that closes the given store and opens a new
    one on the same data (and closes that one at teardown).
    """

    @pytest.fixture
    def reopen(self) -> Reopen:
        raise NotImplementedError(
            "subclass PersistentStoreContract and define a 'reopen' fixture: a function that "
            "closes a store and returns a new one on the same data"
        )

    def test_data_survives_a_reopen(self, store: Store, reopen: Reopen) -> None:
        store.set(b"k", b"v")
        store.set(b"empty", b"")
        store.set(ALL_BYTES, LARGE_VALUE)
        store.write_batch({b"batched": b"b"})
        again = reopen(store)
        assert _items(again) == {
            b"k": b"v",
            b"empty": b"",
            ALL_BYTES: LARGE_VALUE,
            b"batched": b"b",
        }
        assert again.size() == 4

    def test_deletes_survive_a_reopen(self, store: Store, reopen: Reopen) -> None:
        store.set(b"a", b"1")
        store.set(b"b", b"2")
        store.set(b"c", b"3")
        store.delete(b"a")
        store.write_batch({b"b": None})
        again = reopen(store)
        assert _items(again) == {b"c": b"3"}

    def test_applied_offsets_survive_a_reopen(self, store: Store, reopen: Reopen) -> None:
        store.set_applied_offset(TP("t", 0), 5)
        store.set_applied_offset(TP("t", 1), 9)
        again = reopen(store)
        assert again.applied_offset(TP("t", 0)) == 5
        assert again.applied_offset(TP("t", 1)) == 9
        assert again.applied_offset(TP("t", 2)) is None

    def test_clear_survives_a_reopen(self, store: Store, reopen: Reopen) -> None:
        store.set(b"k", b"v")
        store.set_applied_offset(TP("t", 0), 5)
        store.clear()
        again = reopen(store)
        assert _items(again) == {}
        assert again.applied_offset(TP("t", 0)) is None
