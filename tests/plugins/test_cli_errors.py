"""Bad input on the command line: exit code 2 and one ``Error: ...`` line naming the problem.

Each case runs ``python -m strm`` in a directory holding the files it needs, with an environment
free of ``STRM_*`` and setting variables. Without ``--debug`` there must be no traceback; with it
there must be one, above the same error line.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from strm.kernel.settings.catalogue import KERNEL_SETTINGS

TIMEOUT = 60.0
_SETTING_VARIABLES = {spec.env for spec in KERNEL_SETTINGS if spec.env}


def app_module(settings: str) -> str:
    return f"import strm\n\napp = strm.App('errapp', {settings})\n"


def kafka_blocked() -> list[str]:
    """``--plugin no:NAME`` for the Kafka transport's entry points, should it be installed here,
    so that ``kafka://`` is missing whatever this environment has."""
    names = {
        ep.name
        for ep in metadata.entry_points(group="strm")
        if ep.dist is not None and ep.dist.name == "strm-transport-kafka"
    }
    return [arg for name in sorted(names) for arg in ("--plugin", f"no:{name}")]


@dataclass
class Case:
    files: dict[str, str]
    args: list[str]
    expected: list[str]
    env: dict[str, str] = field(default_factory=dict)


PLUGIN_STORE = """\
import strm
from strm.kernel import records

class Store:
    pass

@strm.hookimpl
def strm_stores():
    return [records.store("twin", Store)]
"""

CASES: dict[str, Case] = {
    "unknown store scheme": Case(
        {"errapp.py": app_module("store='nope://'")},
        ["-A", "errapp", "worker"],
        ["store 'nope://': no installed plugin provides the store scheme 'nope://'; installed: ",
         "memory"],
    ),
    "kafka transport not installed": Case(
        {"errapp.py": app_module("broker='kafka://localhost:9092'")},
        ["-A", "errapp", *kafka_blocked(), "worker"],
        ["broker 'kafka://localhost:9092' is provided by strm-transport-kafka",
         "pip install strm-transport-kafka"],
    ),
    "wrong type": Case(
        {"errapp.py": app_module("topic_partitions='many'")},
        ["-A", "errapp", "worker"],
        ["setting 'topic_partitions': bad value 'many': expected an integer"],
    ),
    "bad environment value": Case(
        {"errapp.py": app_module("")},
        ["-A", "errapp", "worker"],
        ["setting 'topic_partitions' (from environment TOPIC_PARTITIONS): bad value 'abc'",
         "expected an integer"],
        env={"TOPIC_PARTITIONS": "abc"},
    ),
    "unknown setting": Case(
        {"errapp.py": app_module("topic_partitons=4")},
        ["-A", "errapp", "worker"],
        ["unknown setting 'topic_partitons'; did you mean 'topic_partitions'"],
    ),
    "plugin raising at import": Case(
        {"boomplugin.py": "raise RuntimeError('cannot reach the licence server')\n"},
        ["--plugin", "boomplugin", "plugins"],
        ["plugin 'boomplugin' failed to import: RuntimeError: cannot reach the licence server"],
    ),
    "two plugins claiming one scheme": Case(
        {"errapp.py": app_module(""), "twin_a.py": PLUGIN_STORE, "twin_b.py": PLUGIN_STORE},
        ["-A", "errapp", "--plugin", "twin_a", "--plugin", "twin_b", "worker"],
        ["two plugins provide the store scheme 'twin://': module twin_a and module twin_b"],
    ),
    "-A of a missing module": Case(
        {},
        ["-A", "strm_no_such_app_module", "worker"],
        ["-A strm_no_such_app_module: no module named 'strm_no_such_app_module'"],
    ),
    "worker without -A": Case(
        {},
        ["worker"],
        ["'strm worker' needs an app: strm -A yourproject.app ..."],
    ),
    "misspelt installed scheme": Case(
        {"errapp.py": app_module("store='memroy://'")},
        ["-A", "errapp", "worker"],
        ["store 'memroy://': no installed plugin provides the store scheme 'memroy://'; "
         "installed: ", "memory", "; did you mean 'memory://'?"],
    ),
    "misspelt scheme of a plugin not installed": Case(
        {"errapp.py": app_module("broker='kafak://localhost:9092'")},
        ["-A", "errapp", *kafka_blocked(), "worker"],
        ["broker 'kafak://localhost:9092': no installed plugin provides the transport scheme "
         "'kafak://'", "; did you mean 'kafka://' (pip install strm-transport-kafka)?"],
    ),
    "misspelt store scheme": Case(
        {"errapp.py": app_module("store='rocksbd:///tmp/x'")},
        ["-A", "errapp", "worker"],
        ["store 'rocksbd:///tmp/x': no installed plugin provides the store scheme 'rocksbd://'",
         "; did you mean 'rocksdb://'"],
    ),
    "misspelt cache scheme": Case(
        {"errapp.py": app_module("cache='redsi://localhost'")},
        ["-A", "errapp", "worker"],
        ["cache 'redsi://localhost': no installed plugin provides the cache scheme 'redsi://'",
         "; did you mean 'redis://'"],
    ),
    "-A of a misspelt module": Case(
        {"wordcount.py": app_module("")},
        ["-A", "wordcont", "worker"],
        ["-A wordcont: no module named 'wordcont'; did you mean 'wordcount'?"],
    ),
    "-A of a misspelt attribute": Case(
        {"errapp.py": app_module("")},
        ["-A", "errapp:ap", "worker"],
        ["-A errapp:ap: errapp has no strm.App named 'ap'; did you mean 'errapp:app'?"],
    ),
    "-A of a misspelt file": Case(
        {"errapp.py": app_module("")},
        ["-A", "errap.py", "worker"],
        ["-A errap.py: no such file 'errap.py'; did you mean 'errapp.py'?"],
    ),
}  # fmt: skip


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("STRM_")
        and key not in _SETTING_VARIABLES
        and key not in {"PYTHONPATH", "PYTHONHOME"}
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["APP_WEB_ENABLED"] = "false"  # tests bind loopback only; no case is about the web
    env.update(extra)
    return env


def run_case(case: Case, cwd: Path, *, debug: bool) -> subprocess.CompletedProcess[str]:
    for name, text in case.files.items():
        (cwd / name).write_text(text)
    args = [sys.executable, "-m", "strm", *(["--debug"] if debug else []), *case.args]
    return subprocess.run(
        args, cwd=cwd, env=clean_env(case.env), capture_output=True, text=True, timeout=TIMEOUT
    )


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_error_line_without_traceback(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    result = run_case(case, tmp_path, debug=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for expected in case.expected:
        assert expected in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("name", list(CASES))
def test_debug_adds_the_traceback(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    result = run_case(case, tmp_path, debug=True)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("Traceback (most recent call last):")
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ")
    for expected in case.expected:
        assert expected in last
