"""What a locked or corrupt database, or a bad URL, looks like to the user."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from strm.kernel.errors import StoreCorruptError, StoreError, StoreLockedError
from strm.testing.contexts import store_context
from strm_store_rocksdb import RocksDBStore

OpenStore = Callable[..., RocksDBStore]

GARBAGE = b"\x00strm test garbage\xff" * 64


def overwrite(path: Path) -> None:
    """Write garbage over the whole file, as a failing disk might."""
    path.write_bytes(GARBAGE[: max(path.stat().st_size, 64)])


def filled(open_store: OpenStore, table_name: str = "t", partition: int = 0) -> Path:
    """A closed database holding 20,000 keys in an SST file; its path."""
    store = open_store(table_name, partition, options={"compression_type": "none"})
    store.write_batch({b"key-%06d" % i: b"value-%d" % i for i in range(20_000)})
    store.close()
    open_store(table_name, partition).close()  # opening flushes the write-ahead log to an SST
    assert list(store.path.glob("*.sst")), "the test needs an SST file to break"
    return store.path


# -- locked -----------------------------------------------------------------------------------


def assert_locked_message(message: str, path: Path) -> None:
    assert "table 'counts' partition 2" in message
    assert str(path) in message
    assert "another worker on the same datadir probably holds it" in message


def test_a_database_open_in_this_process_is_locked(open_store: OpenStore) -> None:
    first = open_store("counts", 2)
    with pytest.raises(StoreLockedError) as info:
        open_store("counts", 2)
    assert_locked_message(str(info.value), first.path)
    assert "in this process" in str(info.value)
    first.close()
    assert open_store("counts", 2).size() == 0


def test_a_database_open_in_another_process_is_locked(
    open_store: OpenStore, tables_url: str, tmp_path: Path
) -> None:
    held = open_store("counts", 2)
    child = textwrap.dedent(
        f"""
        import json
        from strm.kernel.errors import StoreError
        from strm.testing.contexts import store_context
        from strm_store_rocksdb import RocksDBStore
        context = store_context(datadir={str(tmp_path)!r}, table_name="counts", partition=2)
        try:
            RocksDBStore(url={tables_url!r}, context=context)
        except StoreError as exc:
            print(json.dumps([type(exc).__name__, str(exc)]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=True
    )
    kind, message = json.loads(result.stdout)
    assert kind == "StoreLockedError"
    assert_locked_message(message, held.path)
    assert "in this process" not in message


# -- corrupt ----------------------------------------------------------------------------------


def assert_corrupt_message(message: str, path: Path) -> None:
    assert "table 't' partition 0" in message
    assert str(path) in message
    assert f"delete the directory {path} and strm rebuilds the table from its changelog" in message


@pytest.mark.parametrize("pattern", ["CURRENT", "MANIFEST-*", "*.sst"])
def test_a_corrupt_database_is_refused_until_it_is_deleted(
    open_store: OpenStore, pattern: str
) -> None:
    path = filled(open_store)
    broken = list(path.glob(pattern))
    assert broken
    for file in broken:
        overwrite(file)
    with pytest.raises(StoreCorruptError) as info:
        open_store()
    assert_corrupt_message(str(info.value), path)
    shutil.rmtree(path)  # what the message says to do
    assert open_store().size() == 0


def test_a_corrupt_block_found_by_a_read_is_an_error_not_missing_data(
    open_store: OpenStore,
) -> None:
    path = filled(open_store)
    (sst,) = path.glob("*.sst")
    with sst.open("r+b") as file:  # a data block near the start; index and footer stay intact
        file.seek(5000)
        file.write(GARBAGE)
    store = open_store()
    errors: list[StoreCorruptError] = []
    for read in (store.size, lambda: list(store.items())):
        with pytest.raises(StoreCorruptError) as info:
            read()
        errors.append(info.value)
    with pytest.raises(StoreCorruptError) as info:
        for i in range(20_000):
            store.get(b"key-%06d" % i)
    errors.append(info.value)
    for error in errors:
        assert_corrupt_message(str(error), path)
    # The errors are still referenced, yet closing releases the database for the rebuild.
    store.close()
    shutil.rmtree(path)
    assert open_store().size() == 0


# -- other failures ---------------------------------------------------------------------------


def test_a_database_path_that_is_a_file_is_a_store_error(
    open_store: OpenStore, tables: Path
) -> None:
    tables.mkdir()
    (tables / "t-0.rocksdb").write_text("not a directory")
    with pytest.raises(StoreError) as info:
        open_store()
    assert type(info.value) is StoreError
    assert f"cannot open {tables / 't-0.rocksdb'}" in str(info.value)


@pytest.mark.parametrize(
    "url", ["rocksdb://localhost/data", "rocksdb:///data?x=1", "rocksdb:///data#frag"]
)
def test_a_url_with_a_host_or_query_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="a rocksdb:// URL names a directory"):
        RocksDBStore(url=url, context=store_context(datadir=tmp_path))


def test_a_url_with_a_password_is_refused_without_showing_it(tmp_path: Path) -> None:
    context = store_context(datadir=tmp_path)
    with pytest.raises(StoreError, match="names a directory") as info:
        RocksDBStore(url="rocksdb://u:s3cret@localhost/data", context=context)
    assert "s3cret" not in str(info.value)
    assert "'rocksdb://u:***@localhost/data'" in str(info.value)


@pytest.mark.parametrize("name", ["", "a/b", "..", "."])
def test_a_table_name_that_is_not_a_directory_name_is_refused(
    tables_url: str, name: str, tmp_path: Path
) -> None:
    context = store_context(datadir=tmp_path, table_name=name)
    with pytest.raises(StoreError, match="cannot name a table's directory"):
        RocksDBStore(url=tables_url, context=context)


def test_a_key_that_is_not_bytes_is_the_callers_error(open_store: OpenStore) -> None:
    store = open_store()
    with pytest.raises((TypeError, ValueError, KeyError)) as info:
        store.set("text", b"v")  # type: ignore[arg-type]
    assert not isinstance(info.value, StoreError)
