"""``strm settings``: every setting, who declares it, whether strm acts on it yet, and its value.

Without ``-A`` it lists the declarations: the kernel's settings and those of the plugins the command
line loaded. With ``-A app`` it also shows each setting's current value and where that value came
from. ``--markdown`` prints the settings reference instead; ``docs/settings.md`` is its output for
the kernel (``strm settings --kernel --markdown``), and a test keeps the two equal.

Values of settings whose name looks secret (password, secret, token, credentials) are never printed,
nor the passwords of URLs (:func:`strm.kernel.redaction.redact_url`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import PurePath
from typing import Any

import click

from strm.app.configuring import merge_settings
from strm.cli.context import cli_state
from strm.kernel.plugins.known import FIRST_PARTY_SETTINGS
from strm.kernel.redaction import redact_urls
from strm.kernel.settings.catalogue import KERNEL_SETTINGS
from strm.kernel.settings.conf import Conf, _is_secret
from strm.kernel.settings.setting import Setting

HIDDEN = "<hidden>"


# -- what is listed -------------------------------------------------------------------------------


def describe_setting(spec: Setting) -> dict[str, Any]:
    """The declaration of one setting, as ``strm settings --json`` shows it."""
    return {
        "name": spec.name,
        "section": spec.section,
        "type": spec.type.describe(),
        "default": shown_default(spec),
        "env": spec.env,
        "aliases": [alias.name for alias in spec.aliases],
        "distribution": spec.distribution,
        "supported": spec.pending is None,
        "pending": spec.pending,
        "doc": spec.doc,
    }


def describe_value(spec: Setting, conf: Conf) -> dict[str, Any]:
    """A setting's declaration with its current value and that value's source."""
    entry = describe_setting(spec)
    value = getattr(conf, spec.name)
    entry["value"] = HIDDEN if _is_secret(spec.name) else redact_urls(plain(value))
    entry["source"] = str(conf.source_of(spec.name))
    return entry


def shown_default(spec: Setting) -> str:
    """The default as the listing and the reference show it; a secret's default is hidden."""
    if _is_secret(spec.name) and spec.default is not None:
        return HIDDEN
    return spec.describe_default()


def plain(value: Any) -> Any:
    """A value as JSON holds it: classes and functions by import path, paths and zones as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    qualname = getattr(value, "__qualname__", None)
    if callable(value) and isinstance(qualname, str):
        return f"{getattr(value, '__module__', '?')}:{qualname}"
    return str(value)


def by_section(specs: Iterable[Setting]) -> dict[str, list[Setting]]:
    """Settings grouped by section, sections in order of first appearance."""
    sections: dict[str, list[Setting]] = {}
    for spec in specs:
        sections.setdefault(spec.section, []).append(spec)
    return sections


# -- the Markdown reference -----------------------------------------------------------------------

REFERENCE_INTRO = """\
# Settings reference

<!-- Generated from strm's settings catalogue; do not edit by hand. Regenerate with:
     uv run strm settings --kernel --markdown > docs/settings.md
     (a test fails when this file and the catalogue disagree) -->

Every strm setting is declared once, with its type, its default and the environment variable it
is read from. Plugins declare their own settings the same way (the `strm_settings` hook), and
`strm settings` lists all of them, with `-A yourproject.app` also each current value and where it
came from.

## Where a value comes from

A setting takes the first value it finds, in this order:

1. the command line (`strm -A proj.app --datadir /data worker`, `app.override_settings(...)`);
2. the environment variable listed in the tables below;
3. a value given to `strm.App(...)` or `app.config_from_object(...)` (a mapping, an object, a
   module, or the dotted path of one; when both give a setting, the later call wins);
4. the default.

Values are checked when the app is configured, whatever their origin: a wrong type, a value out
of range or a misspelt name (with a "did you mean" suggestion) is an error that names the setting
and where the value came from. Values of settings whose name contains `password`, `secret`,
`token` or `credentials` are never shown, neither in errors nor in listings. Once the worker has
started, settings cannot be changed.

Environment strings are converted to the setting's type: booleans accept `true`/`false`,
`yes`/`no`, `on`/`off`, `1`/`0` (and an empty string for false), durations are seconds as a
number, URL lists are separated by `;` or `,`, mappings are JSON, and classes are dotted paths
(`myproj.agents.Agent` or `myproj.agents:Agent`).

## Secrets

