"""docs/tables.md runs, and keeps up with the table and window API.

* Every ```python block of docs/tables.md that creates an app (``app = strm.App(``) is a
  program with an ``async def main()``: it is executed as a module of its own, on a fresh
  ``memory://`` broker given through ``BROKER_URL`` and a temporary data directory given through
  ``APP_DATADIR`` (environment variables beat ``App(...)`` arguments), and its ``main()`` is run
  within a time limit. The programs assert their own results.
* The page names every keyword argument of ``app.Table`` (those of the table class it builds),
  every windowing call and its arguments, and every public method of ``WindowWrapper`` and
  ``WindowSet``: adding one without documenting it fails here.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import strm
from strm.builtins.memory_transport import drop_broker, unique_url
from strm.tables.table import Collection, Table
from strm.tables.windows import WindowSet, WindowWrapper

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "tables.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
MAIN_TIMEOUT = 10.0
TEXT = PAGE.read_text(encoding="utf-8")


def programs() -> list[tuple[int, str]]:
    """``(line, source)`` of each python block that creates an app; ``line`` is the block's
    first line in the page, so tracebacks point into docs/tables.md."""
    found = []
    for match in FENCE.finditer(TEXT):
        source = match.group(1)
        if "app = strm.App(" in source:
            found.append((TEXT.count("\n", 0, match.start(1)) + 1, source))
    return found


PROGRAMS = programs()


def test_the_page_has_programs_to_run() -> None:
    assert len(PROGRAMS) >= 6, "docs/tables.md lost its runnable examples"


@pytest.mark.parametrize(
    ("line", "source"), PROGRAMS, ids=[f"tables.md:{line}" for line, _ in PROGRAMS]
)
def test_page_program_runs(
    line: int, source: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = unique_url("tables-doc")
    monkeypatch.setenv("BROKER_URL", url)
    # The examples are about streams and tables; their web servers (0.0.0.0:6066 by default)
    # stay off, as tests bind loopback only.
    monkeypatch.setenv("APP_WEB_ENABLED", "false")
    monkeypatch.setenv("APP_DATADIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    name = f"strm_tables_doc_line_{line}"
    module = types.ModuleType(name)
    module.__file__ = str(PAGE)
    monkeypatch.setitem(sys.modules, name, module)
    code = compile("\n" * (line - 1) + source, str(PAGE), "exec")
    try:
        exec(code, module.__dict__)
        main = module.__dict__.get("main")
        assert inspect.iscoroutinefunction(main), "a program of tables.md needs async def main()"
        app = module.__dict__.get("app")
        if isinstance(app, strm.App):
            assert app.conf.broker == [url], "BROKER_URL did not replace the example's broker"
        asyncio.run(asyncio.wait_for(main(), MAIN_TIMEOUT))
        if isinstance(app, strm.App):
            assert app.crash_error is None, f"the example crashed: {app.crash_error!r}"
    finally:
        drop_broker(url)


# -- the page keeps up with the API -------------------------------------------------------------


def mentioned_in_code(name: str) -> bool:
    """``name`` appears as a word inside some `code span` of the page."""
    return re.search(rf"`[^`\n]*\b{re.escape(name)}\b[^`\n]*`", TEXT) is not None


def keyword_arguments(function: Callable[..., Any], skip: tuple[str, ...] = ()) -> list[str]:
    parameters = inspect.signature(function).parameters.values()
    return [
        p.name
        for p in parameters
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in skip
    ]


def public_methods(cls: type) -> list[str]:
    return [
        name
        for name, member in vars(cls).items()
        if not name.startswith("_") and inspect.isfunction(member)
    ]


TABLE_ARGUMENTS = keyword_arguments(Collection.__init__, skip=("self", "app"))


def test_the_introspection_finds_the_api() -> None:
    assert {"default", "store", "on_window_close", "extra_topic_configs"} <= set(TABLE_ARGUMENTS)
    assert {"current", "now", "value", "delta"} <= set(public_methods(WindowSet))
    assert {"relative_to_now", "relative_to_field", "keys"} <= set(public_methods(WindowWrapper))


@pytest.mark.parametrize("argument", TABLE_ARGUMENTS)
def test_every_table_argument_is_documented(argument: str) -> None:
    assert mentioned_in_code(argument), f"docs/tables.md does not mention app.Table({argument}=)"


def test_the_documented_signature_lists_every_argument() -> None:
    match = re.search(r"`app\.Table\(name, \*, (.*?)\)`", TEXT, re.DOTALL)
    assert match, "docs/tables.md lost the signature of app.Table"
    listed = {part.split("=")[0].strip() for part in match.group(1).split(",")}
    assert listed | {"name"} == set(TABLE_ARGUMENTS)


@pytest.mark.parametrize("method", ["tumbling", "hopping", "sliding", "session"])
def test_every_window_kind_is_documented(method: str) -> None:
    function = getattr(Table, method)
    arguments = keyword_arguments(function, skip=("self",))
    # keyword arguments given to the window or to the wrapper
    arguments += ["expires", "grace"]
    arguments += keyword_arguments(WindowWrapper.__init__, skip=("self", "table", "window"))
    for name in [method, *arguments]:
        assert mentioned_in_code(name), f"docs/tables.md does not mention {name} of {method}()"


@pytest.mark.parametrize(
    ("cls", "method"),
    [(cls, name) for cls in (WindowWrapper, WindowSet) for name in public_methods(cls)],
    ids=lambda x: x if isinstance(x, str) else x.__name__,
)
def test_every_public_window_method_is_documented(cls: type, method: str) -> None:
    assert mentioned_in_code(method), f"docs/tables.md does not mention {cls.__name__}.{method}"
