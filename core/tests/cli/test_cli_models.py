"""``strm models`` and ``strm model NAME``: the app's records, and one record's fields."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_models_lists_the_apps_records_with_their_help(strm: Run) -> None:
    listed = strm("-A", "shop", "models", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["namespace"], r["help"]) for r in rows] == [
        ("Order", "shop.Order", "An order placed in the shop."),
        ("refunds.Refund", "shop.refunds.Refund", ""),
    ]
    assert rows[0]["fields"] == ["id", "amount", "note"]
    text = strm("-A", "shop", "models").stdout.splitlines()
    assert text[0].split() == ["name", "help"]
    assert text[1].split(None, 1) == ["Order", "An order placed in the shop."]


def test_the_global_json_flag_means_the_same(strm: Run) -> None:
    assert json.loads(strm("-A", "shop", "--json", "models").stdout) == json.loads(
        strm("-A", "shop", "models", "--json").stdout
    )


def test_model_shows_fields_types_and_defaults(strm: Run) -> None:
    shown = strm("-A", "shop", "model", "Order", "--json")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["namespace"] == "shop.Order"
    assert document["help"] == "An order placed in the shop."
    assert document["fields"] == [
        {"field": "id", "type": "str", "required": True, "default": None},
        {"field": "amount", "type": "float", "required": True, "default": None},
        {"field": "note", "type": "str", "required": False, "default": ""},
    ]
    lines = strm("-A", "shop", "model", "Order").stdout.splitlines()
    assert lines[0] == "Order: An order placed in the shop."
    assert [line.split() for line in lines[1:]] == [
        ["field", "type", "default"],
        ["id", "str", "*"],
        ["amount", "float", "*"],
        ["note", "str", "''"],
    ]


def test_model_takes_the_full_namespace_and_shows_nested_types(strm: Run) -> None:
    document = json.loads(strm("-A", "shop", "model", "shop.refunds.Refund", "--json").stdout)
    assert [(f["field"], f["type"], f["default"]) for f in document["fields"]] == [
        ("order", "Order", None),
        ("reasons", "list[str]", []),
    ]


def test_an_unknown_model_is_one_line_with_a_suggestion(strm: Run) -> None:
    missing = strm("-A", "shop", "model", "Ordr")
    assert missing.returncode == 2
    assert missing.stderr == "Error: model 'Ordr': no such model; did you mean 'Order'?\n"
    far = strm("-A", "shop", "model", "Zebra")
    assert far.returncode == 2
    assert far.stderr == "Error: model 'Zebra': no such model; 'strm models' lists them\n"
