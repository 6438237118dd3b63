"""The word count ``bench/processes.py`` runs as ``strm -A processes_app worker [--processes N]``,
configured by the environment: ``BENCH_BOOTSTRAP``, ``BENCH_TOPIC``, ``BENCH_APP_ID``."""

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
    broker_commit_interval=0.5,  # the harness reads progress from the committed offsets
    web_enabled=False,
    consumer_auto_offset_reset="earliest",
)
counts = app.Table("counts", default=int)
words = app.topic(os.environ["BENCH_TOPIC"], key_type=str, value_type=str)


@app.agent(words)
async def count(stream: Any) -> None:
    async for word in stream:
        counts[word] += 1
