"""``strm send``: to a topic or an agent's channel, with keys, partitions, repeats and types; a
value that does not fit the topic's type is refused before anything is sent."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


def metadata(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_send_prints_each_records_metadata_as_json(strm: Run) -> None:
    sent = strm("-A", "shop", "send", "orders", '{"id": "a1", "amount": 3}', "--partition", "2")
    assert sent.returncode == 0, sent.stderr
    [record] = metadata(sent.stdout)
    assert (record["topic"], record["partition"], record["offset"]) == ("orders", 2, 0)
    assert isinstance(record["timestamp"], float)
    assert sent.stderr == "k=None v=Order(id='a1', amount=3.0, note='') -> orders\n"


def test_send_to_an_agent_by_its_short_or_full_name(strm: Run) -> None:
    for name in ("@screen", "@shop.screen"):
        sent = strm("-A", "shop", "send", name, '{"id": "a1", "amount": 3}', "-k", "a1")
        assert sent.returncode == 0, sent.stderr
        assert metadata(sent.stdout)[0]["topic"] == "orders"
        assert "k=b'a1'" in sent.stderr


def test_an_unknown_agent_is_one_line_with_a_suggestion(strm: Run) -> None:
    sent = strm("-A", "shop", "send", "@scren", "{}")
    assert sent.returncode == 2
    assert sent.stderr == "Error: send: no agent '@scren'; did you mean '@screen'?\n"


def test_a_value_that_does_not_fit_the_topics_type_is_refused(strm: Run) -> None:
    missing = strm("-A", "shop", "send", "orders", '{"id": "a1"}')
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert missing.stderr == (
        'Error: send: the value \'{"id": "a1"}\' does not fit Order: '
        "Order: 1 invalid field: amount: required field missing\n"
    )
    not_json = strm("-A", "shop", "send", "orders", "hello")
    assert not_json.returncode == 2
    assert not_json.stderr.startswith("Error: send: the value 'hello' does not fit Order: ")
    assert len(not_json.stderr.splitlines()) == 1


def test_value_type_names_a_model_for_an_untyped_topic(strm: Run) -> None:
    sent = strm("-A", "shop", "send", "other", '{"id": "x", "amount": 1.5}', "-V", "Order")
    assert sent.returncode == 0, sent.stderr
    assert "v=Order(id='x', amount=1.5, note='') -> other" in sent.stderr
    wrong = strm("-A", "shop", "send", "other", "{}", "--value-type", "Ordr")
    assert wrong.returncode == 2
    assert wrong.stderr == ("Error: --value-type 'Ordr': no such model; did you mean 'Order'?\n")


def test_an_untyped_topic_receives_the_text_as_it_is(strm: Run) -> None:
    sent = strm("-A", "shop", "send", "words", "hello", "--key", "k")
    assert sent.returncode == 0, sent.stderr
    assert sent.stderr == "k=b'k' v=b'hello' -> words\n"


def test_repeat_sends_n_records_and_says_how_fast(strm: Run) -> None:
    sent = strm("-A", "shop", "send", "orders", '{"id": "a", "amount": 1}', "-r", "5")
    assert sent.returncode == 0, sent.stderr
    records = metadata(sent.stdout)
    assert len(records) == 5
    last = sent.stderr.splitlines()[-1]
    assert last.startswith("strm send: sent 5 records to orders in ")
    assert last.endswith(" records/s)")
    assert "\x1b" not in sent.stderr  # not a terminal: no line rewritten in place


def test_send_needs_an_app(strm: Run) -> None:
    sent = strm("send", "orders", "x")
    assert sent.returncode == 2
    assert sent.stderr == "Error: 'strm send' needs an app: strm -A yourproject.app ...\n"


PROGRESS = r"strm send: \d/6 records \(\d+%\), [\d,]+ records/s, ETA \d+ s"


def test_repeat_off_a_terminal_writes_progress_lines(strm: Run) -> None:
    # 6 sends 0.3 s apart: 1.5 s, so at least one progress line (they come once a second).
    args = ("--min-latency", "0.3", "--max-latency", "0.3", "-r", "6")
    sent = strm("-A", "shop", "send", "words", "hi", *args)
    assert sent.returncode == 0, sent.stderr
    lines = sent.stderr.splitlines()
    progress = [line for line in lines if re.fullmatch(PROGRESS, line)]
    assert 1 <= len(progress) <= 2, sent.stderr
    assert lines[-1].startswith("strm send: sent 6 records to words in 1.")


@pytest.fixture
def terminal_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONUTF8": "1"}


def test_repeat_on_a_terminal_rewrites_one_line(shop: Path, terminal_env: dict[str, str]) -> None:
    main, child = pty.openpty()
    args = ("--min-latency", "0.3", "--max-latency", "0.3", "-r", "6")
    proc = subprocess.Popen(
        [sys.executable, "-m", "strm", "-A", "shop", "send", "words", "hi", *args],
        cwd=shop,
        env=terminal_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=child,
    )
    os.close(child)
    output = b""
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            readable, _, _ = select.select([main], [], [], 0.1)
            if readable:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # EIO: the command exited and closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(60)
        os.close(main)
    text = output.decode()
    assert re.search(rf"\r\x1b\[K{PROGRESS}\r\x1b\[Kstrm send: sent 6 records", text), text
