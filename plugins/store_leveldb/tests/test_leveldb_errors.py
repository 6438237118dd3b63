"""A locked or damaged database is a strm error that says what happened and what to do."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import plyvel  # type: ignore[import-untyped]
import pytest
from strm.kernel.errors import StoreCorruptError, StoreError, StoreLockedError
from strm.kernel.spi import TP
from strm_store_leveldb import LevelDBStore

OpenStore = Callable[..., LevelDBStore]

# -- locked ---------------------------------------------------------------------------------------


def test_a_second_open_in_this_process_is_locked(open_store: OpenStore) -> None:
    first = open_store(table_name="counts", partition=2)
    first.set(b"k", b"v")
    with pytest.raises(StoreLockedError) as info:
        open_store(table_name="counts", partition=2)
    message = str(info.value)
    assert "table 'counts' partition 2" in message
    assert f"at {first.path} is locked" in message
    assert str(first.path / "LOCK") in message
    assert "another worker is running on the same datadir" in message
    assert first.get(b"k") == b"v", "the store holding the lock is unharmed"
    first.close()
    assert open_store(table_name="counts", partition=2).get(b"k") == b"v"


def test_a_database_held_by_another_process_is_locked(
    leveldb_dir: Path, open_store: OpenStore
) -> None:
    held = open_store(table_name="counts", partition=0)
    script = textwrap.dedent(
        f"""
        import json
        from strm.testing.contexts import store_context
        from strm_store_leveldb import LevelDBStore

        try:
            context = store_context(datadir={str(leveldb_dir)!r}, table_name="counts")
            LevelDBStore(url={f"leveldb://{leveldb_dir}"!r}, context=context)
        except Exception as exc:
            print(json.dumps([type(exc).__name__, str(exc)]))
        else:
            print(json.dumps(["opened", ""]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    kind, message = json.loads(result.stdout)
    assert kind == "StoreLockedError", result.stdout + result.stderr
    assert f"table 'counts' partition 0 at {held.path} is locked" in message
    assert "same datadir" in message


# -- corrupt --------------------------------------------------------------------------------------


def filled(open_store: OpenStore) -> Path:
    """The path of a closed database with its data compacted into table (.ldb) files."""
    store = open_store(table_name="counts")
    store.write_batch(
        {f"key-{i:05}".encode(): b"value" * 20 for i in range(2000)}, {TP("t", 0): 1999}
    )
    store.close()
    db = plyvel.DB(str(store.path))
    db.compact_range()
    db.close()
    assert list(store.path.glob("*.ldb")), "compaction wrote table files"
    return store.path


def garble(path: Path, pattern: str) -> None:
    for file in path.glob(pattern):
        file.write_bytes(b"garbage" * 10)


def flip_bits(path: Path, pattern: str) -> None:
    for file in path.glob(pattern):
        data = bytearray(file.read_bytes())
        for i in range(10, len(data) - 100, 7):
            data[i] ^= 0xFF
        file.write_bytes(bytes(data))


def remove(path: Path, pattern: str) -> None:
    for file in path.glob(pattern):
        file.unlink()


def assert_says_corrupt(error: StoreCorruptError, path: Path) -> None:
    message = str(error)
    assert f"table 'counts' partition 0 at {path} is corrupt" in message
    assert f"Delete the directory {path}" in message
    assert "rebuilds the table from its changelog" in message


@pytest.mark.parametrize(
    ("damage", "pattern"),
    [
        (garble, "CURRENT"),
        (garble, "MANIFEST-*"),
        (garble, "*"),
        (remove, "MANIFEST-*"),
        (remove, "*.ldb"),
    ],
)
def test_damaged_files_are_found_at_open(
    open_store: OpenStore, damage: Callable[[Path, str], None], pattern: str
) -> None:
    path = filled(open_store)
    damage(path, pattern)
    with pytest.raises(StoreCorruptError) as info:
        open_store(table_name="counts")
    assert_says_corrupt(info.value, path)


@pytest.mark.parametrize("damage", [garble, flip_bits])
@pytest.mark.parametrize(
    "read",
    [
        lambda s: s.get(b"key-00005"),
        lambda s: s.contains(b"key-00005"),
        lambda s: list(s.items()),
        lambda s: s.size(),
        lambda s: s.clear(),
    ],
)
def test_damaged_table_files_are_found_when_read_not_taken_for_missing_keys(
    open_store: OpenStore, damage: Callable[[Path, str], None], read: Callable[[Any], object]
) -> None:
    path = filled(open_store)
    damage(path, "*.ldb")
    store = open_store(table_name="counts")
    with pytest.raises(StoreCorruptError) as info:
        read(store)
    assert_says_corrupt(info.value, path)


def test_deleting_the_directory_as_told_gives_an_empty_store(open_store: OpenStore) -> None:
    path = filled(open_store)
    garble(path, "CURRENT")
    with pytest.raises(StoreCorruptError):
        open_store(table_name="counts")
    shutil.rmtree(path)
    store = open_store(table_name="counts")
    assert store.size() == 0
    assert store.applied_offset(TP("t", 0)) is None, "so the table is rebuilt from the start"


def test_an_io_error_of_the_machine_is_not_called_corruption(
    open_store: OpenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(name: str, **kwargs: Any) -> Any:
        raise plyvel.IOError(f"IO error: {name}/CURRENT: Permission denied".encode())

    monkeypatch.setattr(plyvel, "DB", refuse)
    with pytest.raises(StoreError) as info:
        open_store(table_name="counts")
    assert type(info.value) is StoreError
    assert "table 'counts' partition 0" in str(info.value)
    assert "opening failed" in str(info.value)
    assert "Permission denied" in str(info.value)
