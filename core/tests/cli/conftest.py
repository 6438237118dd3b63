"""Running ``strm`` as a user does: a subprocess in a project directory of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

TIMEOUT = 120.0

#: A project with a record, a typed topic, an agent with a table, and an app command.
SHOP = '''
import strm
from strm.cli import argument, option


class Order(strm.Record):
    """An order placed in the shop."""

    id: str
    amount: float
    note: str = ""


class Refund(strm.Record, namespace="shop.refunds.Refund"):
    order: Order
    reasons: list[str] = []


app = strm.App("shop", entry_points=False)
orders = app.topic("orders", value_type=Order)
counts = app.Table("counts", default=int)


@app.agent(orders)
async def screen(stream):
    """Counts the orders of each id."""
    async for order in stream:
        counts[order.id] += 1


@app.command(option("--times", type=int, default=1, help="How often."), argument("word"))
async def shout(self, word: str, times: int) -> None:
    """Print WORD in capitals."""
    for _ in range(times):
        self.say(word.upper())
'''

Run = Callable[..., subprocess.CompletedProcess[str]]


def environment(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONUTF8": "1", **extra}


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "shop.py").write_text(SHOP)
    return tmp_path


@pytest.fixture
def strm(shop: Path) -> Run:
    """``strm(*args, input=None, env={})``: ``python -m strm ARGS`` in the shop project."""

    def run(
        *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "strm", *args],
            cwd=shop,
            capture_output=True,
            text=True,
            input=input,
            timeout=TIMEOUT,
            env=environment(**(env or {})),
        )

    return run
