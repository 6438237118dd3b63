"""``strm send`` to a topic typed by a marshmallow schema: the text is loaded through the schema
first, so a value that does not fit is one line and exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

APP = """
import marshmallow
import strm


class OrderSchema(marshmallow.Schema):
    id = marshmallow.fields.Str(required=True)
    amount = marshmallow.fields.Float(required=True)


app = strm.App("shop", plugins=["strm_schema_marshmallow"], entry_points=False)
orders = app.topic("orders", value_type=OrderSchema)
"""


def send(tmp_path: Path, value: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "shop.py").write_text(APP)
    return subprocess.run(
        [sys.executable, "-m", "strm", "-A", "shop", "send", "orders", value],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONUTF8": "1"},
    )


def test_a_value_that_fits_is_sent(tmp_path: Path) -> None:
    sent = send(tmp_path, '{"id": "a1", "amount": 3}')
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["topic"] == "orders"
    assert sent.stderr == "k=None v={'id': 'a1', 'amount': 3.0} -> orders\n"


def test_a_value_that_does_not_fit_is_one_line_and_exit_2(tmp_path: Path) -> None:
    sent = send(tmp_path, '{"id": "a1"}')
    assert sent.returncode == 2
    assert sent.stdout == ""
    assert sent.stderr == (
        'Error: send: the value \'{"id": "a1"}\' does not fit OrderSchema: '
        "SchemaValidationError: OrderSchema: 1 invalid field: amount: Missing data for "
        "required field.\n"
    )
