"""The conductor's topic checks at start-up: creating the topics strm owns, and refusing
existing or missing topics that would make the app misplace keys or wait forever.

Split from :mod:`strm.conductor` (the consumer loop); these run before any record is fetched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING

from strm.kernel.errors import StrmError
from strm.kernel.spi import Admin, TopicSpec

if TYPE_CHECKING:
    from strm.channels import Topic
    from strm.runtime.conductor import Conductor


async def declare(self: Conductor, topic: Topic) -> None:
    """Create a topic's topics when strm owns them (internal) or they name a partition
    count, and ``topic_allow_declare`` permits; check the partition count of those that
    exist already."""
    if not (topic.internal or topic.partitions is not None):
        return
    allowed = self.app.conf.topic_allow_declare
    admin = self.app.transport("broker_producer").create_admin()
    for name in topic.topics:
        if name in self._declared:
            continue
        spec = topic.spec(name)
        if allowed and await admin.create_topic(spec):
            self.partition_counts[name] = spec.partitions
        else:
            await check_existing(self, admin, topic, spec.partitions, name)
        self._declared.add(name)


async def check_existing(
    self: Conductor, admin: Admin, topic: Topic, wanted: int, name: str
) -> None:
    """An existing topic with another partition count than the app declares would put keys
    in other partitions than its tables and repartition topics expect: a start-up error."""
    found = await admin.partition_count(name)
    if found is None:
        return
    self.partition_counts[name] = found
    if found == wanted:
        return
    if topic.internal:
        advice = (
            f"it was created with another partition count before; set partitions={found} "
            "where the table or repartition is defined, or delete the topic and the local "
            "table data (the state is lost unless the sources are read again from the "
            "start)"
        )
    else:
        advice = f"pass partitions={found} to app.topic({name!r}, ...), or leave it out"
    raise StrmError(
        f"topic {name!r} exists with {found} partitions, but this app declares {wanted}: {advice}"
    )


async def check_before_join(self: Conductor, names: set[str]) -> None:
    """Create the leader topic and check the source topics at once: each asks the broker
    through an admin client of its own, and neither needs the other, so the start waits for
    the slower instead of both (about 25 ms on a local broker). A failure of either is raised
    as it was when they ran one after the other, the leader topic's first."""
    checks = [check_source_topics(self, names)]
    if self.leader_topic in names:
        checks.insert(0, declare_leader_topic(self))
    for outcome in await asyncio.gather(*checks, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome


async def declare_leader_topic(self: Conductor) -> None:
    if self.app.conf.topic_allow_declare and self.leader_topic not in self._declared:
        admin = self.app.transport("broker_producer").create_admin()
        await admin.create_topic(
            TopicSpec(self.leader_topic, 1, self.app.conf.topic_replication_factor)
        )
        self._declared.add(self.leader_topic)


async def check_source_topics(self: Conductor, names: Iterable[str]) -> None:
    """Fail at start-up, naming the topic, when a source topic strm does not create is
    missing and the broker would not create it either (rather than waiting forever)."""
    admin: Admin | None = None
    creates: bool | None = None
    for name in sorted(names):
        topic = self.topics.get(name)
        if (
            name in self._checked
            or topic is None
            or topic.internal
            or topic.partitions is not None
            or topic.pattern is not None
            or name in self.changelogs
        ):
            continue
        if admin is None:
            admin = self.app.transport("broker_producer").create_admin()
        count = await admin.partition_count(name)
        if count is not None:
            self.partition_counts[name] = count
        else:
            if creates is None:
                creates = await admin.creates_topics_on_use()
            if not creates:
                raise StrmError(
                    f"source topic {name!r} does not exist, and the broker does not create "
                    f"topics on use (auto.create.topics.enable=false): create it, or pass "
                    f"partitions=N to app.topic({name!r}, ...) so strm creates it"
                )
        self._checked.add(name)
