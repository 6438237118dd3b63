"""Run by ``test_wheels.py`` with the Python of a fresh virtual environment holding the built
wheels: that the installed kernel and on-disk store plugins work there, not merely import.

An event sent on ``memory://`` goes through an agent into a table on each on-disk store. A
second app over the same data directory must then find the counts in the stores with nothing
replayed from the changelog, which only the plugins' native libraries (rocksdict, plyvel) can
have kept. Prints the two runs as JSON; the test judges them.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile

import strm

STORES = ("rocksdb://", "leveldb://")
WAIT = 10.0

Run = tuple[int, dict[str, dict[str, int]]]


async def run(datadir: str, words: list[str]) -> Run:
    """One worker's life: start (recover), count ``words`` into every store, stop (checkpoint).

    Returns the records replayed at start and each store's table as the agent left it."""
    app = strm.App("smoke", datadir=datadir, broker_commit_interval=3600.0)
    topic = app.topic("words", key_type=str, value_type=str)
    tables = {
        url: app.Table(f"counts-{url.split(':')[0]}", default=int, store=url) for url in STORES
    }
    counted: asyncio.Queue[str] = asyncio.Queue()

    @app.agent(topic)
    async def count(stream: strm.Stream) -> None:
        async for word in stream:
            for table in tables.values():
                table[word] += 1
            counted.put_nowait(word)

    async with app.running():
        replayed = app.tables.recovered_records
        for word in words:
            await topic.send(key=word, value=word)
        for _ in words:
            await asyncio.wait_for(counted.get(), WAIT)
        return replayed, {url: table.as_dict() for url, table in tables.items()}


async def main() -> None:
    with tempfile.TemporaryDirectory() as datadir:
        first = await run(datadir, ["hello"])
        second = await run(datadir, [])
    json.dump({"first": first, "second": second}, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
