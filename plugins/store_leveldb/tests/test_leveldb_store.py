"""What the LevelDB store adds to the contract: where its files go, how offsets are kept, what a
batch guarantees, and what a closed store says."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import plyvel  # type: ignore[import-untyped]
import pytest
from strm.kernel.errors import StoreError
from strm.kernel.spi import TP
from strm.runtime.backend_contexts import store_context as app_store_context
from strm.testing.pytest_plugin import AppFactory
from strm_store_leveldb import LevelDBStore

OpenStore = Callable[..., LevelDBStore]

# -- where the files go ---------------------------------------------------------------------------


def test_each_table_partition_has_its_own_database_under_the_tabledir(
    strm_app_factory: AppFactory, open_store: OpenStore
) -> None:
    app = strm_app_factory(store="leveldb://", plugins=["strm_store_leveldb"])
    stores = {
        (name, p): open_store(url="leveldb://", context=app_store_context(app, name, p))
        for name in ("counts", "totals")
        for p in (0, 1)
    }
    for (name, partition), store in stores.items():
        store.set(b"k", f"{name}-{partition}".encode())
        assert store.path == app.conf.tabledir / f"{name}-{partition}.leveldb"
        assert (store.path / "CURRENT").is_file()
    assert {(n, p): s.get(b"k") for (n, p), s in stores.items()} == {
        ("counts", 0): b"counts-0",
        ("counts", 1): b"counts-1",
        ("totals", 0): b"totals-0",
        ("totals", 1): b"totals-1",
    }


def test_a_url_with_a_path_puts_the_databases_there(tmp_path: Path, open_store: OpenStore) -> None:
    base = tmp_path / "not yet" / "made"
    store = open_store(url=f"leveldb://{base}".replace(" ", "%20"), table_name="t", partition=2)
    assert store.path == base / "t-2.leveldb"
    assert (base / "t-2.leveldb" / "CURRENT").is_file()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("leveldb://somehost/dir", "takes no host, query or fragment"),
        ("leveldb:///dir?lru_cache_size=5", "takes no host, query or fragment"),
        ("leveldb:relative/dir", "must be absolute"),
    ],
)
def test_urls_the_store_cannot_place_are_errors(
    open_store: OpenStore, url: str, expected: str
) -> None:
    with pytest.raises(StoreError, match=expected) as info:
        open_store(url=url)
    assert repr(url) in str(info.value)


def test_a_url_with_a_password_is_refused_without_showing_it(open_store: OpenStore) -> None:
    with pytest.raises(StoreError, match="takes no host") as info:
        open_store(url="leveldb://u:s3cret@somehost/dir")
    assert "s3cret" not in str(info.value)
    assert "'leveldb://u:***@somehost/dir'" in str(info.value)


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b"])
def test_a_table_name_that_is_not_a_directory_name_is_an_error(
    open_store: OpenStore, name: str
) -> None:
    with pytest.raises(StoreError, match="no path separator"):
        open_store(table_name=name)


def test_a_file_where_the_directory_should_be_is_an_error(
    tmp_path: Path, open_store: OpenStore
) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create"):
        open_store(url=f"leveldb://{tmp_path / 'file' / 'tables'}")


# -- keys, offsets and batches --------------------------------------------------------------------


def test_data_and_offsets_share_one_database_under_separate_prefixes(
    open_store: OpenStore,
) -> None:
    store = open_store()
    store.write_batch({b"k": b"v"}, {TP("t-changelog", 0): 7})
    store.close()
    db = plyvel.DB(str(store.path))
    try:
        raw = dict(db)
    finally:
        db.close()
    assert raw[b"dk"] == b"v"
    offset_keys = [key for key in raw if key.startswith(b"o")]
    assert len(raw) == 2
    assert len(offset_keys) == 1
    assert offset_keys[0].endswith(b"t-changelog")


def test_offsets_of_unusual_topic_partitions_do_not_collide(open_store: OpenStore) -> None:
    store = open_store()
    offsets = {
        TP("a", 1): 1,
        TP("a\x00", 1): 2,
        TP("a", 256): 3,
        TP("", 0): 4,
        TP("tópico", 0): 5,
        TP("t", 2**31 - 1): -1,
    }
    store.write_batch({}, offsets)
    assert {tp: store.applied_offset(tp) for tp in offsets} == offsets
    assert store.size() == 0


def test_a_batch_that_fails_part_way_writes_nothing(open_store: OpenStore) -> None:
    store = open_store()
    store.write_batch({b"kept": b"1"}, {TP("t", 0): 1})
    puts: dict[bytes, object] = {b"new": b"2", b"kept": None, b"bad": 3}
    with pytest.raises(TypeError):
        store.write_batch(puts, {TP("t", 0): 2})  # type: ignore[arg-type]
    assert dict(store.items()) == {b"kept": b"1"}
    assert store.applied_offset(TP("t", 0)) == 1


def test_a_batch_survives_a_process_that_exits_without_closing(
    leveldb_dir: Path, open_store: OpenStore
) -> None:
    script = textwrap.dedent(
        f"""
        import os
        from strm.kernel.spi import TP
        from strm_store_leveldb import LevelDBStore

        from strm.testing.contexts import store_context
        context = store_context(datadir={str(leveldb_dir)!r})
        store = LevelDBStore(url={f"leveldb://{leveldb_dir}"!r}, context=context)
        store.write_batch({{b"a": b"1", b"b": b"2"}}, {{TP("t", 0): 41}})
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    store = open_store()
    assert dict(store.items()) == {b"a": b"1", b"b": b"2"}
    assert store.applied_offset(TP("t", 0)) == 41


