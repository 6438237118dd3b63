"""``strm reset`` and ``strm clean-versions``: start an app over, and drop old versions' data.

``reset`` empties every table's store, through the store plugin (``Store.clear``, which also
forgets the changelog offsets it had applied), so that the next worker rebuilds the tables from
their changelogs from the first record; and it moves the group's committed offsets of the agents'
topics back to the beginning. The changelogs are kept: what they record is the tables' history,
and a table rebuilt from them resumes each source partition after the last record its seals
account for, so a source record is never counted twice. An agent without a table reads its
topic from the beginning again.

Both refuse to run while a worker of the app holds a store (the store plugin reports it locked);
stop the workers first.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from strm.channels import Topic
from strm.cli.context import current_app
from strm.cli.output import show_rows, wants_json
from strm.kernel.errors import StrmError
from strm.kernel.redaction import redact_url
from strm.kernel.spi import TP

if TYPE_CHECKING:
    from strm.app import App
    from strm.tables.table import Collection


@click.command("reset", help="Delete the tables' state and rewind the group's committed offsets.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--offsets/--no-offsets",
    default=True,
    show_default=True,
    help="Also move the group's committed offsets of the agents' topics to the beginning.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was reset as JSON.")
def reset_command(yes: bool, offsets: bool, as_json: bool) -> None:
    app = current_app().configure()
    topics = source_topics(app) if offsets else []
    if not yes:
        click.echo(_warning(app, topics), err=True)
        click.confirm("Reset?", abort=True, err=True)
    rows = asyncio.run(_reset(app, topics))
    if wants_json(as_json):
        show_rows(rows, True, ())
        return
    for row in rows:
        click.echo(f"reset {row['kind']} {row['name']}: {row['what']}")


def source_topics(app: App) -> list[str]:
    """The topics the app's agents read: those whose committed offsets ``reset`` rewinds."""
    names: set[str] = set()
    for agent in app.agents.values():
        channel = agent.channel
        if isinstance(channel, Topic) and channel.pattern is None:
            names.update(channel.topics)
    return sorted(names)


def _warning(app: App, topics: list[str]) -> str:
    lines = [f"This deletes the local state of app {app.conf.id!r}:"]
    for table in app.tables:
        store = redact_url(table.store_url or app.conf.store)
        lines.append(f"  table {table.name} (store {store})")
    if topics:
        lines.append(
            f"and moves the committed offsets of group {app.conf.id!r} to the beginning of: "
            + ", ".join(topics)
        )
    lines.append("The tables are rebuilt from their changelogs when a worker starts again.")
    return "\n".join(lines)


async def _reset(app: App, topics: list[str]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    try:
        for table in app.tables:
            count = await _partition_count(app, table)
            _clear(table, count)
            rows.append(
                {"kind": "table", "name": table.name, "partitions": count, "what": "emptied"}
            )
        if topics:
            rewound = await _rewind(app, topics)
            for topic in topics:
                parts = sorted(tp.partition for tp in rewound if tp.topic == topic)
                rows.append(
                    {
                        "kind": "topic",
                        "name": topic,
                        "partitions": len(parts),
                        "what": f"offsets of group {app.conf.id!r} at the beginning",
                    }
                )
    finally:
        await app.producers.stop()
    return rows


async def _partition_count(app: App, table: Collection) -> int:
    """The changelog's partitions (what a worker would open), else the table's own count."""
    admin = app.transport("broker_producer").create_admin()
    count = await admin.partition_count(table.changelog_topic_name)
    if count is not None:
        return count
    return int(table.partitions or app.conf.topic_partitions)


def _clear(table: Collection, partitions: int) -> None:
    opened = set(range(partitions))
    try:
        for partition in sorted(opened):
            table.shard(partition).store.clear()
    finally:
        table.close_shards(opened)


async def _rewind(app: App, topics: list[str]) -> set[TP]:
    """Join the group alone, commit the beginning of every partition it is given, leave."""
    conf = app.conf
    consumer = app.transport("broker_consumer").create_consumer(
        group_id=conf.id, client_id=f"{conf.broker_client_id}-reset"
    )
    listener = _Assignment()
    consumer.subscribe(topics, listener)
    await consumer.start()
    try:
        timeout = max(30.0, float(conf.broker_rebalance_timeout))
        deadline = time.monotonic() + timeout
        while not listener.assigned.is_set():
            if time.monotonic() > deadline:
                raise StrmError(
                    f"reset: the group {conf.id!r} assigned no partitions of "
                    f"{', '.join(topics)} within {timeout:.0f} s; is a worker still running?"
                )
            await consumer.getmany(0.2, max_records=1)  # the records do not matter
        assigned = consumer.assignment()
        beginnings = await consumer.beginning_offsets(assigned)
        await consumer.commit(beginnings)
        return set(beginnings)
    finally:
        await consumer.stop()


class _Assignment:
    """The rebalance listener of ``reset``'s consumer: it only needs to know it was assigned."""

    def __init__(self) -> None:
        self.assigned = asyncio.Event()

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self.assigned.clear()

    async def on_partitions_assigned(self, assigned: set[TP]) -> None:
        self.assigned.set()


@click.command("clean-versions", help="Delete the data directories of the app's older versions.")
@click.option("--json", "as_json", is_flag=True, help="Print the removed directories as JSON.")
def clean_versions_command(as_json: bool) -> None:
    app = current_app().configure()
    removed = []
    for directory in old_version_directories(app.conf.datadir, app.conf.version):
        shutil.rmtree(directory)
        removed.append({"version": int(directory.name[1:]), "directory": str(directory)})
    if wants_json(as_json):
        show_rows(removed, True, ())
        return
    for row in removed:
        click.echo(f"removed {row['directory']}")
    if not removed:
        click.echo(f"no data directory of a version before {app.conf.version}")


def old_version_directories(datadir: Path, version: int) -> Iterable[Path]:
    """``datadir/v<N>`` for every N below the current version that exists, newest first."""
    for number in range(version - 1, -1, -1):
        path = datadir / f"v{number}"
        if path.is_dir():
            yield path
