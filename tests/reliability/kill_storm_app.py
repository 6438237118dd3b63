"""The word count the kill storm (killstorm.py) runs in worker processes: ``strm -A
kill_storm_app worker``, configured by the environment the harness gives each worker.

Each stage is throttled to ``KS_RATE`` events per second so that the job is still running when
the storm's kills arrive: unthrottled, a worker counts the whole input between two kills. With
group_by the source stage is throttled too (in the key function), so that kills also find
records read from the input and not yet committed, on their way through the repartition topic.
"""

from __future__ import annotations

import asyncio
import os
import time

import strm

#: Events between two looks at the clock: the throttle's sleeps stay a few tens of
#: milliseconds, far below the checkpoint's quiesce timeout, so a checkpoint never waits long.
THROTTLE_EVERY = 50


class Throttle:
    """At most ``rate`` events per second through one stage. Each chunk of events takes at
    least its share of time; idle time (a rebalance, a recovery) is no credit for a burst."""

    def __init__(self, rate: float) -> None:
        self.chunk_seconds = THROTTLE_EVERY / rate
        self.chunk_started = time.monotonic()
        self.seen = 0

    async def tick(self) -> None:
        self.seen += 1
        if self.seen % THROTTLE_EVERY == 0:
            elapsed = time.monotonic() - self.chunk_started
            await asyncio.sleep(max(0.0, self.chunk_seconds - elapsed))
            self.chunk_started = time.monotonic()


app = strm.App(
    os.environ["KS_APP"],
    broker=os.environ["KS_BROKER"],
    store="rocksdb://",
    topic_partitions=int(os.environ["KS_PARTITIONS"]),
    processing_guarantee=os.environ["KS_GUARANTEE"],
    broker_commit_interval=0.2,
    # A killed member leaves the group when its session times out: keep that short.
    broker_session_timeout=6.0,
    broker_heartbeat_interval=0.5,
    broker_rebalance_timeout=10.0,
)
words = app.topic(os.environ["KS_TOPIC"], key_type=str, value_type=str)
counts = app.Table("counts", default=int)
GROUP_BY = os.environ["KS_GROUP_BY"] == "1"
source_throttle = Throttle(float(os.environ["KS_RATE"]))
count_throttle = Throttle(float(os.environ["KS_RATE"]))


async def word_of(word: str) -> str:
    """The repartition key: the word itself."""
    await source_throttle.tick()
    return word


@app.agent(words)
async def count(stream: strm.Stream) -> None:
    source = stream.group_by(word_of, name="word") if GROUP_BY else stream
    async for word in source:
        await count_throttle.tick()
        counts[word] += 1  # the last thing the event does: a checkpoint never splits it
