"""The SQLite store example passes the kernel's store contract suites.

Its tests live with it (``examples/sqlite_store/tests``), as a plugin author's would; this runs
them in the workspace environment with the example's source on the path, in a subprocess so its
``strm_example_sqlite`` import does not linger in this one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "sqlite_store"


def test_the_sqlite_store_example_passes_its_tests_and_the_contract_suites() -> None:
    env = {**os.environ, "PYTHONPATH": str(EXAMPLE / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The contract suites are most of it: far fewer passes means they were not collected.
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed is not None and int(passed.group(1)) >= 30, result.stdout
