"""``@app.command``: click options, the ``self`` form, a fresh event loop per run,
``strm.cli.call_command``, ``python -m strm -A mod NAME`` and ``app.main()``."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import click
import pytest
import strm
import strm.cli
from strm.app import App
from strm.cli import call_command
from strm.kernel.errors import ConfigurationError, StrmError

AppFactory = Callable[..., App]


def run_python(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONUTF8": "1"}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=30
    )


def test_option_and_argument_are_clicks() -> None:
    assert strm.option is click.option and strm.argument is click.argument
    assert strm.cli.option is click.option and strm.cli.argument is click.argument


# -- in this process -----------------------------------------------------------------------------


def test_a_command_with_self_and_options(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory("greeter")

    @app.command(
        strm.option("--times", type=int, default=1, help="How often."),
        strm.option("--loud/--quiet", default=False),
    )
    async def say_hello(self: strm.cli.AppCommand, times: int, loud: bool) -> None:
        """Say hello a few times."""
        for _ in range(times):
            self.say(f"hello from {self.app.conf.id}" + ("!" if loud else ""))
        self.carp("done")

    assert say_hello.__name__ == "say_hello"  # the decorator returns the function
    assert list(app.commands) == ["say-hello"]
    assert call_command(app, "say-hello", ["--times", "2", "--loud"]) == (
        0,
        "hello from greeter!\nhello from greeter!\n",
        "done\n",
    )
    assert call_command(app, "say-hello") == (0, "hello from greeter\n", "done\n")
    code, out, err = call_command(app, "say-hello", ["--help"])
    assert code == 0, err
    assert "Usage: strm say-hello [OPTIONS]" in out
    assert "Say hello a few times." in out
    assert "--times INTEGER" in out and "How often." in out


def test_a_command_without_self_takes_arguments_in_order(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()

    @app.command(
        click.argument("first"),
        click.argument("second", type=int),
        click.Option(["--sep"], default="-"),  # a parameter object works too
        name="join",
        help="Join two things.",
    )
    async def anything(first: str, second: int, sep: str) -> None:
        print(f"{first}{sep}{second * 2}")

    assert call_command(app, "join", ["a", "21", "--sep", "+"]) == (0, "a+42\n", "")
    code, out, _ = call_command(app, "--help")
    assert code == 0
    assert re.search(r"\n  join +Join two things\.\n", out), out


def test_a_bare_decorator_and_the_exit_code(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()

    @app.command
    async def fail_with_three() -> int:
        return 3

    @app.command()
    async def strm_error() -> None:
        raise StrmError("the thing is misconfigured")

    assert call_command(app, "fail-with-three") == (3, "", "")
    assert call_command(app, "strm-error") == (2, "", "Error: the thing is misconfigured\n")
    code, _, err = call_command(app, "fail-with-three", ["--nope"])
    assert code == 2
    assert "No such option" in err and "--nope" in err


def test_the_app_is_configured_not_started_and_each_run_has_a_new_loop(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory()
    seen: list[object] = []

    @app.command()
    async def inspect_app() -> None:
        seen.append((app.configured, app.is_running))
        seen.append(asyncio.get_running_loop())

    call_command(app, "inspect-app")
    call_command(app, "inspect-app")
    assert seen[0] == (True, False)
    assert seen[2] == (True, False)
    assert seen[1] is not seen[3]
    assert isinstance(seen[1], asyncio.AbstractEventLoop) and seen[1].is_closed()


def test_a_command_may_start_the_app_and_strm_stops_it(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    events: list[str] = []

    @app.service
    @asynccontextmanager
    async def service(app: App) -> AsyncIterator[None]:
        events.append("start")
        yield
        events.append("stop")

    @app.command()
    async def run_once() -> None:
        await app.start()
        events.append(f"running {app.is_running}")

    assert call_command(app, "run-once") == (0, "", "")
    assert events == ["start", "running True", "stop"]
    assert not app.is_running


async def test_call_command_wants_synchronous_callers(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    with pytest.raises(RuntimeError, match="call it from synchronous code"):
        call_command(app, "anything")


def test_decoration_errors(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()

    def not_async() -> None:
        pass

    async def cmd() -> None:
        pass

    with pytest.raises(ConfigurationError, match=r"@app\.command not-async: needs an 'async def'"):
        app.command()(not_async)
    with pytest.raises(ConfigurationError, match=r"options must be click\.option"):
        app.command("--n")(cmd)
    app.command(name="twice")(cmd)
    with pytest.raises(ConfigurationError, match="two app commands are named 'twice'"):
        app.command(name="twice")(cmd)


def test_an_app_command_cannot_replace_a_core_command(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()

    @app.command()
    async def worker() -> None:
        pass

    code, _, err = call_command(app, "worker")
    assert code == 2
    assert err == "Error: the app adds a command 'worker', which already exists\n"


# -- the command line ----------------------------------------------------------------------------

COMMANDS_MODULE = """\
import strm

app = strm.App("cmdapp", entry_points=False)


@app.command(strm.option("--count", type=int, default=1), strm.argument("word"))
async def repeat(self, count, word):
    \"\"\"Print a word a few times.\"\"\"
    for _ in range(count):
        self.say(word)


@app.command()
async def origin():
    print(f"origin={app.conf.origin}")


if __name__ == "__main__":
    app.main()
"""


def test_strm_dash_a_runs_an_app_command(tmp_path: Path) -> None:
    (tmp_path / "cmdmod.py").write_text(COMMANDS_MODULE)
    result = run_python(tmp_path, "-m", "strm", "-A", "cmdmod", "repeat", "--count", "2", "hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hi\nhi\n"
    listing = run_python(tmp_path, "-m", "strm", "-A", "cmdmod", "--help")
    assert re.search(r"\n  repeat +Print a word a few times\.\n", listing.stdout)
    assert "worker" in listing.stdout


def test_app_main_runs_the_command_line_for_its_app(tmp_path: Path) -> None:
    (tmp_path / "cmdmod.py").write_text(COMMANDS_MODULE)
    result = run_python(tmp_path, "cmdmod.py", "repeat", "--count", "3", "yo")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "yo\nyo\nyo\n"
    # The origin is the module calling main(): named from its file when run as a script...
    assert run_python(tmp_path, "cmdmod.py", "origin").stdout == "origin=cmdmod\n"
    # ... and its import name under python -m.
    package = tmp_path / "proj"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text(COMMANDS_MODULE)
    (package / "__main__.py").write_text("from proj.app import app\n\napp.main()\n")
    assert run_python(tmp_path, "-m", "proj.app", "origin").stdout == "origin=proj.app\n"
    assert run_python(tmp_path, "-m", "proj", "origin").stdout == "origin=proj\n"
    usage = run_python(tmp_path, "cmdmod.py", "--help")
    assert usage.returncode == 0
    assert "repeat" in usage.stdout and "worker" in usage.stdout


def test_app_main_keeps_an_explicit_origin(tmp_path: Path) -> None:
    source = COMMANDS_MODULE.replace(
        'strm.App("cmdapp", entry_points=False)',
        'strm.App("cmdapp", entry_points=False, origin="somewhere.else")',
    )
    (tmp_path / "cmdmod.py").write_text(source)
    assert run_python(tmp_path, "cmdmod.py", "origin").stdout == "origin=somewhere.else\n"


def test_app_main_reports_errors_like_strm(tmp_path: Path) -> None:
    (tmp_path / "cmdmod.py").write_text(COMMANDS_MODULE)
    result = run_python(tmp_path, "cmdmod.py", "nope")
    assert result.returncode == 2
    assert "No such command 'nope'" in result.stderr
