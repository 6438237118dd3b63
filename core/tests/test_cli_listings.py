"""``strm agents`` and ``strm tables``: what an app defines, with each one's help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

APP = '''
import strm

app = strm.App("listed")


@app.agent()
async def greeter(stream):
    """Says hello to every name."""
    async for name in stream:
        yield f"hello {name}"


counts = app.Table("counts", default=int, help="Words seen so far.")
per_minute = app.Table("per-minute", default=int, help="Words per minute.").tumbling(60)
'''


def strm(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "listed.py").write_text(APP)
    return subprocess.run(
        [sys.executable, "-m", "strm", "-A", "listed", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)},
    )


def test_tables_lists_each_table_with_its_help(tmp_path: Path) -> None:
    rows = json.loads(strm(tmp_path, "tables", "--json").stdout)
    assert [(r["name"], r["help"], r["window"]) for r in rows] == [
        ("counts", "Words seen so far.", None),
        ("per-minute", "Words per minute.", "TumblingWindow"),
    ]
    assert rows[0]["changelog"] == "listed-counts-changelog"
    text = strm(tmp_path, "tables").stdout
    assert "counts" in text and "Words seen so far." in text


def test_agents_lists_each_agent_with_its_docstring(tmp_path: Path) -> None:
    rows = json.loads(strm(tmp_path, "agents", "--json").stdout)
    assert rows == [
        {
            "name": "listed.greeter",
            "channel": "listed-listed.greeter",
            "concurrency": 1,
            "isolated_partitions": False,
            "help": "Says hello to every name.",
        }
    ]
    assert "Says hello to every name." in strm(tmp_path, "agents").stdout
