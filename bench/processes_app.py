"""The word count ``bench/processes.py`` runs as ``strm -A processes_app worker [--processes N]``,
configured by the environment: ``BENCH_BOOTSTRAP``, ``BENCH_TOPIC``, ``BENCH_APP_ID``,
``BENCH_COMMIT_INTERVAL`` (the harness reads progress from the committed offsets), and
``BENCH_STATELESS`` (non-empty: the agent counts without a table, which leaves out the RocksDB
writes and the changelog, to tell their cost from the rest)."""

from __future__ import annotations

import os
from typing import Any

import strm

app = strm.App(
    os.environ["BENCH_APP_ID"],
    broker=f"kafka://{os.environ['BENCH_BOOTSTRAP']}",
    store="rocksdb://",
    topic_partitions=8,
    stream_buffer_maxsize=65_536,
    broker_commit_interval=float(os.environ["BENCH_COMMIT_INTERVAL"]),
    web_enabled=False,
    consumer_auto_offset_reset="earliest",
)
words = app.topic(os.environ["BENCH_TOPIC"], key_type=str, value_type=str)

if os.environ.get("BENCH_STATELESS"):

    @app.agent(words)
    async def count(stream: Any) -> None:
        seen = 0
        async for _word in stream:
            seen += 1

else:
    counts = app.Table("counts", default=int)

    @app.agent(words)
    async def count(stream: Any) -> None:
        async for word in stream:
            counts[word] += 1
