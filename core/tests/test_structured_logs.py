"""``strm --log-format json``: one JSON object per log line, with the app, the process and the
position of the record a line is about."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from strm.kernel.errors import ConfigurationError
from strm.runtime.structured_logs import JsonFormatter, log_position
from strm.runtime.worker_logging import log_formatter

#: A record that does not decode (offset 0), an event the agent raises on (offset 1), two it
#: takes (offsets 2 and 3) and logs about itself.
APP = """\
import logging
import pathlib

import strm

app = strm.App("jsonapp", entry_points=False, topic_partitions=1)
numbers = app.topic("numbers", value_type=int)
log = logging.getLogger("jsonapp")


@app.agent(numbers)
async def take(stream):
    async for number in stream:
        if number == 13:
            raise RuntimeError("unlucky número 13")
        log.warning("took %d", number)
        if number == 2:
            pathlib.Path("done").touch()


@app.task
async def feed():
    await numbers.send_raw(key=None, value=b"{not json")
    for number in (13, 1, 2):
        await numbers.send(value=number)
"""


def run_json_worker(directory: Path, args: tuple[str, ...], env: dict[str, str]) -> list[Any]:
    """Run the app until the agent has taken its last event, stop it with SIGTERM, and return
    its stderr, each line parsed as JSON."""
    (directory / "jsonapp.py").write_text(APP)
    stderr = directory / "stderr.txt"
    command = [sys.executable, "-m", "strm", "-A", "jsonapp", *args, "worker", "--without-web"]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONUTF8": "1", **env}
    with stderr.open("w") as err:
        proc = subprocess.Popen(command, cwd=directory, env=env, stdout=err, stderr=err)
    try:
        deadline = time.monotonic() + 20
        while not (directory / "done").exists():
            assert proc.poll() is None, stderr.read_text()
            assert time.monotonic() < deadline, stderr.read_text()
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, stderr.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    lines = [json.loads(line) for line in stderr.read_text().splitlines()]
    for line in lines:
        assert line["app"] == "jsonapp"
        assert line["pid"] == proc.pid
    return lines


def only(lines: list[Any], logger: str, text: str) -> Any:
    found = [line for line in lines if line["logger"] == logger and text in line["message"]]
    assert len(found) == 1, lines
    return found[0]


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--log-format", "json"), {}), ((), {"STRM_LOG_FORMAT": "json"})],
    ids=["option", "environment"],
)
def test_a_worker_logs_json_lines_with_the_position_of_the_record(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    lines = run_json_worker(tmp_path, ("-l", "info", *args), env)
    started = datetime.now(UTC) - timedelta(minutes=1)
    for line in lines:
        assert set(line) >= {"time", "level", "logger", "message", "app", "pid"}
        assert started < datetime.fromisoformat(line["time"]) <= datetime.now(UTC)

    undecodable = only(lines, "strm.deadletters", "failed to decode")
    assert undecodable["level"] == "ERROR"
    assert undecodable["message"].startswith("record numbers[0]@0 failed to decode and was skipped")
    assert (undecodable["topic"], undecodable["partition"], undecodable["offset"]) == (
        "numbers",
        0,
        0,
    )

    raised = only(lines, "strm.agents", "raised RuntimeError")
    assert raised["level"] == "ERROR"
    assert (raised["topic"], raised["partition"], raised["offset"]) == ("numbers", 0, 1)
    assert raised["exc_info"].startswith("Traceback (most recent call last):")
    assert raised["exc_info"].endswith("RuntimeError: unlucky número 13")
    skipped = only(lines, "strm.deadletters", "failed to process in agent")
    assert skipped["offset"] == 1

    took = [line for line in lines if line["logger"] == "jsonapp"]
    assert [(line["message"], line["level"], line["offset"]) for line in took] == [
        ("took 1", "WARNING", 2),
        ("took 2", "WARNING", 3),
    ]
    assert {line["topic"] for line in took} == {"numbers"}

    ready = only(lines, "strm.worker", "is ready")
    assert ready["level"] == "INFO"
    stopping = only(lines, "strm.worker", "SIGTERM received")
    assert "topic" not in stopping and "exc_info" not in stopping


# -- the formatter --------------------------------------------------------------------------------


def format_record(
    message: object, *args: object, exc_info: Any = None, extra: dict[str, Any] | None = None
) -> Any:
    record = logging.getLogger("strm.test").makeRecord(
        "strm.test", logging.WARNING, __file__, 1, message, args, exc_info, extra=extra
    )
    line = JsonFormatter("fmtapp").format(record)
    assert "\n" not in line
    return json.loads(line)


def test_a_line_has_the_time_in_utc_the_level_the_logger_and_the_app() -> None:
    line = format_record("plain")
    assert line == {
        "time": line["time"],
        "level": "WARNING",
        "logger": "strm.test",
        "message": "plain",
        "app": "fmtapp",
        "pid": os.getpid(),
    }
    assert datetime.fromisoformat(line["time"]).utcoffset() == timedelta(0)


def test_an_exception_becomes_its_formatted_traceback() -> None:
    try:
        raise KeyError("missing")
    except KeyError:
        line = format_record("lookup failed", exc_info=sys.exc_info())
    assert line["message"] == "lookup failed"
    assert line["exc_info"].startswith("Traceback (most recent call last):\n")
    assert line["exc_info"].endswith("KeyError: 'missing'")


def test_messages_of_any_type_with_arguments_of_any_type() -> None:
    assert format_record("%s and %r", {"a": 1}, b"\x00")["message"] == "{'a': 1} and b'\\x00'"
    assert format_record(ValueError("not a string"))["message"] == "not a string"
    assert format_record("%d%%", 5)["message"] == "5%"


def test_unicode_and_newlines_stay_on_one_ascii_line() -> None:
    text = "naïve ☃ 日本\nsecond line"
    record = logging.LogRecord("strm.test", logging.INFO, __file__, 1, text, None, None)
    line = JsonFormatter("fmtapp").format(record)
    assert line.isascii()
    assert json.loads(line)["message"] == text


def test_the_position_given_to_the_log_call_becomes_fields() -> None:
    line = format_record("bad record", extra=log_position("orders", 3, 42))
    assert (line["topic"], line["partition"], line["offset"]) == ("orders", 3, 42)
    partition_only = format_record("stuck", extra=log_position("orders", 3))
    assert (partition_only["topic"], partition_only["partition"]) == ("orders", 3)
    assert "offset" not in partition_only
    odd = format_record("odd", extra={"topic": Path("not/json")})
    assert odd["topic"] == "not/json"


def test_an_unknown_log_format_is_a_configuration_error() -> None:
    assert isinstance(log_formatter("json", "app"), JsonFormatter)
    with pytest.raises(ConfigurationError, match="log format 'xml': choose one of text, json"):
        log_formatter("xml", "app")
