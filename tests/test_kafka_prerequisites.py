"""Without Java the real-Kafka tests skip with one summary line, and CI's variable makes that a
failure naming Java: the suite runs anywhere, and CI never passes without its Kafka tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from strm.testing.kafka import NO_SKIP_ENV

from tests.repository_guard import REPOSITORY

KAFKA_TESTS = [
    "tests/test_kafka_script.py::test_broker_answers_api_versions_and_metadata",
    "tests/test_kafka_script.py::test_three_node_cluster",
]
OTHER_TEST = (
    "tests/test_self_contained.py::test_no_source_climbs_above_the_repository_from_its_own_location"
)


def _suite_without_java(tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """Run a few tests of the suite with a PATH that has no ``java`` (nor ``mvn``)."""
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"JAVA_HOME", NO_SKIP_ENV} and not name.startswith("STRM_KAFKA_")
    }
    env.update(PATH=str(empty_bin), **extra_env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *KAFKA_TESTS, OTHER_TEST],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_without_java_the_kafka_tests_skip_with_one_line(tmp_path: Path) -> None:
    result = _suite_without_java(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 passed, 2 skipped" in output
    assert (
        "2 Kafka tests skipped: Java 17+ and Maven are needed; see docs/kafka-for-tests.md"
        in output
    )


def test_without_java_the_ci_variable_fails_them_naming_java(tmp_path: Path) -> None:
    result = _suite_without_java(tmp_path, **{NO_SKIP_ENV: "1"})
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "java is not on PATH" in output
    assert "Kafka tests skipped" not in output
