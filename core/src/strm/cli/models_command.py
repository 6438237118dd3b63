"""``strm models`` and ``strm model NAME``: the record classes an app defines, and one's fields.

The names shown are those ``strm model`` and ``strm send --key-type/--value-type`` accept.
"""

from __future__ import annotations

import datetime as dt
import decimal
import inspect
import json
from typing import Any

import click

from strm.cli.context import cli_state
from strm.cli.model_names import find_model, is_builtin, short_name
from strm.cli.output import show_rows, wants_json
from strm.models import namespaces
from strm.models.record import Record
from strm.models.types import type_name

#: Types shown by their bare name; others by :func:`type_name`, which qualifies generics.
_PLAIN_TYPES = (int, float, str, bytes, bool, dt.datetime, decimal.Decimal)


@click.command("models", help="List the app's models (record classes) with their help.")
@click.option(
    "--builtins/--no-builtins",
    default=False,
    help="Also list the records strm defines for itself.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def models_command(builtins: bool, as_json: bool) -> None:
    app = cli_state().app
    if app is not None:
        app.configure()
    rows = [
        {
            "name": short_name(app, namespace),
            "namespace": namespace,
            "fields": list(model._options.descriptors),
            "help": _help(model),
        }
        for namespace, model in sorted(namespaces.registry.items())
        if builtins or not is_builtin(namespace)
    ]
    show_rows(rows, wants_json(as_json), ("name", "help"))


@click.command("model", help="Show a model's fields: name, type, default (* if required).")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def model_command(name: str, as_json: bool) -> None:
    app = cli_state().app
    if app is not None:
        app.configure()
    model = find_model(app, name)
    rows = [_field_row(model, field) for field in model._options.descriptors]
    if wants_json(as_json):
        document = {
            "name": short_name(app, model._options.namespace),
            "namespace": model._options.namespace,
            "help": _help(model),
            "fields": rows,
        }
        click.echo(json.dumps(document, indent=2, default=str))
        return
    title = short_name(app, model._options.namespace)
    help_text = _help(model)
    show_rows(
        [{**row, "default": "*" if row["required"] else repr(row["default"])} for row in rows],
        False,
        ("field", "type", "default"),
        title=f"{title}: {help_text}" if help_text else title,
    )


def _field_row(model: type[Record], name: str) -> dict[str, Any]:
    descriptor = model._options.descriptors[name]
    tp = model._options.fields.get(name, descriptor.type)
    required = bool(descriptor.required)
    return {
        "field": name,
        "type": tp.__name__ if tp in _PLAIN_TYPES else type_name(tp),
        "required": required,
        "default": None if required else descriptor.default,
    }


def _help(model: type[Record]) -> str:
    """The model's own docstring, not one it inherits from strm's base classes."""
    doc = model.__dict__.get("__doc__")
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""
