"""A provision whose factory is given as ``'module:attribute'``: the module is imported when the
factory is first read, not when the plugin's hook returns the provision nor when the plugin
manager collects and marks it, so an app pays for no backend it does not use."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import strm
from strm.kernel import records


@pytest.fixture
def backend_module(tmp_path: Path) -> Iterator[str]:
    """A throw-away module on ``sys.path`` with a ``Store`` class, not imported yet."""
    name = f"lazy_backend_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent("class Store:\n    pass\n"))
    sys.path.insert(0, str(tmp_path))
    try:
        yield name
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


def test_the_factory_is_imported_when_first_read(backend_module: str) -> None:
    provision = records.store("lazy", f"{backend_module}:Store")
    marked = provision.with_distribution("some-dist")
    assert backend_module not in sys.modules
    assert marked.distribution == "some-dist"
    store_class = marked.factory
    assert backend_module in sys.modules
    assert store_class is sys.modules[backend_module].Store
    assert marked.factory is store_class


def test_an_app_resolves_a_path_only_for_the_backend_it_uses(
    backend_module: str, tmp_path: Path
) -> None:
    plugin = f"{backend_module}_plugin"
    (tmp_path / f"{plugin}.py").write_text(
        "import strm\n"
        "from strm.kernel import records\n"
        "@strm.hookimpl\n"
        "def strm_stores():\n"
        f"    return [records.store('lazy', '{backend_module}:Store')]\n"
    )
    try:
        app = strm.App("lazy-provisions", plugins=[plugin], environ={}, entry_points=False)
        app.configure()
        assert backend_module not in sys.modules
        factory = app.resolve_backend("store", url="lazy://").factory
        assert backend_module in sys.modules
        assert factory is sys.modules[backend_module].Store
    finally:
        sys.modules.pop(plugin, None)


def test_a_path_without_an_attribute_is_refused() -> None:
    with pytest.raises(ValueError, match="'module:attribute'"):
        records.store("lazy", "just_a_module")