A URL is shown without its password: `kafka://user:secret@host:9092` as
`kafka://user:***@host:9092`, and userinfo without a password, often a token, as
`***@host`. This holds for `strm settings` (text and `--json`), the worker banner,
`strm tables`, the reprs of transports and stores, and every error that quotes a URL, the
errors refusing a bad URL setting included; plugins use the same function,
`strm.kernel.redaction.redact_url`. The password is still in the value given, so keep it out of code
and files under version control: give it in the environment (`BROKER_URL`, `CACHE_URL`,
`APP_STORE`), or as a setting or table option of its own (`broker_credentials`, the
Aerospike store's `password` option), which is never shown at all. The Kafka transport refuses
credentials in its URLs; use `broker_credentials`.

## env_prefix

Environment variable names have no prefix by default (`BROKER_URL`, `TOPIC_PARTITIONS`). Setting
`env_prefix`, as an argument or with the `APP_ENV_PREFIX` variable, puts a prefix before every
other variable name: with `env_prefix='ORDERS_'` the broker is read from `ORDERS_BROKER_URL`, and
`BROKER_URL` is ignored. `APP_ENV_PREFIX` itself is never prefixed.

## Older names

Some settings are also accepted under an older name (listed in the Notes column), such as `url`
for `broker` or `producer_linger_ms` (milliseconds) for `producer_linger` (seconds). An older name
maps to the new setting, converting the value where the unit changed, and emits a
`DeprecationWarning`.

## Extension classes

The settings of the Extension section (`Agent`, `Worker`, `Serializers`, ...) take a class or its
dotted path. Their default, `None`, means the class a plugin provides: strm's own unless an
installed plugin replaces it.

## Not supported yet

strm's catalogue lists every setting of the specification, including those whose feature has not
arrived yet. Such a setting is marked *not supported yet* with the part of strm that will act on
it. Leaving it at its default is fine; giving it any other value raises
`strm.SettingNotSupportedError` at start-up, so a value is never silently ignored.
"""


def _cell(text: str, *, code: bool = False) -> str:
    """Text that cannot break a Markdown table row (nor open an HTML tag, outside code)."""
    text = " ".join(text.split()).replace("|", "\\|")
    return text if code else text.replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    return f"`{_cell(text, code=True)}`"


def _notes(spec: Setting) -> str:
    notes = [_cell(spec.doc)]
    if spec.aliases:
        notes.append("Older name: " + ", ".join(_code(alias.name) for alias in spec.aliases) + ".")
    if spec.pending:
        notes.append(f"*Not supported yet*: arrives with {_cell(spec.pending)}.")
    return " ".join(notes)


def render_markdown(specs: Iterable[Setting], plugin_owned: Mapping[str, str] | None = None) -> str:
    """The settings reference: the introduction, then one table per section.

    ``plugin_owned`` maps settings of the specification that a plugin declares to the
    distribution that does, for a closing list of them.
    """
    specs = list(specs)
    show_distribution = any(spec.distribution != "strm" for spec in specs)
    lines = [REFERENCE_INTRO]
    for section, members in by_section(specs).items():
        lines.append(f"## {section}\n")
        header = ["Setting", "Type", "Default", "Environment variable", "Notes"]
        if show_distribution:
            header.insert(4, "Declared by")
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for spec in members:
            row = [
                _code(spec.name),
                _cell(spec.type.describe()),
                _code(shown_default(spec)),
                _code(spec.env) if spec.env else "-",
                _notes(spec),
            ]
            if show_distribution:
                row.insert(4, _cell(spec.distribution))
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    if plugin_owned:
        lines.append("## Settings of first-party plugins\n")
        lines.append(
            "These settings of the specification belong to a plugin and exist once it is "
            "installed; giving one without its plugin is an error that names the package to "
            "install.\n"
        )
        lines.append("| Setting | Distribution |")
        lines.append("|---|---|")
        for name, dist in sorted(plugin_owned.items()):
            lines.append(f"| {_code(name)} | `pip install {_cell(dist)}` |")
        lines.append("")
    return "\n".join(lines)


def kernel_reference() -> str:
    """``docs/settings.md``: the kernel's settings and the first-party plugins' setting names."""
    kernel = {spec.name for spec in KERNEL_SETTINGS}
    owned = {name: dist for name, dist in FIRST_PARTY_SETTINGS.items() if name not in kernel}
    return render_markdown(KERNEL_SETTINGS, owned)


# -- the command ----------------------------------------------------------------------------------


def _text_listing(entries: list[dict[str, Any]], with_values: bool) -> list[str]:
    lines: list[str] = []
    sections: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        sections.setdefault(entry["section"], []).append(entry)
    for section, members in sections.items():
        lines.append(f"{section}:")
        for entry in members:
            if with_values:
                value = entry["value"]
                shown = value if value == HIDDEN else json.dumps(value)
                lines.append(f"  {entry['name']} = {shown}  ({entry['source']})")
            else:
                lines.append(f"  {entry['name']}")
            details = [
                f"type: {entry['type']}",
                f"default: {entry['default']}",
                f"env: {entry['env'] or '-'}",
                f"declared by: {entry['distribution']}",
            ]
            lines.append("      " + "; ".join(details))
            if entry["aliases"]:
                lines.append(f"      older names: {', '.join(entry['aliases'])}")
            if entry["pending"]:
                lines.append(f"      not supported yet: arrives with {entry['pending']}")
    return lines


@click.command(
    "settings",
    help="List every setting of strm and its plugins. Shows each one's type, default, "
    "environment variable, who declares it and whether it is supported yet; with -A also its "
    "value and where that value came from.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--markdown", is_flag=True, help="Print the settings reference as Markdown.")
@click.option(
    "--kernel",
    is_flag=True,
    help="Only the kernel's settings, without values (how docs/settings.md is made).",
)
def settings_command(as_json: bool, markdown: bool, kernel: bool) -> None:
    state = cli_state()
    conf: Conf | None = None
    if kernel:
        specs: list[Setting] = list(KERNEL_SETTINGS)
    elif state.app is not None:
        conf = state.app.conf
        specs = list(conf.specs().values())
    else:
        specs = list(merge_settings(KERNEL_SETTINGS, state.plugins.settings()).values())
    if markdown:
        if kernel:
            click.echo(kernel_reference(), nl=False)
        else:
            names = {spec.name for spec in specs}
            owned = {n: d for n, d in FIRST_PARTY_SETTINGS.items() if n not in names}
            click.echo(render_markdown(specs, owned), nl=False)
        return
    if conf is not None:
        entries = [describe_value(spec, conf) for spec in specs]
    else:
        entries = [describe_setting(spec) for spec in specs]
    if as_json or state.json:
        click.echo(json.dumps(entries, indent=2))
        return
    click.echo("\n".join(_text_listing(entries, with_values=conf is not None)))
