"""``stream.group_by(Model.field)`` on a real Kafka broker: every event goes through the
internal repartition topic ``<app id>-<source>-<field>-repartition`` under its new key, so all
events with the same new key — sent to every partition of the source topic — meet in one
partition of the repartition topic, and the stream continues from there."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
import strm
from itest_helpers import read_topic
from strm.app import App
from strm.testing import eventually

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

USERS = [f"user-{i}" for i in range(10)]
SOURCE_PARTITIONS = 4
PER_USER = 8


class Click(strm.Record):
    user: str
    page: str
    n: int


async def test_group_by_field_repartitions_each_new_key_into_one_partition(
    kafka_app: Callable[..., App], kafka_bootstrap: str, unique: Callable[[str], str]
) -> None:
    app_id = unique("groupby")
    app = kafka_app(app_id, topic_partitions=SOURCE_PARTITIONS)
    source_name = unique("clicks")
    clicks = app.topic(source_name, key_type=str, value_type=Click, partitions=SOURCE_PARTITIONS)
    seen: list[tuple[Any, Click, str, int]] = []
    source_partitions: dict[str, set[int]] = defaultdict(set)

    @app.agent(clicks)
    async def per_user(stream: Any) -> None:
        async for event in stream.group_by(Click.user).events():
            seen.append((event.key, event.value, event.message.topic, event.message.partition))

    total = len(USERS) * PER_USER
    async with app.running():
        n = 0
        for i in range(PER_USER):
            for user in USERS:
                # keyed by the click, not the user: each user's clicks are spread over every
                # partition of the source topic
                partition = n % SOURCE_PARTITIONS
                source_partitions[user].add(partition)
                await clicks.send(
                    key=f"click-{n}",
                    value=Click(user=user, page=f"/p{i}", n=n),
                    partition=partition,
                )
                n += 1
        await eventually(lambda: len(seen) >= total, timeout=30)

    assert len(seen) == total
    assert all(len(parts) > 1 for parts in source_partitions.values())
    repartition = f"{app_id}-{source_name}-user-repartition"
    assert {topic for _k, _v, topic, _p in seen} == {repartition}
    by_user: dict[str, set[int]] = defaultdict(set)
    for key, click, _topic, partition in seen:
        assert key == click.user  # the new key
        by_user[click.user].add(partition)
    assert set(by_user) == set(USERS)
    assert all(len(parts) == 1 for parts in by_user.values()), dict(by_user)
    # every click arrived exactly once
    assert sorted(click.n for _k, click, _t, _p in seen) == list(range(total))
    # ten users over the repartition topic's partitions: more than one partition is used
    assert len({next(iter(p)) for p in by_user.values()}) > 1

    # The repartition topic itself, read with a plain consumer: the same picture.
    records = await read_topic(kafka_bootstrap, repartition, total)
    assert len(records) == total
    wire: dict[bytes, set[int]] = defaultdict(set)
    for record in records:
        wire[record.key].add(record.partition)
    assert {k.decode() for k in wire} == set(USERS)
    assert all(len(parts) == 1 for parts in wire.values())
    assert {k.decode(): next(iter(p)) for k, p in wire.items()} == {
        u: next(iter(p)) for u, p in by_user.items()
    }
