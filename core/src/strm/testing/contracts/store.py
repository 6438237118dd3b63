"""The contract every table store meets: :class:`strm.kernel.spi.Store`, bytes in and bytes out.

:class:`StoreContract` asks for a ``store`` fixture that returns a new, empty store for one table
partition, built the way strm builds it (``factory(url=..., context=...)``, the context from
:func:`strm.testing.contexts.store_context`); it may close the store again at teardown (``close()``
must be harmless twice). It includes the threads strm calls a store from: ``write_batch`` on a
worker thread, everything else on the thread that opened the store. Stores that keep their data
across processes also pass :class:`PersistentStoreContract`, which asks in addition for a ``reopen``
fixture, and stores that keep files pass :class:`StoreFilesContract` (files under ``tabledir``, one
set per table partition, damaged files reported as :class:`strm.StoreCorruptError`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from strm.kernel.errors import StoreCorruptError
from strm.kernel.settings.conf import Conf
from strm.kernel.spi import TP, Store
from strm.runtime.backend_contexts import Scope
from strm.testing.contexts import backend_factory, context_settings, store_context

#: Every byte value, NUL and bytes that are not UTF-8 included.
ALL_BYTES = bytes(range(256))
#: Big enough to cross a page or block size, small enough for any backend's record limit.
LARGE_VALUE = bytes(range(256)) * 400

Reopen = Callable[[Store], Store]

#: How long a call on another thread may take before the contract gives up on it.
THREAD_TIMEOUT = 30.0
#: Batches the writer thread applies while the opening thread reads.
CONCURRENT_BATCHES = 200

THREAD_RULE = (
    "strm calls write_batch through asyncio.to_thread, on a worker thread that is not the one "
    "that opened the store (and not always the same one), and calls every other method on the "
    "event loop's thread, reads even while a write_batch runs: a store must not bind its "
    "connection or handle to the thread that opened it (sqlite3: connect(..., "
    "check_same_thread=False) with a lock around its use)"
)


def on_another_thread(call: Callable[[], Any], what: str) -> Any:
    """Run ``call`` on a new thread and return its result; its exception fails the test with
    the threading rule, since the same call works on the opening thread."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as exc:  # reported on the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="strm-contract-worker", daemon=True)
    thread.start()
    thread.join(THREAD_TIMEOUT)
    if thread.is_alive():
        pytest.fail(f"{what} on another thread did not return within {THREAD_TIMEOUT} s")
    error = outcome.get("error")
    if error is not None:
        pytest.fail(
            f"{what} raised {type(error).__name__}: {error} when called on a thread other than "
            f"the one that opened the store. {THREAD_RULE}"
        )
    return outcome.get("result")


def _items(store: Store) -> dict[bytes, bytes]:
    pairs = list(store.items())
    found = dict(pairs)
    assert len(found) == len(pairs), f"items() yielded a key twice: {pairs!r}"
    return found


class StoreContract:
    """Behaviour every :class:`strm.kernel.spi.Store` must have, whatever keeps the bytes."""

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

    def test_applied_offset_is_an_int(self, store: Store) -> None:
        # The kernel resumes the changelog at applied_offset + 1.
        store.write_batch({}, {TP("t", 0): 7})
        store.set_applied_offset(TP("t", 1), 8)
        assert type(store.applied_offset(TP("t", 0))) is int
        assert store.applied_offset(TP("t", 0)) + 1 == 8  # type: ignore[operator]
        assert type(store.applied_offset(TP("t", 1))) is int

    # -- threads ---------------------------------------------------------------------------------

    def test_write_batch_runs_on_another_thread(self, store: Store) -> None:
        store.set(b"before", b"1")
        batch = {b"k": b"v", b"before": None}
        on_another_thread(lambda: store.write_batch(batch, {TP("t", 0): 3}), "write_batch")
        assert _items(store) == {b"k": b"v"}, "a write_batch on a worker thread was lost"
        assert store.applied_offset(TP("t", 0)) == 3
        on_another_thread(lambda: store.write_batch({b"k": b"again"}), "a second write_batch")
        assert store.get(b"k") == b"again"
        store.set(b"after", b"2")
        assert _items(store) == {b"k": b"again", b"after": b"2"}

    def test_reads_on_the_opening_thread_while_write_batch_runs(self, store: Store) -> None:
        """The event loop keeps reading a table while a checkpoint writes it: every read
        returns a value some batch wrote, and nothing raises on either thread."""
        store.set(b"fixed", b"f")
        values = {i.to_bytes(2, "big") for i in range(CONCURRENT_BATCHES)}
        done = threading.Event()

        def write_all() -> None:
            try:
                for value in sorted(values):
                    store.write_batch({b"k": value, b"x" + value: value})
            finally:
                done.set()

        errors: list[BaseException] = []
        writer = threading.Thread(
            target=lambda: _capture(write_all, errors), name="strm-contract-writer", daemon=True
        )
        deadline = time.monotonic() + THREAD_TIMEOUT
        writer.start()
        reads = 0
        while not done.is_set() and time.monotonic() < deadline and reads < 1_000_000:
            seen = store.get(b"k")
            assert seen is None or seen in values, f"get returned {seen!r}, which nobody wrote"
            assert store.get(b"fixed") == b"f"
            assert store.contains(b"fixed")
            if reads % 20 == 0:
                assert dict(store.items())[b"fixed"] == b"f"
            reads += 1
        writer.join(max(0.0, deadline - time.monotonic()))
        assert not writer.is_alive(), f"write_batch did not finish within {THREAD_TIMEOUT} s"
        if errors:
            error = errors[0]
            pytest.fail(
                f"write_batch raised {type(error).__name__}: {error} on a worker thread while "
                f"the opening thread read the store. {THREAD_RULE}"
            )
        assert store.get(b"k") == max(values)
        assert store.size() == CONCURRENT_BATCHES + 2

    # -- close -----------------------------------------------------------------------------------

    def test_close_twice_is_harmless(self, store: Store) -> None:
        store.set(b"k", b"v")
        store.close()
        store.close()

    def test_close_after_a_write_batch_on_another_thread(self, store: Store) -> None:
        # Shutdown: the last checkpoint's write_batch returns, then close() on the loop thread.
        on_another_thread(lambda: store.write_batch({b"k": b"v"}, {TP("t", 0): 1}), "write_batch")
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


