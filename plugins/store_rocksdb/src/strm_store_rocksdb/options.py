"""The ``options=`` a ``rocksdb://`` table accepts, and how they become ``rocksdict.Options``.

Each name is the name of a ``rocksdict.Options`` setter without its ``set_`` prefix
(``write_buffer_size`` calls ``set_write_buffer_size``); the block-table options
(``block_cache_size``, ``block_size``, ``bloom_filter_bits_per_key``) build one
``BlockBasedOptions``. Every store gets a fresh ``Options`` object, and the caller's mapping is
only read, so a table's options are the same for every partition and every reopen.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rocksdict import BlockBasedOptions, Cache, DBCompressionType, Options
from strm.kernel.errors import StoreError

#: ``compression_type`` values, each the name of a ``rocksdict.DBCompressionType`` constructor.
COMPRESSIONS: dict[str, Callable[[], DBCompressionType]] = {
    "none": DBCompressionType.none,
    "snappy": DBCompressionType.snappy,
    "zlib": DBCompressionType.zlib,
    "bz2": DBCompressionType.bz2,
    "lz4": DBCompressionType.lz4,
    "lz4hc": DBCompressionType.lz4hc,
    "zstd": DBCompressionType.zstd,
}


class _Builder:
    """The ``Options`` of one store being built, with its block-table options made on demand."""

    def __init__(self) -> None:
        # raw_mode: keys and values are stored as the bytes given, with no type tag or pickling.
        self.options = Options(raw_mode=True)
        self.options.create_if_missing(True)
        self.options.create_missing_column_families(True)
        self._table: BlockBasedOptions | None = None

    @property
    def table(self) -> BlockBasedOptions:
        if self._table is None:
            self._table = BlockBasedOptions()
        return self._table

    def finish(self) -> Options:
        if self._table is not None:
            self.options.set_block_based_table_factory(self._table)
        return self.options


def _integer(minimum: int, what: str) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"expected {what} (an integer >= {minimum})")
        return value

    return parse


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _compression(value: Any) -> str:
    if value not in COMPRESSIONS:
        raise ValueError(f"expected one of {', '.join(map(repr, COMPRESSIONS))}")
    return str(value)


_bytes = _integer(0, "a size in bytes")
_positive_bytes = _integer(1, "a size in bytes")
_count = _integer(1, "a count")


def _setter(name: str) -> Callable[[_Builder, Any], None]:
    return lambda builder, value: getattr(builder.options, name)(value)


@dataclass(frozen=True)
class OptionSpec:
    """One option: how its value is checked, how it is applied, and what it does."""

    parse: Callable[[Any], Any]
    apply: Callable[[_Builder, Any], None]
    help: str


#: Every option a ``rocksdb://`` table accepts, by name.
OPTIONS: dict[str, OptionSpec] = {
    "create_if_missing": OptionSpec(
        _flag,
        _setter("create_if_missing"),
        "create the database when it does not exist (default true); false makes a missing "
        "database an error",
    ),
    "max_open_files": OptionSpec(
        _integer(-1, "a number of files"),
        _setter("set_max_open_files"),
        "files RocksDB keeps open; -1 (the default) keeps every file open",
    ),
    "write_buffer_size": OptionSpec(
        _positive_bytes, _setter("set_write_buffer_size"), "bytes of one memtable (64 MiB)"
    ),
    "max_write_buffer_number": OptionSpec(
        _count, _setter("set_max_write_buffer_number"), "memtables held in memory at most"
    ),
    "min_write_buffer_number_to_merge": OptionSpec(
        _count,
        _setter("set_min_write_buffer_number_to_merge"),
        "memtables merged together when flushed",
    ),
    "db_write_buffer_size": OptionSpec(
        _bytes,
        _setter("set_db_write_buffer_size"),
        "bytes of memtables across the database's column families; 0 means no limit",
    ),
    "max_total_wal_size": OptionSpec(
        _bytes,
        _setter("set_max_total_wal_size"),
        "bytes of write-ahead log that force a flush; 0 lets RocksDB choose",
    ),
    "target_file_size_base": OptionSpec(
        _positive_bytes, _setter("set_target_file_size_base"), "bytes of an SST file at level 1"
    ),
    "max_bytes_for_level_base": OptionSpec(
        _positive_bytes, _setter("set_max_bytes_for_level_base"), "bytes of level 1"
    ),
    "level_zero_file_num_compaction_trigger": OptionSpec(
        _count,
        _setter("set_level_zero_file_num_compaction_trigger"),
        "level-0 files that start a compaction",
    ),
    "max_background_jobs": OptionSpec(
        _count, _setter("set_max_background_jobs"), "concurrent flushes and compactions"
    ),
    "increase_parallelism": OptionSpec(
        _count,
        _setter("increase_parallelism"),
        "background threads (a good value is the number of cores)",
    ),
    "keep_log_file_num": OptionSpec(
        _count, _setter("set_keep_log_file_num"), "informational LOG files kept"
    ),
    "bytes_per_sync": OptionSpec(
        _bytes, _setter("set_bytes_per_sync"), "sync SST files every this many bytes; 0 never"
    ),
    "wal_bytes_per_sync": OptionSpec(
        _bytes, _setter("set_wal_bytes_per_sync"), "sync the WAL every this many bytes; 0 never"
    ),
    "use_fsync": OptionSpec(
        _flag, _setter("set_use_fsync"), "use fsync instead of fdatasync when syncing files"
    ),
    "paranoid_checks": OptionSpec(
        _flag, _setter("set_paranoid_checks"), "check data aggressively and stop on any error"
    ),
    "compression_type": OptionSpec(
        _compression,
        lambda builder, value: builder.options.set_compression_type(COMPRESSIONS[value]()),
        f"compression of SST blocks: one of {', '.join(COMPRESSIONS)} (RocksDB's default "
        "is snappy)",
    ),
    "block_cache_size": OptionSpec(
        _positive_bytes,
        lambda builder, value: builder.table.set_block_cache(Cache(value)),
        "bytes of the LRU cache of uncompressed blocks, one cache per table partition",
    ),
    "block_size": OptionSpec(
        _positive_bytes,
        lambda builder, value: builder.table.set_block_size(value),
        "bytes of user data per block (4 KiB)",
    ),
    "bloom_filter_bits_per_key": OptionSpec(
        _count,
        lambda builder, value: builder.table.set_bloom_filter(value, False),
        "bits per key of a Bloom filter on each SST file (10 gives about 1% false positives)",
    ),
}


def build_options(options: Mapping[str, Any] | None, where: str) -> Options:
    """A new ``rocksdict.Options`` for one store, from a table's ``options=``.

    ``where`` names the store in errors. An unknown name or a bad value is a
    :class:`~strm.kernel.errors.StoreError` naming the option.
    """
    if options is not None and not isinstance(options, Mapping):
        raise StoreError(
            f"rocksdb store {where}: options must be a dict of option names to values, "
            f"got {options!r}"
        )
    builder = _Builder()
    for name, value in (options or {}).items():
        spec = OPTIONS.get(name)
        if spec is None:
            raise StoreError(f"rocksdb store {where}: unknown option {name!r}{_hint(name)}")
        try:
            parsed = spec.parse(value)
        except ValueError as exc:
            raise StoreError(
                f"rocksdb store {where}: option {name!r}: {exc}, got {value!r}"
            ) from None
        spec.apply(builder, parsed)
    return builder.finish()


def _hint(name: object) -> str:
    close = difflib.get_close_matches(str(name), OPTIONS, n=1)
    suggestion = f"; did you mean {close[0]!r}?" if close else ""
    return f"{suggestion} (known options: {', '.join(sorted(OPTIONS))})"
