"""Passwords in URLs are never shown: not by the worker banner, not in errors refusing a URL,
not by the memory transport, and ``redact_url`` itself."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_transport import MemoryTransport, broker_key, drop_broker, get_broker
from strm.kernel.errors import BackendNotFoundError, ConfigurationError, StrmError
from strm.kernel.redaction import redact_url, redact_urls
from strm.runtime.backend_contexts import transport_context as app_transport_context

SECRET = "s3cret"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("kafka://user:s3cret@host:9092", "kafka://user:***@host:9092"),
        ("redis://:s3cret@host:6379/0", "redis://:***@host:6379/0"),
        ("https://s3cret@host/path?q=1#f", "https://***@host/path?q=1#f"),
        ("aerospike://u:s3cret@h1,h2:3000/ns?set=a@b", "aerospike://u:***@h1,h2:3000/ns?set=a@b"),
        ("kafka://u:pa@s3cret@host", "kafka://u:***@host"),
        ("kafka://u:s3cret@h1;v:s3cret@h2", "kafka://u:***@h2"),
        ("kafka://u:s3cret@h1;memory://h2", "kafka://u:***@h1;memory://h2"),
        (":s3cret@host", ":***@host"),
        ("see http://h and kafka://u:s3cret@h", "see http://h and kafka://u:***@h"),
        ("kafka://host:9092", "kafka://host:9092"),
        ("rocksdb:///data/at@sign", "rocksdb:///data/at@sign"),
        ("memory://", "memory://"),
        ("", ""),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_urls_reaches_into_containers_and_leaves_other_text() -> None:
    value = {"a": ["kafka://u:s3cret@h"], "b": ("x@y", 3), "c": "mail@example.com"}
    assert redact_urls(value) == {
        "a": ["kafka://u:***@h"],
        "b": ("x@y", 3),
        "c": "mail@example.com",
    }


# -- errors that quote a URL ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"broker": "kafkq://u:s3cret@h:9092"}, "broker 'kafkq://u:***@h:9092': no installed"),
        ({"cache": "redis://:s3cret@h"}, "cache 'redis://:***@h' is provided by strm-cache-redis"),
        ({"store": "nope://u:s3cret@h/x"}, "store 'nope://u:***@h/x': no installed"),
    ],
)
def test_a_url_of_a_missing_backend_is_refused_without_its_password(
    strm_app_factory: Callable[..., App], settings: dict[str, Any], expected: str
) -> None:
    (setting,) = settings
    with pytest.raises(BackendNotFoundError) as info:
        strm_app_factory(**settings).configure().resolve_backend(setting)
    assert SECRET not in str(info.value)
    assert expected in str(info.value)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"broker": "kafka://u:s3cret@h;memory://g"},
            "bad value 'kafka://u:***@h;memory://g': all URLs must use one scheme; got "
            "'kafka://u:***@h' and 'memory://g'",
        ),
        (
            {"broker": ["kafka://u:s3cret@h", "memory://v:s3cret@g"]},
            "bad value ['kafka://u:***@h', 'memory://v:***@g']: all URLs must use one scheme",
        ),
        (
            {"cache": ":s3cret@h"},
            "bad value ':***@h': expected a URL such as 'scheme://host', got ':***@h'",
        ),
    ],
)
def test_a_bad_url_setting_is_refused_without_its_password(
    strm_app_factory: Callable[..., App], settings: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        strm_app_factory(**settings).configure()
    assert SECRET not in str(info.value)
    assert expected in str(info.value)


def test_a_bad_url_from_the_environment_is_refused_without_its_password(
    strm_app_factory: Callable[..., App],
) -> None:
    app = strm_app_factory(environ={"BROKER_URL": "kafka://u:s3cret@h,memory://g"})
    with pytest.raises(ConfigurationError) as info:
        app.configure()
    assert SECRET not in str(info.value)
    assert "(from environment BROKER_URL): bad value 'kafka://u:***@h,memory://g'" in str(
        info.value
    )


def test_the_memory_transport_does_not_show_the_password_of_its_url() -> None:
    url = "memory://u:s3cret@redaction-test"
    try:
        assert SECRET not in repr(get_broker(url))
    finally:
        drop_broker(url)
    with pytest.raises(ConfigurationError) as info:
        broker_key("kafka://u:s3cret@h")
    assert SECRET not in str(info.value)


def test_two_memory_brokers_are_refused_without_their_passwords(
    strm_app_factory: Callable[..., App],
) -> None:
    context = app_transport_context(strm_app_factory())
    with pytest.raises(StrmError) as info:
        MemoryTransport(context=context, urls=["memory://u:s3cret@a", "memory://u:s3cret@b"])
    assert SECRET not in str(info.value)
    assert "memory://u:***@a" in str(info.value)


# -- the worker banner ---------------------------------------------------------------------------


def test_the_worker_banner_does_not_show_passwords(tmp_path: Path) -> None:
    (tmp_path / "wapp.py").write_text(
        "import strm\n"
        "app = strm.App('wapp', entry_points=False, broker='memory://u:s3cret@banner',\n"
        "               store='memory://:s3cret@tables')\n"
    )
    stderr = tmp_path / "stderr.txt"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONUTF8": "1"}
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "strm", "-A", "wapp", "worker", "--without-web"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            if re.search(r"ready in|is ready", stderr.read_text()):
                proc.send_signal(signal.SIGINT)
                break
            time.sleep(0.05)
        assert proc.wait(30) == 0, stderr.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    shown = stderr.read_text()
    assert SECRET not in shown
    assert "  broker    memory://u:***@banner" in shown.splitlines()
    assert "  store     memory://:***@tables" in shown.splitlines()


def test_a_transport_without_a_threaded_producer_is_refused_without_its_password(
    strm_app_factory: Callable[..., App],
) -> None:
    app = strm_app_factory(broker="memory://u:s3cret@threaded", producer_threaded=True)
    with pytest.raises(ConfigurationError) as info:
        app.configure()
    assert SECRET not in str(info.value)
    assert "'memory://u:***@threaded' cannot run a producer on another thread" in str(info.value)


FAILING_STORE = """
import strm
from strm.kernel import records


def failing(**options):
    raise RuntimeError("no route to host")


@strm.hookimpl
def strm_stores():
    return [records.store("failing", failing)]
"""


def test_a_store_that_fails_to_open_is_named_without_its_password(
    strm_app_factory: Callable[..., App], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "failingstore.py").write_text(FAILING_STORE)
    monkeypatch.syspath_prepend(str(tmp_path))
    app = strm_app_factory(plugins=["failingstore"], store="failing://u:s3cret@tables")
    table = app.Table("counts", default=int)
    app.configure()
    with pytest.raises(StrmError) as info:
        app.tables.open_store(table, 0)
    assert SECRET not in str(info.value)
    assert "cannot open its store 'failing://u:***@tables': RuntimeError" in str(info.value)
