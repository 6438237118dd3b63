"""docs/plugins.md carries the generated hook reference and plugin lists of the current code.

``scripts/gen-plugin-docs`` writes them; a hook, a docstring, a built-in plugin or a first-party
distribution that changes without a rerun fails here, with the command that fixes it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from strm.builtins.plugins import BUILTIN_PLUGINS
from strm.kernel.hookspecs import hook_names

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen-plugin-docs"
PAGE = ROOT / "docs" / "plugins.md"


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("strm_gen_plugin_docs", str(SCRIPT))
    spec = importlib.util.spec_from_loader("strm_gen_plugin_docs", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def section(page: str, name: str) -> str:
    match = re.search(
        rf"<!-- BEGIN GENERATED: {name} -->\n(.*?)<!-- END GENERATED: {name} -->", page, re.S
    )
    assert match is not None, name
    return match.group(1)


def test_docs_plugins_md_is_up_to_date(gen: ModuleType) -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert gen.render(page) == page, "docs/plugins.md is stale: uv run scripts/gen-plugin-docs"


def test_the_reference_has_every_hook_with_its_docstring(gen: ModuleType) -> None:
    reference = section(PAGE.read_text(encoding="utf-8"), "hooks")
    for name in hook_names():
        assert f"#### `{name}(" in reference, name
    assert "#### `strm_partitions_assigned(app, assigned) -> None`" in reference
    assert "Arguments: `app: AppLike`, `assigned: Sequence[TP]`." in reference
    assert "``" not in reference and ":class:" not in reference  # reST turned into Markdown


def test_the_lists_have_every_builtin_and_first_party_plugin() -> None:
    plugins = section(PAGE.read_text(encoding="utf-8"), "plugins")
    for name in BUILTIN_PLUGINS:
        assert f"| `{name}` |" in plugins, name
    for pyproject in [
        *ROOT.glob("plugins/*/pyproject.toml"),
        *ROOT.glob("examples/*/pyproject.toml"),
    ]:
        assert f"../{pyproject.parent.relative_to(ROOT)}/" in plugins, pyproject
    assert "store `memory`" in plugins and "store `sqlite`" in plugins


def test_a_changed_docstring_makes_the_page_stale(gen: ModuleType) -> None:
    source = gen.HOOKSPECS.read_text(encoding="utf-8")
    changed = source.replace("Table stores, by URL scheme", "Table stores, by scheme")
    assert changed != source
    page = PAGE.read_text(encoding="utf-8")
    assert gen.hook_reference(changed) != gen.hook_reference(source)
    assert gen.replace_section(page, "hooks", gen.hook_reference(changed)) != page


def test_a_prose_heading_naming_a_missing_hook_is_an_error(gen: ModuleType) -> None:
    with pytest.raises(gen.DocsError, match="strm_storez"):
        gen.check_prose("#### `strm_storez`\n", set(hook_names()))


def test_a_missing_marker_is_an_error(gen: ModuleType) -> None:
    with pytest.raises(gen.DocsError, match="BEGIN GENERATED: hooks"):
        gen.replace_section("# no markers\n", "hooks", "body\n")


def test_check_mode_passes_on_the_committed_page() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
