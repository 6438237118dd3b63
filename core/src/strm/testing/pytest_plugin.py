"""pytest fixtures for apps with chosen plugins.

``strm_app_factory`` builds isolated apps: no environment variables, no installed entry points
unless asked for, and a data directory inside the test's ``tmp_path``::

    def test_my_store(strm_app_factory):
        app = strm_app_factory(plugins=["strm_mystore"], store="mystore://")
        assert app.resolve_backend("store").name == "mystore"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from strm.app import App

AppFactory = Callable[..., App]


@pytest.fixture
def strm_app_factory(tmp_path: Path) -> AppFactory:
    """Make an App: ``strm_app_factory(id='test-app', plugins=(), environ=None,
    entry_points=False, **settings)``.

    ``environ`` defaults to an empty mapping so the test machine's environment cannot leak in;
    ``entry_points=True`` also loads every installed plugin of group ``strm``.
    """

    def make(
        id: str = "test-app",
        *,
        plugins: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
        entry_points: bool = False,
        **settings: Any,
    ) -> App:
        settings.setdefault("datadir", str(tmp_path / "data"))
        return App(
            id,
            plugins=plugins,
            environ={} if environ is None else environ,
            entry_points=entry_points,
            **settings,
        )

    return make


@pytest.fixture
def strm_app(strm_app_factory: AppFactory) -> App:
    """A configured app with the built-in plugins only."""
    return strm_app_factory().configure()
