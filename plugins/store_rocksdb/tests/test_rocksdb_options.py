"""A table's ``options=`` reach RocksDB: checked in the OPTIONS file RocksDB writes at open."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from strm.kernel.errors import StoreError
from strm.testing.contexts import store_context
from strm_store_rocksdb import OPTIONS, RocksDBStore

OpenStore = Callable[..., RocksDBStore]

README = Path(__file__).resolve().parents[1] / "README.md"

#: option -> (value, where RocksDB reports it, its name there, the value it reports).
#: ``LOG`` means the informational log, which is where the block cache's capacity shows.
CASES: dict[str, tuple[Any, str, str, str]] = {
    "max_open_files": (77, "DBOptions", "max_open_files", "77"),
    "write_buffer_size": (123_456, 'CFOptions "default"', "write_buffer_size", "123456"),
    "max_write_buffer_number": (5, 'CFOptions "default"', "max_write_buffer_number", "5"),
    "min_write_buffer_number_to_merge": (
        2,
        'CFOptions "default"',
        "min_write_buffer_number_to_merge",
        "2",
    ),
    "db_write_buffer_size": (1 << 24, "DBOptions", "db_write_buffer_size", str(1 << 24)),
    "max_total_wal_size": (1 << 25, "DBOptions", "max_total_wal_size", str(1 << 25)),
    "target_file_size_base": (
        1 << 23,
        'CFOptions "default"',
        "target_file_size_base",
        str(1 << 23),
    ),
    "max_bytes_for_level_base": (
        1 << 27,
        'CFOptions "default"',
        "max_bytes_for_level_base",
        str(1 << 27),
    ),
    "level_zero_file_num_compaction_trigger": (
        7,
        'CFOptions "default"',
        "level0_file_num_compaction_trigger",
        "7",
    ),
    "max_background_jobs": (3, "DBOptions", "max_background_jobs", "3"),
    "increase_parallelism": (5, "DBOptions", "max_background_jobs", "5"),
    "keep_log_file_num": (4, "DBOptions", "keep_log_file_num", "4"),
    "bytes_per_sync": (1 << 20, "DBOptions", "bytes_per_sync", str(1 << 20)),
    "wal_bytes_per_sync": (1 << 20, "DBOptions", "wal_bytes_per_sync", str(1 << 20)),
    "use_fsync": (True, "DBOptions", "use_fsync", "true"),
    "paranoid_checks": (False, "DBOptions", "paranoid_checks", "false"),
    "compression_type": ("zstd", 'CFOptions "default"', "compression", "kZSTD"),
    "block_size": (8192, 'TableOptions/BlockBasedTable "default"', "block_size", "8192"),
    "bloom_filter_bits_per_key": (
        10,
        'TableOptions/BlockBasedTable "default"',
        "filter_policy",
        "bloomfilter",
    ),
    "block_cache_size": (3 << 20, "LOG", "capacity", str(3 << 20)),
}


#: Options a case needs beside its own: RocksDB lowers ``min_write_buffer_number_to_merge`` to
#: fit under ``max_write_buffer_number``.
NEEDS: dict[str, dict[str, Any]] = {
    "min_write_buffer_number_to_merge": {"max_write_buffer_number": 4}
}


def reported(path: Path) -> dict[str, dict[str, str]]:
    """What RocksDB says it runs with: the latest OPTIONS file by section, plus the
    ``name : value`` lines of the LOG under ``'LOG'``."""
    latest = max(path.glob("OPTIONS-*"), key=lambda p: int(p.name.partition("-")[2]))
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in latest.read_text().splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif "=" in line:
            name, _, value = line.partition("=")
            current[name] = value
    log = sections.setdefault("LOG", {})
    for line in (path / "LOG").read_text().splitlines():
        name, sep, value = line.strip().partition(" : ")
        if sep:
            log.setdefault(name, value)
    return sections


def test_every_option_has_a_case_here() -> None:
    assert set(CASES) | {"create_if_missing"} == set(OPTIONS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_option_reaches_rocksdb(open_store: OpenStore, name: str) -> None:
    value, section, rocksdb_name, expected = CASES[name]
    store = open_store(options={name: value, **NEEDS.get(name, {})})
    assert reported(store.path)[section][rocksdb_name] == expected


def test_options_combine(open_store: OpenStore) -> None:
    options = {name: case[0] for name, case in CASES.items() if name != "increase_parallelism"}
    store = open_store(options=options)
    store.set(b"k", b"v")
    found = reported(store.path)
    for name in options:
        _, section, rocksdb_name, expected = CASES[name]
        assert found[section][rocksdb_name] == expected, name


def test_the_callers_options_are_read_not_changed(open_store: OpenStore) -> None:
    options = {"write_buffer_size": 123_456, "create_if_missing": True, "compression_type": "lz4"}
    before = copy.deepcopy(options)
    first = open_store("t", 0, options=options)
    second = open_store("t", 1, options=options)
    plain = open_store("t", 2)
    assert options == before
    for store in (first, second):
        assert reported(store.path)['CFOptions "default"']["write_buffer_size"] == "123456"
    assert reported(plain.path)['CFOptions "default"']["write_buffer_size"] == str(64 << 20)


def test_any_mapping_will_do(open_store: OpenStore) -> None:
    store = open_store(options=MappingProxyType({"max_open_files": 50}))
    assert reported(store.path)["DBOptions"]["max_open_files"] == "50"


def test_create_if_missing_false_refuses_a_missing_database(
    open_store: OpenStore, tables: Path
) -> None:
    with pytest.raises(StoreError) as info:
        open_store("counts", 4, options={"create_if_missing": False})
    message = str(info.value)
    assert "table 'counts' partition 4" in message
    assert str(tables / "counts-4.rocksdb") in message
    assert "no database" in message
    assert "create_if_missing is false" in message
    assert not tables.exists()


def test_create_if_missing_false_opens_an_existing_database(open_store: OpenStore) -> None:
    store = open_store("t", 1)
    store.set(b"k", b"v")
    store.close()
    again = open_store("t", 1, options={"create_if_missing": False})
    assert again.get(b"k") == b"v"


def test_an_unknown_option_is_an_error_naming_it(open_store: OpenStore) -> None:
    with pytest.raises(StoreError) as info:
        open_store("counts", 0, options={"write_bufer_size": 1 << 20})
    message = str(info.value)
    assert "table 'counts' partition 0" in message
    assert "unknown option 'write_bufer_size'" in message
    assert "did you mean 'write_buffer_size'?" in message
    assert "max_open_files" in message  # the known options are listed


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"write_buffer_size": "64MB"}, "option 'write_buffer_size': expected a size in bytes"),
        ({"write_buffer_size": 0}, "an integer >= 1"),
        ({"write_buffer_size": True}, "got True"),
        ({"max_open_files": -2}, "an integer >= -1"),
        ({"create_if_missing": "yes"}, "option 'create_if_missing': expected true or false"),
        ({"compression_type": "gzip"}, "expected one of 'none', 'snappy'"),
        ({"max_background_jobs": 2.5}, "expected a count"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_option(
    open_store: OpenStore, options: dict[str, Any], expected: str
) -> None:
    with pytest.raises(StoreError, match="rocksdb store for table 't' partition 0") as info:
        open_store(options=options)
    assert expected in str(info.value)


def test_options_that_are_not_a_mapping_are_an_error(tmp_path: Path) -> None:
    context = replace(store_context(datadir=tmp_path), options=[("max_open_files", 10)])
    with pytest.raises(StoreError, match="options must be a dict"):
        RocksDBStore(url="rocksdb://", context=context)


def test_the_readme_documents_every_option() -> None:
    text = README.read_text()
    missing = [name for name in OPTIONS if f"`{name}`" not in text]
    assert missing == []
