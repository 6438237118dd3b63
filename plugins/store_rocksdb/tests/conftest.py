"""Fixtures shared by the rocksdb store's tests: stores on real RocksDB under ``tmp_path``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from strm.testing.contexts import store_context
from strm_store_rocksdb import RocksDBStore


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    """The directory the tests' stores live under."""
    return tmp_path / "tables"


@pytest.fixture
def tables_url(tables: Path) -> str:
    """``rocksdb:///...`` naming ``tables``."""
    return "rocksdb://" + quote(str(tables))


@pytest.fixture
def open_store(tables_url: str, tmp_path: Path) -> Iterator[Callable[..., RocksDBStore]]:
    """Open a store under ``tables`` (``open_store(table_name='t', partition=0, options=None)``);
    every store opened is closed at teardown."""
    opened: list[RocksDBStore] = []

    def open_(
        table_name: str = "t", partition: int = 0, options: Mapping[str, Any] | None = None
    ) -> RocksDBStore:
        context = store_context(
            datadir=tmp_path, table_name=table_name, partition=partition, options=options
        )
        store = RocksDBStore(url=tables_url, context=context)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()
