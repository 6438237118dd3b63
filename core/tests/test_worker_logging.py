"""Logging in a worker: level, log file, the app's handlers and dictConfig, and ``print()``."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from strm.runtime.worker_logging import LoggingWriter

#: An app module: ``SETUP`` and ``SETTINGS`` are replaced by the test's code and settings.
APP = """\
import contextlib
import logging
import pathlib
import sys

import strm

log = logging.getLogger("wapp")


@contextlib.asynccontextmanager
async def chatty(app):
    log.debug("debug from the app")
    log.info("info from the app")
    print("printed by the app")
    print("written to stderr by the app", file=sys.stderr)
    log.warning("service started")
    pathlib.Path("started").touch()
    yield


SETUP
app = strm.App("wapp", entry_points=False, **SETTINGS)
app.add_service(chatty)
"""


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def run_worker(
    directory: Path,
    settings: str = "{}",
    *args: str,
    setup: str = "",
) -> Run:
    """Run a worker until its service has started, stop it with SIGINT."""
    (directory / "wapp.py").write_text(APP.replace("SETUP", setup).replace("SETTINGS", settings))
    stdout, stderr = directory / "stdout.txt", directory / "stderr.txt"
    started = directory / "started"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONUTF8": "1"}
    command = [sys.executable, "-m", "strm", "-A", "wapp", *args, "worker", "--without-web"]
    with stdout.open("w") as out, stderr.open("w") as err:
        proc = subprocess.Popen(command, cwd=directory, env=env, stdout=out, stderr=err)
    try:
        deadline = time.monotonic() + 10
        for _ in range(1000):
            if started.exists():
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    return Run(code, stdout.read_text(), stderr.read_text())


def test_the_default_level_is_warn(tmp_path: Path) -> None:
    run = run_worker(tmp_path)
    assert run.code == 0, run.stderr
    assert "[WARNING] wapp: service started" in run.stderr
    assert "[WARNING] strm.worker: SIGINT received: stopping" in run.stderr
    assert "info from the app" not in run.stderr
    assert "is ready" not in run.stderr


@pytest.mark.parametrize(
    ("level", "shown", "hidden"),
    [
        ("info", ["[INFO] wapp: info from the app", "[INFO] strm.worker"], ["[DEBUG]"]),
        ("debug", ["[DEBUG] wapp: debug from the app", "[INFO] wapp: info from the app"], []),
        ("error", [], ["service started", "SIGINT received"]),
    ],
)
def test_loglevel(tmp_path: Path, level: str, shown: list[str], hidden: list[str]) -> None:
    run = run_worker(tmp_path, "{}", "--loglevel", level)
    assert run.code == 0, run.stderr
    for text in shown:
        assert text in run.stderr
    for text in hidden:
        assert text not in run.stderr


def test_logfile(tmp_path: Path) -> None:
    run = run_worker(tmp_path, "{}", "-l", "info", "-f", "worker.log")
    assert run.code == 0, run.stderr
    logged = (tmp_path / "worker.log").read_text()
    assert "[INFO] strm.worker: worker of app 'wapp' is ready" in logged
    assert "[WARNING] wapp: service started" in logged
    assert "[WARNING] strm.stdout: printed by the app" in logged
    assert "[WARNING] strm.worker: SIGINT received: stopping" in logged
    assert "[INFO] strm.worker: worker of app 'wapp' is stopping" in logged
    assert "strm worker: app wapp" in run.stderr, "the banner still goes to the terminal"
    assert "strm.worker" not in run.stderr


def test_the_apps_handlers_receive_worker_records(tmp_path: Path) -> None:
    setup = """
handler = logging.FileHandler("handler.log")
handler.setFormatter(logging.Formatter("%(levelname)s|%(name)s|%(message)s"))
"""
    run = run_worker(tmp_path, "{'loghandlers': [handler]}", "-l", "info", setup=setup)
    assert run.code == 0, run.stderr
    handled = (tmp_path / "handler.log").read_text().splitlines()
    assert any(
        line.startswith("INFO|strm.worker|worker of app 'wapp' is ready") for line in handled
    )
    assert "WARNING|wapp|service started" in handled
    assert "WARNING|strm.stdout|printed by the app" in handled
    assert any(line.startswith("WARNING|strm.worker|SIGINT received: stopping") for line in handled)
    assert "INFO|wapp|info from the app" in handled
    assert not any(line.startswith("DEBUG|") for line in handled)
    assert "[INFO] strm.worker: worker of app 'wapp' is ready" in run.stderr


def test_logging_config_is_applied(tmp_path: Path) -> None:
    settings = """{
        "logging_config": {
            "formatters": {"short": {"format": "%(levelname)s|%(name)s|%(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "filename": "config.log",
                    "formatter": "short",
                },
            },
            "loggers": {"wapp": {"level": "DEBUG", "handlers": ["file"]}},
        },
    }"""
    run = run_worker(tmp_path, settings)
    assert run.code == 0, run.stderr
    configured = (tmp_path / "config.log").read_text().splitlines()
    assert configured == [
        "DEBUG|wapp|debug from the app",
        "INFO|wapp|info from the app",
        "WARNING|wapp|service started",
    ]
    assert "[DEBUG] wapp: debug from the app" in run.stderr, "records still reach the root"
    assert "[WARNING] strm.worker: SIGINT received: stopping" in run.stderr, (
        "strm's own loggers are not disabled by the configuration"
    )


def test_print_output_goes_to_logging(tmp_path: Path) -> None:
    run = run_worker(tmp_path)
    assert run.code == 0, run.stderr
    assert "[WARNING] strm.stdout: printed by the app" in run.stderr
    assert "[WARNING] strm.stderr: written to stderr by the app" in run.stderr
    assert run.stdout == ""


def test_print_output_at_the_configured_level(tmp_path: Path) -> None:
    run = run_worker(tmp_path, "{'worker_redirect_stdouts_level': 'error'}")
    assert run.code == 0, run.stderr
    assert "[ERROR] strm.stdout: printed by the app" in run.stderr
    assert "[ERROR] strm.stderr: written to stderr by the app" in run.stderr


def test_print_output_left_alone(tmp_path: Path) -> None:
    run = run_worker(tmp_path, "{'worker_redirect_stdouts': False}")
    assert run.code == 0, run.stderr
    assert run.stdout == "printed by the app\n"
    assert "written to stderr by the app\n" in run.stderr
    assert "strm.stdout" not in run.stderr
    assert "strm.stderr" not in run.stderr
    assert "[WARNING] wapp: service started" in run.stderr


# -- the writer behind the redirection -----------------------------------------------------------


def test_logging_writer_logs_whole_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="strm.test")
    writer = LoggingWriter(logging.getLogger("strm.test"), logging.INFO)
    assert writer.write("one\ntw") == 6
    assert [r.getMessage() for r in caplog.records] == ["one"]
    writer.write("o\n\nthree")
    assert [r.getMessage() for r in caplog.records] == ["one", "two", ""]
    writer.flush()
    writer.flush()
    assert [r.getMessage() for r in caplog.records] == ["one", "two", "", "three"]
    assert {r.levelno for r in caplog.records} == {logging.INFO}
    assert writer.writable()
