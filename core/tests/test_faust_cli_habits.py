"""Faust users' habits on the command line and in settings: worker options where Faust puts
them, Python's level names, values that ask for what strm does anyway, and Faust's class paths."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from strm.app import App
from strm.runtime.table_manager import TableManager
from strm.streams import Stream
from strm.tables.global_table import GlobalTable

AppFactory = Callable[..., App]

APP = """\
import strm as faust

app = faust.App("habits", entry_points=False)
topic = app.topic("habits-in")


@app.agent(topic)
async def consume(stream):
    async for _ in stream:
        pass
"""


class _Worker:
    """``python -m strm -A habits ARGS`` in ``tmp_path``, its output in a file."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        (tmp_path / "habits.py").write_text(APP)
        self.log = tmp_path / f"output-{len(list(tmp_path.glob('output-*')))}.txt"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "strm", "-A", "habits", *args],
                cwd=tmp_path,
                env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(tmp_path)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready_then_stop(self, timeout: float = 20.0) -> str:
        """Wait for the ready line (or an exit), SIGINT the worker, return its output."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05)):
            if "ready in" in self.log.read_text() or self.proc.poll() is not None:
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout)
        return self.log.read_text()

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode


def test_worker_takes_fausts_worker_options(tmp_path: Path) -> None:
    proc = _Worker(tmp_path, "worker", "-l", "info", "--web-port", "6066", "--without-web")
    output = proc.wait_ready_then_stop()
    assert proc.returncode == 0, output
    assert "INFO" in output and "ready in" in output


def test_warning_is_a_level_name_before_and_after_worker(tmp_path: Path) -> None:
    for args in (("-l", "warning", "worker"), ("worker", "--loglevel", "WARNING")):
        proc = _Worker(tmp_path, *args, "--without-web")
        output = proc.wait_ready_then_stop()
        assert proc.returncode == 0, output
        assert "INFO" not in output


def test_web_settings_while_the_web_server_is_off_are_accepted(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory(web_enabled=False, web_port=8080, web_bind="127.0.0.1")
    assert app.conf.web_enabled is False and app.conf.web_port == 8080
    assert strm_app_factory(web_port=8081).conf.web_port == 8081


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("mode.OneForOneSupervisor", "one_for_one"),
        ("mode.OneForAllSupervisor", "one_for_all"),
        ("mode.CrashingSupervisor", "crashing"),
        ("mode.ForfeitOneForOneSupervisor", "forfeit_one_for_one"),
        ("mode.supervisors:ForfeitOneForAllSupervisor", "forfeit_one_for_all"),
    ],
)
def test_modes_supervisors_name_strms(strm_app_factory: AppFactory, value: str, name: str) -> None:
    app = strm_app_factory(agent_supervisor=value)
    assert app.conf.agent_supervisor == name
    assert (
        type(app.supervisor_for(_an_agent(app))).__name__ == value.rpartition(".")[2].split(":")[-1]
    )


def _an_agent(app: App) -> object:
    @app.agent(app.topic("supervised"))
    async def supervised(stream: object) -> None:
        return None

    return supervised


def test_faust_class_paths_name_strms_classes(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(
        Stream="faust.Stream",
        GlobalTable="faust.tables:GlobalTable",
        TableManager="faust.tables.TableManager",
        ConsumerScheduler="faust.transport.utils.DefaultSchedulingStrategy",
    )
    assert app.conf.Stream is Stream
    assert app.conf.GlobalTable is GlobalTable
    assert app.conf.TableManager is TableManager
    assert app.conf.ConsumerScheduler == "round_robin"
    assert isinstance(app.stream([1]), Stream)
