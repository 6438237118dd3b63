"""``strm reset`` asks first, and ``strm clean-versions`` removes older versions' data only.
(``reset`` against a real broker and store: ``test_cli_kafka.py``.)"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_reset_asks_and_a_no_changes_nothing(strm: Run) -> None:
    refused = strm("-A", "shop", "reset", input="n\n")
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "This deletes the local state of app 'shop':\n  table counts (store memory://)\n" in (
        refused.stderr
    )
    assert "group 'shop' to the beginning of: orders" in refused.stderr
    assert refused.stderr.endswith("Reset? [y/N]: Aborted.\n")


def test_reset_yes_lists_what_it_reset(strm: Run) -> None:
    done = strm("-A", "shop", "reset", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["kind"], r["name"]) for r in rows] == [("table", "counts"), ("topic", "orders")]
    tables_only = strm("-A", "shop", "reset", "-y", "--no-offsets")
    assert tables_only.stdout == "reset table counts: emptied\n"


def test_clean_versions_removes_only_older_versions(strm: Run, shop: Path) -> None:
    data = shop / "shop-data"
    for version in ("v0", "v1", "v2", "v3"):
        (data / version / "tables").mkdir(parents=True)
    done = strm("-A", "shop", "clean-versions", "--json", env={"APP_VERSION": "2"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        {"version": 1, "directory": "shop-data/v1"},
        {"version": 0, "directory": "shop-data/v0"},
    ]
    assert sorted(p.name for p in data.iterdir()) == ["v2", "v3"]
    again = strm("-A", "shop", "clean-versions", env={"APP_VERSION": "2"})
    assert again.stdout == "no data directory of a version before 2\n"
