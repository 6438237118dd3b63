"""``@app.command`` commands with click's ``option``/``argument``: listed in ``strm --help``
beside strm's own, with their options in their own ``--help``, and run."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

Run = Callable[..., subprocess.CompletedProcess[str]]

CORE = [
    "agents",
    "clean-versions",
    "completion",
    "model",
    "models",
    "new-plugin",
    "plugins",
    "reset",
    "send",
    "settings",
    "tables",
    "worker",
]


def commands(help_text: str) -> list[str]:
    listing = help_text.split("Commands:\n", 1)[1]
    return [line.split()[0] for line in listing.splitlines() if line.startswith("  ")]


def test_help_lists_every_command_and_the_apps_own(strm: Run) -> None:
    plain = strm("--help")
    assert plain.returncode == 0, plain.stderr
    assert commands(plain.stdout) == CORE
    with_app = strm("-A", "shop", "--help").stdout
    assert commands(with_app) == sorted([*CORE, "shout"])
    assert "shout           Print WORD in capitals." in with_app


def test_the_apps_command_runs_with_its_option_and_argument(strm: Run) -> None:
    helped = strm("-A", "shop", "shout", "--help").stdout
    assert "Usage: strm shout [OPTIONS] WORD" in helped
    assert "--times INTEGER  How often." in helped
    ran = strm("-A", "shop", "shout", "hey", "--times", "2")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "HEY\nHEY\n"
    missing = strm("-A", "shop", "shout")
    assert missing.returncode == 2
    assert "Missing argument 'WORD'" in missing.stderr
