"""The installed distribution registers the plugin through its entry point alone."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from typing import Any

import pytest
from strm_example_sqlite import SQLiteStore


def test_the_entry_point_provides_the_store(strm_app_factory: Callable[..., Any]) -> None:
    try:
        metadata.distribution("strm-example-sqlite")
    except metadata.PackageNotFoundError:
        pytest.skip("strm-example-sqlite is not installed (pip install ./examples/sqlite_store)")
    app = strm_app_factory(entry_points=True, store="sqlite://")
    assert app.resolve_backend("store").factory is SQLiteStore
