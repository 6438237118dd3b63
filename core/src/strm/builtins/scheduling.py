"""Consumer schedulers: the order in which a fetch's batches reach the streams.

The default, ``round_robin``, takes one partition of each topic in turn, so that a topic with
many partitions does not starve the others; the ``ConsumerScheduler`` setting names another
registered scheduler or gives a class with the same ``order`` method.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import zip_longest

from strm.kernel import records
from strm.kernel.hookspecs import hookimpl
from strm.kernel.records import Provision
from strm.kernel.spi import TP, Message


class RoundRobinScheduler:
    """Round-robin over topics, then over each topic's partitions."""

    def order(
        self, batches: Mapping[TP, Sequence[Message]]
    ) -> Iterator[tuple[TP, Sequence[Message]]]:
        if len(batches) <= 1:
            yield from batches.items()
            return
        by_topic: dict[str, list[tuple[TP, Sequence[Message]]]] = {}
        for tp, messages in batches.items():
            by_topic.setdefault(tp.topic, []).append((tp, messages))
        for round_ in zip_longest(*(sorted(v) for v in by_topic.values())):
            for entry in round_:
                if entry is not None:
                    yield entry


@hookimpl
def strm_consumer_schedulers() -> list[Provision]:
    return [
        records.consumer_scheduler(
            "round_robin", RoundRobinScheduler, description="topics, then partitions, in turn"
        )
    ]
