"""The kernel's modules import each other in one direction only, sit in the directory of their
layer, stay under 600 lines, and nothing below the app imports ``strm.app``.

The graph is read from the sources (``ast``), not from ``sys.modules``, so an import inside a
function counts as much as one at the top of a module. Imports under ``if TYPE_CHECKING:`` are
kept apart: they never run, so they cannot make a circle at import time, and they may name a
module of a higher layer for an annotation; all but one rule below is about the imports that
run. The exception is ``strm.app``: the runtime names what it needs of the app through
:class:`strm.kernel.app_protocol.AppLike`, so that even for the type checker the app sits above the
pieces it is built from.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCES = Path(__file__).resolve().parents[1] / "core" / "src"

#: The layers from the bottom of the graph to the top; a module belongs to the layer of the
#: longest prefix that names it, and may import its own layer and the layers below. The kernel,
#: the runtime and the built-in plugins each have a directory of their own (``strm/kernel/``,
#: ``strm/runtime/``, ``strm/builtins/``); the modules users import (Faust's paths) stay at the
#: top of the package, each in the layer of what it is: models and codecs are data the runtime
#: moves, streams, tables and agents are what the runtime runs, the app sits above everything it
#: is built from. See docs/architecture.md, "Layout".
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # What plugins build on: the hooks, the SPI, records, contexts, settings, errors, the
    # plugin manager. Imports nothing of strm outside its directory.
    ("kernel", ("strm.kernel",)),
    # Values: models, codecs, schemas; and the HTTP requests and responses the router forwards.
    (
        "data",
        (
            "strm.codecs", "strm.models", "strm.schema", "strm.serializers",
            "strm.web.exceptions", "strm.web.http",
        ),
    ),
    # What runs between start and stop (strm/runtime/), with the classes users touch that it
    # runs: channels, streams, events, tables, agents, services, sensors, the worker.
    (
        "runtime",
        (
            "strm.runtime",
            "strm.agents", "strm.caches", "strm.channels", "strm.compat", "strm.events",
            "strm.monitor_snapshot", "strm.router", "strm.sensors", "strm.services",
            "strm.signals", "strm.streams", "strm.tables", "strm.worker", "strm.testing.faults",
            "strm.testing.kafka",
        ),
    ),
    ("web", ("strm.web",)),
    # The plugins strm ships: built like any plugin, on everything below; only the app (and the
    # command line and testing helpers, which make plugin managers) hand them to the manager.
    ("builtins", ("strm.builtins",)),
    ("app", ("strm.app",)),
    ("top", ("strm", "strm.__main__", "strm.cli", "strm.testing", "strm.types")),
)  # fmt: skip

#: The directories that hold one layer each, and that layer: a module in the directory is of the
#: layer, and a module of the layer is in the directory.
DIRECTORIES: dict[str, str] = {
    "strm.kernel": "kernel",
    "strm.runtime": "runtime",
    "strm.builtins": "builtins",
}

#: Outside those directories, only what users import: Faust's module paths (``faust.streams``,
#: ``faust.tables``, ``faust.web``, ...) and the paths the docs name. An internal module goes
#: into the directory of its layer instead.
API: tuple[str, ...] = (
    "strm", "strm.__main__", "strm.agents", "strm.app", "strm.caches", "strm.channels",
    "strm.cli", "strm.codecs", "strm.compat", "strm.events", "strm.models",
    "strm.monitor_snapshot", "strm.router",
    "strm.schema", "strm.sensors", "strm.serializers", "strm.services", "strm.signals",
    "strm.streams", "strm.tables", "strm.testing", "strm.types", "strm.web", "strm.worker",
)  # fmt: skip

#: Imports against the direction, each made inside the one function that needs it, and why.
UPWARD_ON_PURPOSE: dict[tuple[str, str], str] = {
    ("strm.app.decorators", "strm.cli.app_commands"): "@app.command builds a command of the CLI",
    ("strm.app.decorators", "strm.cli.main"): "app.main() runs the command line, as Faust's does",
}

#: The only modules that may import ``strm.app``, even for annotations: the package, the
#: ``AppT`` alias, the command line, the web server's entry points, the pytest fixtures (they
#: make apps) and the app itself.
MAY_IMPORT_APP: tuple[str, ...] = (
    "strm", "strm.app", "strm.types", "strm.cli", "strm.web", "strm.testing.pytest_plugin",
)  # fmt: skip

#: No module is longer than this many lines: a module has one job.
MAX_LINES = 600

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
    (``from strm.kernel import records`` is ``strm.kernel.records``)."""
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
        "import strm.kernel.spi\n"
        "from strm.kernel import records\n"
        "from . import errors\n"
        "if TYPE_CHECKING:\n"
        "    from strm.app import App\n"
        "def late():\n"
        "    from strm.runtime.conductor import Conductor\n"
    )
    known = {
        "strm", "strm.kernel", "strm.kernel.spi", "strm.kernel.records", "strm.kernel.errors",
        "strm.app", "strm.runtime.conductor",
    }  # fmt: skip
    found = imports_of(source, "strm.kernel.streams", package=False, known=known)
    assert [(i.imported, i.type_only) for i in found] == [
        ("strm.kernel.spi", False),
        ("strm.kernel.records", False),
        ("strm.kernel.errors", False),
        ("strm.app", True),
        ("strm.runtime.conductor", False),
    ]