def test_items_come_in_key_order_from_a_snapshot(open_store: OpenStore) -> None:
    store = open_store()
    store.write_batch({b"b": b"2", b"a": b"1", b"c": b"3"})
    pairs = store.items()
    store.set(b"d", b"4")
    store.delete(b"a")
    assert list(pairs) == [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]
    assert list(store.items()) == [(b"b", b"2"), (b"c", b"3"), (b"d", b"4")]


def test_clear_leaves_other_partitions_alone(open_store: OpenStore) -> None:
    cleared, kept = open_store(partition=0), open_store(partition=1)
    for store in (cleared, kept):
        store.write_batch({b"k": b"v"}, {TP("t", store.partition): 5})
    cleared.clear()
    assert cleared.size() == 0
    assert kept.size() == 1
    assert kept.applied_offset(TP("t", 1)) == 5


# -- a closed store -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "use",
    [
        lambda s: s.get(b"k"),
        lambda s: s.set(b"k", b"v"),
        lambda s: s.delete(b"k"),
        lambda s: s.contains(b"k"),
        lambda s: s.items(),
        lambda s: s.size(),
        lambda s: s.clear(),
        lambda s: s.write_batch({b"k": b"v"}),
        lambda s: s.applied_offset(TP("t", 0)),
        lambda s: s.set_applied_offset(TP("t", 0), 1),
    ],
)
def test_a_closed_store_says_so(
    open_store: OpenStore, use: Callable[[LevelDBStore], object]
) -> None:
    store = open_store(table_name="counts", partition=4)
    store.close()
    assert store.closed
    with pytest.raises(StoreError, match=r"table 'counts' partition 4 at .* is closed"):
        use(store)


def test_closing_during_a_scan_ends_it_with_the_closed_error(open_store: OpenStore) -> None:
    store = open_store()
    store.write_batch({b"a": b"1", b"b": b"2"})
    pairs = store.items()
    assert next(pairs) == (b"a", b"1")
    store.close()
    with pytest.raises(StoreError, match="is closed"):
        next(pairs)


def test_repr_names_the_table_partition_and_path(open_store: OpenStore) -> None:
    store = open_store(table_name="counts", partition=1)
    assert repr(store) == f"<LevelDBStore 'counts'[1] {store.path}>"
    store.close()
    assert repr(store).endswith("(closed)>")
