"""The kernel's modules import each other in one direction only, and nothing below the app
imports ``strm.app``.

The graph is read from the sources (``ast``), not from ``sys.modules``, so an import inside a
function counts as much as one at the top of a module. Imports under ``if TYPE_CHECKING:`` are
kept apart: they never run, so they cannot make a circle at import time, and they may name a
module of a higher layer for an annotation; all but one rule below is about the imports that
run. The exception is ``strm.app``: the runtime names what it needs of the app through
:class:`strm.app_protocol.AppLike`, so that even for the type checker the app sits above the
pieces it is built from.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCES = Path(__file__).resolve().parents[1] / "core" / "src"

#: Groups of modules from the bottom of the graph to the top; a module belongs to the group of
#: the longest prefix that names it. A module may import its own group and the groups below.
#: ``strm.web`` sits under the app, not beside the CLI: ``App.page`` and ``app.web`` are built
#: from its views and its server.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        (
            "strm.app_protocol", "strm.auth", "strm.blocking", "strm.checkpoint_gate",
            "strm.contexts",
            "strm.errors", "strm.flow_control", "strm.hookspecs", "strm.ids", "strm.model_types",
            "strm.plugins.known", "strm.records", "strm.redaction", "strm.settings",
            "strm.signals", "strm.source_positions", "strm.spi", "strm.suggestions",
            "strm.tracing",
        ),
    ),
    ("data", ("strm.codecs", "strm.models", "strm.schema", "strm.serializers")),
    # Values both the backends and the runtime use: assignment plans, delivery receipts,
    # changelog seals, injected faults, HTTP requests and responses.
    (
        "shared",
        (
            "strm.assignor", "strm.deliveries", "strm.tables.seals", "strm.testing.faults",
            "strm.web.exceptions", "strm.web.http",
        ),
    ),
    ("backends", ("strm.caches", "strm.stores", "strm.transports")),
    ("plugins", ("strm.plugins",)),
    (
        "runtime",
        (
            "strm.agents", "strm.assignor", "strm.backend_contexts", "strm.channels", "strm.compat",
            "strm.conductor", "strm.conductor_topics", "strm.conductor_watch",
            "strm.cron", "strm.deadletters", "strm.deliveries", "strm.discovery", "strm.events",
            "strm.gauges", "strm.inbox", "strm.leader", "strm.loop_lag",
            "strm.monitor_figures", "strm.monitor_snapshot", "strm.rebalance_clock",
            "strm.producer_handle", "strm.producing",
            "strm.progress", "strm.router", "strm.runtime", "strm.sender", "strm.sensors",
            "strm.services", "strm.soon", "strm.stream_batches", "strm.stream_reading",
            "strm.streams", "strm.structured_logs", "strm.tables",
            "strm.timers", "strm.worker_ready", "strm.testing.faults", "strm.testing.kafka",
            # The contract suites build backends from contexts, as the runtime does.
            "strm.testing.contexts", "strm.testing.contracts",
        ),
    ),
    ("web", ("strm.web",)),
    (
        "app",
        (
            "strm.app", "strm.default_classes", "strm.worker", "strm.worker_console",
            "strm.worker_logging",
        ),
    ),
    ("top", ("strm", "strm.__main__", "strm.cli", "strm.testing", "strm.types")),
)  # fmt: skip

#: Imports against the direction, each made inside the one function that needs it, and why.
UPWARD_ON_PURPOSE: dict[tuple[str, str], str] = {
    ("strm.app", "strm.cli.app_commands"): "@app.command builds a command of the command line",
    ("strm.app", "strm.cli.main"): "app.main() runs the command line, as Faust's does",
}

#: The only modules that may import ``strm.app``, even for annotations: the package, the
#: ``AppT`` alias, the command line, the web server's entry points, the pytest fixtures (they
#: make apps) and the app itself.
MAY_IMPORT_APP: tuple[str, ...] = (
    "strm", "strm.app", "strm.types", "strm.cli", "strm.web", "strm.testing.pytest_plugin",
)  # fmt: skip

#: The package names itself only: ``strm`` as a prefix would cover every module.
ROOT = "strm"


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    type_only: bool

    def __str__(self) -> str:
        kind = " (TYPE_CHECKING)" if self.type_only else ""
        return f"{self.importer}:{self.line} imports {self.imported}{kind}"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def imports_of(source: str, module: str, *, package: bool, known: set[str]) -> list[Import]:
    """Every ``strm`` module the source imports, each resolved to the most precise known module
    (``from strm import records`` is ``strm.records``)."""
    found: list[Import] = []
    here = module.split(".") if package else module.split(".")[:-1]

    def add(name: str, line: int, type_only: bool) -> None:
        while name not in known and "." in name:
            name = name.rpartition(".")[0]
        edge = Import(module, name, line, type_only)
        if name in known and name != module and edge not in found:
            found.append(edge)

    def walk(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                walk(child, True)
            for child in node.orelse:
                walk(child, type_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno, type_only)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = here[: len(here) - (node.level - 1)]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for alias in node.names:
                add(f"{base}.{alias.name}", node.lineno, type_only)
        for child in ast.iter_child_nodes(node):
            walk(child, type_only)

    walk(ast.parse(source), False)
    return found


def kernel_graph(root: Path = SOURCES) -> list[Import]:
    paths = {module_name(path, root): path for path in (root / "strm").rglob("*.py")}
    known = set(paths)
    graph: list[Import] = []
    for name, path in sorted(paths.items()):
        package = path.name == "__init__.py"
        graph += imports_of(path.read_text(encoding="utf-8"), name, package=package, known=known)
    return graph


def _longest_prefix(module: str, prefixes: tuple[str, ...]) -> str | None:
    matches = [p for p in prefixes if module == p or (p != ROOT and module.startswith(f"{p}."))]
    return max(matches, key=len, default=None)


def layer_of(module: str) -> int:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for rank, (_, prefixes) in enumerate(LAYERS):
        prefix = _longest_prefix(module, prefixes)
        if prefix is not None and (best is None or len(prefix) > best[0]):
            best = (len(prefix), rank)
    if best is None:
        raise LookupError(f"{module} belongs to no group of LAYERS")
    return best[1]


def against_the_direction(graph: list[Import]) -> list[Import]:
    return [
        edge
        for edge in graph
        if not edge.type_only
        and layer_of(edge.imported) > layer_of(edge.importer)
        and (edge.importer, edge.imported) not in UPWARD_ON_PURPOSE
    ]


def importers_of_the_app(graph: list[Import]) -> list[Import]:
    return [
        edge
        for edge in graph
        if edge.imported == "strm.app" and _longest_prefix(edge.importer, MAY_IMPORT_APP) is None
    ]


GRAPH = kernel_graph()


# -- the reader ---------------------------------------------------------------------------------


def test_the_reader_tells_type_only_imports_and_resolves_names() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import strm.spi\n"
        "from strm import records\n"
        "from . import errors\n"
        "if TYPE_CHECKING:\n"
        "    from strm.app import App\n"
        "def late():\n"
        "    from strm.conductor import Conductor\n"
    )
    known = {"strm", "strm.spi", "strm.records", "strm.errors", "strm.app", "strm.conductor"}
    found = imports_of(source, "strm.streams", package=False, known=known)
    assert [(i.imported, i.type_only) for i in found] == [
        ("strm.spi", False),
        ("strm.records", False),
        ("strm.errors", False),
        ("strm.app", True),
        ("strm.conductor", False),
    ]


def test_the_rules_catch_an_upward_import_and_an_import_of_the_app() -> None:
    up = Import("strm.spi", "strm.conductor", 1, type_only=False)
    on_purpose = Import("strm.app", "strm.cli.main", 5, type_only=False)
    typed_up = Import("strm.spi", "strm.conductor", 2, type_only=True)
    app = Import("strm.streams", "strm.app", 3, type_only=True)
    allowed = Import("strm.cli.main", "strm.app", 4, type_only=False)
    assert against_the_direction([up, typed_up, on_purpose]) == [up]
    assert importers_of_the_app([app, allowed]) == [app]


def test_the_graph_is_read() -> None:
    runtime = [edge for edge in GRAPH if not edge.type_only]
    typed = [edge for edge in GRAPH if edge.type_only]
    assert len(runtime) > 300
    assert len(typed) > 50
    assert any(edge.importer == "strm.app" and edge.imported == "strm.conductor" for edge in GRAPH)


# -- the rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", sorted({module_name(p, SOURCES) for p in SOURCES.rglob("*.py")}))
def test_every_module_has_a_group(module: str) -> None:
    layer_of(module)


def test_imports_that_run_go_down_the_layers() -> None:
    wrong = [
        f"{edge} ({LAYERS[layer_of(edge.importer)][0]} -> {LAYERS[layer_of(edge.imported)][0]})"
        for edge in against_the_direction(GRAPH)
    ]
    assert not wrong, "imports against the direction of LAYERS:\n" + "\n".join(wrong)


def test_every_upward_import_on_purpose_is_still_made() -> None:
    made = {(edge.importer, edge.imported) for edge in GRAPH if not edge.type_only}
    for importer, imported in UPWARD_ON_PURPOSE:
        assert (importer, imported) in made, f"stale entry of UPWARD_ON_PURPOSE: {importer}"
        assert layer_of(imported) > layer_of(importer)


def test_no_module_below_the_app_imports_strm_app() -> None:
    """The circle through ``App`` is gone: the runtime annotates with ``AppLike``."""
    wrong = [str(edge) for edge in importers_of_the_app(GRAPH)]
    assert not wrong, "use strm.app_protocol.AppLike instead:\n" + "\n".join(wrong)


def test_the_app_protocol_imports_nothing_of_strm_at_run_time() -> None:
    assert not [e for e in GRAPH if e.importer == "strm.app_protocol" and not e.type_only]