def test_the_rules_catch_an_upward_import_and_an_import_of_the_app() -> None:
    up = Import("strm.kernel.spi", "strm.runtime.conductor", 1, type_only=False)
    on_purpose = Import("strm.app.decorators", "strm.cli.main", 5, type_only=False)
    typed_up = Import("strm.kernel.spi", "strm.runtime.conductor", 2, type_only=True)
    app = Import("strm.streams", "strm.app", 3, type_only=True)
    allowed = Import("strm.cli.main", "strm.app", 4, type_only=False)
    assert against_the_direction([up, typed_up, on_purpose]) == [up]
    assert importers_of_the_app([app, allowed]) == [app]


def test_the_graph_is_read() -> None:
    runtime = [edge for edge in GRAPH if not edge.type_only]
    typed = [edge for edge in GRAPH if edge.type_only]
    assert len(runtime) > 300
    assert len(typed) > 50
    assert any(
        edge.importer == "strm.app" and edge.imported == "strm.runtime.conductor" for edge in GRAPH
    )


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
    assert not wrong, "use strm.kernel.app_protocol.AppLike instead:\n" + "\n".join(wrong)


def test_the_app_protocol_imports_nothing_of_strm_at_run_time() -> None:
    assert not [e for e in GRAPH if e.importer == "strm.kernel.app_protocol" and not e.type_only]


def test_the_kernel_manager_knows_no_builtin_plugin() -> None:
    """The app hands the built-in plugins to the manager: the kernel imports none of them."""
    wrong = [str(e) for e in GRAPH if e.importer.startswith("strm.kernel.")]
    wrong = [line for line in wrong if " imports strm.builtins" in line]
    assert not wrong, "\n".join(wrong)


# -- the layout -----------------------------------------------------------------------------------


def directory_of(module: str) -> str | None:
    return _longest_prefix(module, tuple(DIRECTORIES))


def misplaced(modules: list[str]) -> list[str]:
    """Each module that is not in the directory of its layer, or that sits at the top of the
    package without being a path users import, with what is wrong."""
    names = [name for name, _ in LAYERS]
    wrong = []
    for module in modules:
        directory = directory_of(module)
        try:
            layer = names[layer_of(module)]
        except LookupError:
            wrong.append(f"{module} belongs to no layer: move it to the directory of its layer")
            continue
        if directory is not None and DIRECTORIES[directory] != layer:
            wrong.append(f"{module} is in {directory} but of the layer {layer!r}")
        elif directory is None and layer in {"kernel", "builtins"}:
            home = next(d for d, lay in DIRECTORIES.items() if lay == layer)
            wrong.append(f"{module} is of the layer {layer!r}: move it under {home}")
        elif directory is None and _longest_prefix(module, API) is None:
            wrong.append(f"{module} is no user import path: move it to the directory of its layer")
    return wrong


MODULES = sorted({module_name(p, SOURCES) for p in SOURCES.rglob("*.py")})


def test_the_layout_rules_catch_a_module_out_of_place() -> None:
    assert misplaced(["strm.kernel.spi", "strm.runtime.conductor", "strm.builtins.codecs"]) == []
    assert misplaced(["strm.helpers"]) == [
        "strm.helpers belongs to no layer: move it to the directory of its layer"
    ]


def test_every_module_sits_in_the_directory_of_its_layer() -> None:
    wrong = misplaced(MODULES)
    assert not wrong, "modules out of place (see LAYERS, DIRECTORIES, API):\n" + "\n".join(wrong)


def test_no_module_is_over_600_lines() -> None:
    long = []
    for path in sorted((SOURCES / "strm").rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            long.append(f"{path.relative_to(SOURCES.parent)}: {lines} lines")
    assert not long, f"modules over {MAX_LINES} lines (split them by job):\n" + "\n".join(long)
