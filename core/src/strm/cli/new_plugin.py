"""``strm new-plugin KIND NAME``: a new plugin distribution that works before it is edited.

The generated directory is a complete distribution: a pyproject with the ``strm`` entry point,
a README, the plugin module with a small working backend of the kind, tests that run the
kernel's contract suite for that kind, and a GitHub Actions workflow. Starting from something
that passes its own tests means every later edit is checked by the same suite.

The files come from ``strm/cli/templates/plugin`` (package data): ``common/`` for every kind
and one folder per kind. Placeholders are ``{{strm:key}}``, a form no Python, TOML, Markdown or
workflow syntax uses, so the templates stay readable and need no escaping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path

import click

from strm.builtins.plugins import BUILTIN_PLUGINS
from strm.kernel.errors import StrmError

#: Kind -> what its backend is, for the command's help and the README.
KINDS: dict[str, str] = {
    "store": "a table store (strm.kernel.spi.Store) on a URL scheme, tested with StoreContract",
    "cache": "a cache backend (strm.kernel.spi.Cache) on a URL scheme, tested with CacheContract",
    "codec": "a codec (strm.kernel.spi.Codec) by name, tested with CodecContract",
    "transport": "a message transport (strm.kernel.spi.Transport), tested with TransportContract",
    "sensor": "a sensor (strm.sensors.Sensor) that observes batches and commits",
}

#: Template file -> where it goes in the distribution; ``{module}`` and ``{kind}`` filled in.
COMMON_FILES: dict[str, str] = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "ci.yml.tmpl": ".github/workflows/ci.yml",
    "gitignore.tmpl": ".gitignore",
    "py.typed.tmpl": "src/{module}/py.typed",
    "test_plugin.py.tmpl": "tests/test_plugin.py",
}
KIND_FILES: dict[str, str] = {
    "__init__.py.tmpl": "src/{module}/__init__.py",
    "backend.py.tmpl": "src/{module}/{kind}.py",
    "test_backend.py.tmpl": "tests/test_{kind}.py",
}

_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_PLACEHOLDER = re.compile(r"\{\{strm:([a-z_]+)\}\}")


@dataclass(frozen=True)
class PluginNames:
    """Every name the distribution uses, derived from the one the author gave."""

    kind: str
    name: str  # dashed: the URL scheme, codec or sensor name
    distribution: str  # strm-<name>
    module: str  # strm_<name with underscores>
    entry_point: str  # <name with underscores>
    class_name: str  # CamelCase name + kind

    @classmethod
    def parse(cls, kind: str, raw: str) -> PluginNames:
        name = raw.strip().lower().replace("_", "-")
        name = name.removeprefix("strm-")
        if not _NAME.fullmatch(name):
            raise StrmError(
                f"plugin name {raw!r}: use lowercase letters, digits and dashes, starting with a "
                "letter (as in 'mystore' or 'my-store')"
            )
        under = name.replace("-", "_")
        if under in BUILTIN_PLUGINS:
            raise StrmError(
                f"plugin name {raw!r} is a built-in plugin's ({under}); choose another name"
            )
        camel = "".join(part.capitalize() for part in name.split("-"))
        suffix = kind.capitalize()
        return cls(
            kind=kind,
            name=name,
            distribution=f"strm-{name}",
            module=f"strm_{under}",
            entry_point=under,
            class_name=camel if camel.endswith(suffix) else camel + suffix,
        )

    def values(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "kind_description": KINDS[self.kind],
            "name": self.name,
            "distribution": self.distribution,
            "module": self.module,
            "entry_point": self.entry_point,
            "class_name": self.class_name,
            "strm_requirement": _strm_requirement(),
        }


def _strm_requirement() -> str:
    """``strm>=<this version>``: the generated tests use what this strm's testing kit has."""
    try:
        return f"strm>={metadata.version('strm')}"
    except metadata.PackageNotFoundError:  # running from a source tree without metadata
        return "strm"


def render(text: str, values: dict[str, str], *, source: str) -> str:
    """Fill the placeholders; an unknown one is a bug in the template, named with its file."""

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise StrmError(f"template {source}: unknown placeholder {match.group(0)}")
        return values[key]

    return _PLACEHOLDER.sub(fill, text)


def templates() -> Traversable:
    return resources.files("strm.cli").joinpath("templates", "plugin")


def plugin_files(names: PluginNames) -> dict[str, str]:
    """Relative path -> text of every file of the distribution."""
    root = templates()
    values = names.values()
    where = {"module": names.module, "kind": names.kind}
    files: dict[str, str] = {}
    for folder, mapping in (("common", COMMON_FILES), (names.kind, KIND_FILES)):
        for template, target in mapping.items():
            source = root.joinpath(folder, template)
            text = source.read_text(encoding="utf-8")
            files[target.format(**where)] = render(text, values, source=f"{folder}/{template}")
    return files


def create_plugin(kind: str, name: str, parent: Path) -> Path:
    """Write the distribution ``strm-<name>`` under ``parent``; returns its directory.

    Refuses to touch an existing directory, so a typo cannot overwrite someone's work.
    """
    if kind not in KINDS:
        raise StrmError(f"plugin kind {kind!r}: choose one of {', '.join(KINDS)}")
    names = PluginNames.parse(kind, name)
    target = parent / names.distribution
    if target.exists():
        raise StrmError(f"{target} already exists; remove it or choose another name")
    files = plugin_files(names)
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target


@click.command("new-plugin")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("name")
@click.option(
    "-d",
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to create the distribution's directory (strm-NAME).",
)
def new_plugin_command(kind: str, name: str, directory: Path) -> None:
    """Create a plugin distribution, strm-NAME, with a working KIND backend and its tests.

    KIND is one of: store, cache, codec, transport, sensor. The generated tests run strm's
    contract suite for the kind and pass as generated.
    """
    target = create_plugin(kind, name, directory)
    names = PluginNames.parse(kind, name)
    click.echo(f"Created {target} ({names.distribution}, import {names.module}).")
    click.echo("Next:")
    click.echo(f"  cd {target}")
    click.echo('  python -m pip install ".[test]"')
    click.echo("  python -m pytest")
