"""Fixtures: stores on a real LevelDB under the test's ``tmp_path``, closed at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from strm.kernel.contexts import StoreContext
from strm.testing.contexts import store_context
from strm_store_leveldb import LevelDBStore

OpenStore = Callable[..., LevelDBStore]


@pytest.fixture
def leveldb_dir(tmp_path: Path) -> Path:
    """The directory a ``leveldb:///<dir>`` URL names."""
    return tmp_path / "tables"


@pytest.fixture
def open_store(leveldb_dir: Path, tmp_path: Path) -> Iterator[OpenStore]:
    """``open_store(table_name='t', partition=0, options=None, url=..., context=...)``: a store
    on ``leveldb_dir`` by default, with a context of its own unless given one (whose table,
    partition and options then count); every store opened is closed at teardown."""
    opened: list[LevelDBStore] = []

    def open_(
        table_name: str = "t",
        partition: int = 0,
        options: dict[str, Any] | None = None,
        url: str | None = None,
        context: StoreContext | None = None,
        **kwargs: Any,
    ) -> LevelDBStore:
        if context is None:
            context = store_context(
                datadir=tmp_path / "data",
                table_name=table_name,
                partition=partition,
                options=options,
            )
        store = LevelDBStore(
            url=f"leveldb://{leveldb_dir}" if url is None else url, context=context, **kwargs
        )
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()
