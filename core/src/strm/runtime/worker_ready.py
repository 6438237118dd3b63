"""The worker's ready line: once the app has started (partitions assigned, tables recovered),
what a person needs to know to trust that it runs and to find it.

The line is a list of parts, each one thing the started worker has or serves; something new the
worker serves (a web server, with its address) adds its part in :func:`ready_parts`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from strm.runtime.recovery_progress import counted

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike


def ready_line(app: AppLike, seconds: float) -> str:
    """``app 'wordcount' ready in 0.81 s: 4 partitions of 1 topic assigned, ...``"""
    return f"app {app.conf.id!r} ready in {seconds:.2f} s: {', '.join(ready_parts(app))}"


def ready_parts(app: AppLike) -> list[str]:
    conductor = app.conductor
    consumer = conductor.consumer
    parts: list[str] = []
    if consumer is None:
        parts.append("no topics to read")
    else:
        internal = {*conductor.changelogs, conductor.leader_topic}
        assigned = [tp for tp in conductor.assignment if tp.topic not in internal]
        topics = {tp.topic for tp in assigned}
        parts.append(
            f"{counted(len(assigned), 'partition')} of {counted(len(topics), 'topic')} assigned"
        )
        standbys = consumer.standbys()
        if standbys:
            parts.append(f"{counted(len(standbys), 'standby partition')} followed")
    tables = app.tables
    if len(tables):
        parts.append(
            f"{counted(len(tables), 'table')} up to date "
            f"({tables.recovered_records:,} changelog records replayed)"
        )
    return parts
