"""docs/plugins.md states every rule a plugin author needs: the guide is checked against the
code, so a new built-in plugin, contract suite or store error cannot go unmentioned."""

from __future__ import annotations

from pathlib import Path

import pytest
import strm.testing.contracts as contracts
from strm.builtins.plugins import BUILTIN_PLUGINS

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def guide() -> str:
    return GUIDE.read_text()


@pytest.mark.parametrize("name", sorted(BUILTIN_PLUGINS))
def test_the_guide_lists_every_builtin_plugin_where_names_are_reserved(name: str) -> None:
    packaging = guide().split("## Packaging", 1)[1].split("## Loading", 1)[0]
    loading = guide().split("## Loading and blocking", 1)[1].split("## Duplicates", 1)[0]
    assert f"`{name}`" in packaging, f"## Packaging does not reserve the built-in name {name}"
    assert f"`{name}`" in loading, f"## Loading and blocking does not list {name}"


@pytest.mark.parametrize("suite", [n for n in contracts.__all__ if n.endswith("Contract")])
def test_the_guide_names_every_contract_suite(suite: str) -> None:
    assert f"`{suite}`" in guide()


@pytest.mark.parametrize(
    "phrase",
    [
        "`StoreError`",
        "`strm.StoreLockedError`",
        "`strm.StoreCorruptError`",
        "asyncio.to_thread",
        "check_same_thread=False",
        "`applied_offset + 1`",
        "`app.conf.tabledir`",
        "after the final checkpoint's `write_batch` has returned",
        "`tryfirst=True` / `trylast=True`",
        "`wrapper=True`",
        "`strm --debug` traces every hook call",
    ],
)
def test_the_guide_states_the_rule(phrase: str) -> None:
    assert phrase in guide()


def test_the_store_example_builds_the_store_with_the_factory_keywords() -> None:
    testing = guide().split("## Testing a plugin", 1)[1]
    assert 'store_context(datadir=tmp_path, table_name="t", partition=0)' in testing
    assert 'MyStore(url="mystore://", context=context)' in testing
    assert "MyStore(path=" not in guide()


def test_the_contracts_docstring_example_uses_the_factory_keywords() -> None:
    assert contracts.__doc__ is not None
    assert "store_context(" in contracts.__doc__ and "context=" in contracts.__doc__
