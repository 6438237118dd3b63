"""The smallest app: a worker running one service that says hello once a second.

uv run strm -A examples.hello -l info worker
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import strm

app = strm.App("hello")


@contextlib.asynccontextmanager
async def greeter(app: strm.App) -> AsyncIterator[None]:
    async def greet() -> None:
        for tick in range(1, 1_000_000):
            print(f"hello from {app.conf.id}: tick {tick}", flush=True)
            await asyncio.sleep(1.0)

    task = asyncio.create_task(greet())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


app.add_service(greeter)
