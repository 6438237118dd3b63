"""The partition-count check between a table and a topic that updates it.

Split from :mod:`strm.tables.table`, which runs it once per source topic on the first event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from strm.kernel.errors import StrmError

if TYPE_CHECKING:
    from strm.tables.table import Collection


def check_source(table: Collection, topic: str, partition: int) -> bool:
    """Once per topic: a table is co-partitioned with the topic updating it, which needs
    the same partition count (else the assignor cannot keep a stream partition and its
    table partition on one worker). A global table is whole on every worker, so it only
    needs a partition for each of the topic's. While the topic's count is not known, each
    record's partition is checked instead. True once the topic needs no more checks."""
    count = table.app.conductor.partition_counts.get(topic)
    if count is None:
        if partition >= table.partitions:
            raise StrmError(
                f"table {table.name!r} has {table.partitions} partitions, but it is "
                f"updated from {topic}[{partition}]: a table must have as many "
                "partitions as the topic that updates it (partitions=...)"
            )
        return False
    if count > table.partitions or (count < table.partitions and not table.is_global):
        raise StrmError(
            f"table {table.name!r} has {table.partitions} partitions, but it is updated "
            f"from topic {topic!r}, which has {count}: a table and the topic that updates "
            f"it need the same partition count; create the table with partitions={count} "
            f"(and delete its changelog topic {table.changelog_topic_name!r} if it exists), "
            f"or group_by() the stream into a topic of {table.partitions} partitions"
        )
    return True
