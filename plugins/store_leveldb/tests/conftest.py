"""Fixtures: stores on a real LevelDB under the test's ``tmp_path``, closed at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from strm_store_leveldb import LevelDBStore

OpenStore = Callable[..., LevelDBStore]


@pytest.fixture
def leveldb_dir(tmp_path: Path) -> Path:
    """The directory a ``leveldb:///<dir>`` URL names."""
    return tmp_path / "tables"


@pytest.fixture
def open_store(leveldb_dir: Path) -> Iterator[OpenStore]:
    """``open_store(table_name='t', partition=0, options=None, url=...)``: a store on
    ``leveldb_dir`` by default; every store opened is closed at teardown."""
    opened: list[LevelDBStore] = []

    def open_(
        table_name: str = "t",
        partition: int = 0,
        options: dict[str, Any] | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> LevelDBStore:
        store = LevelDBStore(
            url=f"leveldb://{leveldb_dir}" if url is None else url,
            table_name=table_name,
            partition=partition,
            options=options,
            **kwargs,
        )
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()
