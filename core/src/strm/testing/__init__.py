"""Testing support for strm users and plugin authors.

The pytest plugin (:mod:`strm.testing.pytest_plugin`) is registered through the ``pytest11``
entry point, so its fixtures are available wherever strm is installed. Contract suites that a
backend plugin runs against itself live in :mod:`strm.testing.contracts`.
"""

import asyncio
import time
from collections.abc import Callable


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``condition()`` holds, polling; fail with AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)