def _capture(call: Callable[[], None], errors: list[BaseException]) -> None:
    try:
        call()
    except BaseException as exc:  # reported on the test's thread
        errors.append(exc)


OpenStore = Callable[..., Store]


class StoreFilesContract:
    """For stores that keep files: where they go, what a reopen finds, and damaged files.

    Give the class ``url`` (the store URL without a directory, such as ``'leveldb://'``) and
    ``plugins`` (what ``App(plugins=...)`` needs to provide it), and define a ``damage`` fixture:
    a function that spoils every file of a closed store under the directory it is given, so
    that opening it again must raise :class:`strm.StoreCorruptError`. The suite builds stores
    as strm does, through the provision of ``url``'s scheme, with contexts whose ``datadir`` is
    in the test's temporary directory (:mod:`strm.testing.contexts`; no app is built).
    """

    url: str = ""
    plugins: tuple[str, ...] = ()

    @pytest.fixture
    def damage(self) -> Callable[[Path], None]:
        raise NotImplementedError(
            "subclass StoreFilesContract and define a 'damage' fixture: a function that spoils "
            "the files of a closed store under the directory it is given"
        )

    @pytest.fixture
    def conf(self, tmp_path: Path) -> Conf:
        """The settings every store of a test shares, as one app's stores do."""
        if not self.url:
            raise NotImplementedError("subclass StoreFilesContract and set url = 'scheme://'")
        return context_settings(
            plugins=list(self.plugins), store=self.url, datadir=str(tmp_path / "data")
        )

    @pytest.fixture
    def open_store(self, conf: Conf) -> Iterator[OpenStore]:
        """Opens stores the way the kernel does, and closes them at teardown."""
        factory = backend_factory("store", self.url, plugins=self.plugins)
        scope = Scope(str(conf.id))
        opened: list[Store] = []

        def open_(table_name: str = "t", partition: int = 0, **extra: Any) -> Store:
            context = store_context(
                conf=conf, scope=scope, table_name=table_name, partition=partition
            )
            store: Store = factory(url=self.url, context=context, **extra)
            opened.append(store)
            return store

        yield open_
        for store in opened:
            store.close()

    def test_the_factory_accepts_arguments_a_later_strm_may_add(
        self, open_store: OpenStore
    ) -> None:
        store = open_store(added_by_a_later_strm=1)
        assert isinstance(store, Store)

    def test_table_partitions_do_not_share_data(self, open_store: OpenStore) -> None:
        stores = {(t, p): open_store(t, p) for t, p in [("t", 0), ("t", 1), ("u", 0)]}
        for (table, partition), store in stores.items():
            store.write_batch({b"k": f"{table}{partition}".encode()}, {TP("c", partition): 5})
        for (table, partition), store in stores.items():
            assert _items(store) == {b"k": f"{table}{partition}".encode()}
        stores["t", 1].clear()
        assert stores["t", 0].get(b"k") == b"t0"
        assert stores["u", 0].applied_offset(TP("c", 0)) == 5

    def test_files_go_under_the_apps_tabledir_only(
        self, conf: Conf, open_store: OpenStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        cwd = tmp_path / "cwd"
        cwd.mkdir()
        monkeypatch.chdir(cwd)
        store = open_store("files", 2)
        store.write_batch({b"k": b"v"}, {TP("c", 2): 1})
        store.close()
        tabledir = Path(conf.tabledir).resolve()
        written = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert written, f"the store wrote no file under {tmp_path}"
        outside = [p for p in written if not p.resolve().is_relative_to(tabledir)]
        assert outside == [], f"files outside tabledir {tabledir}: {outside}"

    def test_a_reopen_through_the_factory_finds_the_data_and_offsets(
        self, open_store: OpenStore
    ) -> None:
        store = open_store("again", 0)
        store.write_batch({b"k": b"v", b"": b""}, {TP("c", 0): 41})
        store.close()
        again = open_store("again", 0)
        assert _items(again) == {b"k": b"v", b"": b""}
        assert again.applied_offset(TP("c", 0)) == 41

    def test_damaged_files_are_a_store_corrupt_error(
        self, conf: Conf, open_store: OpenStore, damage: Callable[[Path], None]
    ) -> None:
        store = open_store("damaged", 0)
        store.write_batch({b"k": b"v"}, {TP("c", 0): 1})
        store.close()
        damage(Path(conf.tabledir))
        with pytest.raises(StoreCorruptError) as info:
            reopened = open_store("damaged", 0)
            list(reopened.items())
        message = str(info.value)
        assert "damaged" in message, f"the error should name the table: {message}"
