"""The store on its own: the kernel's store contract, then the key cap this store adds."""

from __future__ import annotations

import pytest
from strm.kernel.spi import TP, Store
from strm.testing.contexts import context_settings, store_context
from strm.testing.contracts import StoreContract
from strm_example_dictstore import DictStore, DictStoreFullError

PLUGIN = "strm_example_dictstore"


def dict_store(table_name: str = "t", partition: int = 0, **settings: int) -> DictStore:
    """A store built as strm builds it, from a context with the plugin's settings."""
    conf = context_settings(plugins=[PLUGIN], **settings)
    context = store_context(conf=conf, table_name=table_name, partition=partition)
    return DictStore(url="dictstore://", context=context)


class TestDictStoreContract(StoreContract):
    @pytest.fixture
    def store(self) -> Store:
        return dict_store("contract", dictstore_max_keys=100_000)


def test_it_is_a_store() -> None:
    assert isinstance(dict_store(dictstore_max_keys=1), Store)


def test_a_new_key_beyond_the_cap_fails_and_names_the_setting() -> None:
    store = dict_store("counts", 3, dictstore_max_keys=2)
    store.set(b"a", b"1")
    store.set(b"b", b"2")
    with pytest.raises(DictStoreFullError) as info:
        store.set(b"c", b"3")
    message = str(info.value)
    assert "table 'counts' partition 3" in message
    assert "dictstore_max_keys" in message
    assert "DICTSTORE_MAX_KEYS" in message
    assert store.get(b"c") is None
    assert store.size() == 2


def test_replacing_or_deleting_at_the_cap_is_allowed() -> None:
    store = dict_store(dictstore_max_keys=1)
    store.set(b"a", b"1")
    store.set(b"a", b"2")
    assert store.get(b"a") == b"2"
    store.delete(b"a")
    store.set(b"b", b"3")
    assert dict(store.items()) == {b"b": b"3"}


def test_a_batch_that_overflows_changes_nothing() -> None:
    store = dict_store(dictstore_max_keys=2)
    store.set(b"a", b"1")
    with pytest.raises(DictStoreFullError):
        store.write_batch({b"a": b"changed", b"b": b"2", b"c": b"3"})
    assert dict(store.items()) == {b"a": b"1"}


def test_a_batch_may_free_room_for_its_own_writes() -> None:
    store = dict_store(dictstore_max_keys=2)
    store.write_batch({b"a": b"1", b"b": b"2"})
    store.write_batch({b"a": None, b"c": b"3"})
    assert dict(store.items()) == {b"b": b"2", b"c": b"3"}


def test_applied_offsets_are_kept_per_partition_and_cleared() -> None:
    store = dict_store(dictstore_max_keys=5)
    store.set_applied_offset(TP("t", 0), 41)
    store.set_applied_offset(TP("t", 1), 7)
    assert store.applied_offset(TP("t", 0)) == 41
    assert store.applied_offset(TP("t", 1)) == 7
    assert store.applied_offset(TP("other", 0)) is None
    store.clear()
    assert store.applied_offset(TP("t", 0)) is None


def test_a_cap_below_one_is_refused() -> None:
    context = store_context(conf=context_settings(plugins=[PLUGIN]))
    with pytest.raises(ValueError, match="at least 1"):
        DictStore(context=context, max_keys=0)


def test_the_cap_comes_from_the_setting_unless_given() -> None:
    context = store_context(conf=context_settings(plugins=[PLUGIN], dictstore_max_keys=3))
    assert DictStore(context=context).max_keys == 3
    assert DictStore(context=context, max_keys=7).max_keys == 7
