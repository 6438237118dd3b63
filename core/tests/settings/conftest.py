"""Fixtures of the settings tests: throw-away modules (plugins, config modules, app modules)."""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

MakeModule = Callable[[str, str], str]


@pytest.fixture
def make_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeModule]:
    """``make_module(stem, source)`` writes an importable module and returns its unique name.

    The modules live in ``tmp_path`` (put on ``sys.path``) and are forgotten after the test, so
    tests never see each other's modules.
    """
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def make(stem: str, source: str) -> str:
        name = f"{stem}_{uuid.uuid4().hex[:10]}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        importlib.invalidate_caches()
        created.append(name)
        return name

    yield make
    for name in created:
        sys.modules.pop(name, None)
