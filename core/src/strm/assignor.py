"""The partition assignor (the ``PartitionAssignor`` extension class).

Given the members of a consumer group, what each subscribes to and what each held before, it
decides which partitions each member reads actively and which table changelog partitions it
keeps as a standby copy:

* **Co-partitioned together.** Topics with the same number of partitions and the same
  subscribers form a group; partition ``p`` of every topic of a group goes to one member, so a
  stream's partition, its table's changelog partition and its repartition topic's partition
  meet on one worker.
* **Sticky.** A partition stays with the member that had it, as long as that member is not
  over its share; otherwise it goes preferably to a member that kept it as a standby (its
  table is warm there), then to the least loaded member.
* **Standbys.** Each changelog partition gets up to ``table_standby_replicas`` standby
  members other than its active one, sticky too, spread by load.

Transports call it: the memory transport directly, the Kafka transport from the group leader.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from strm.spi import TP

if TYPE_CHECKING:
    from strm.app import App


@dataclass(frozen=True)
class MemberSubscription:
    """What one member asks for and what it had: the assignor's input."""

    topics: frozenset[str]
    active: frozenset[TP] = frozenset()
    standby: frozenset[TP] = frozenset()


@dataclass
class Assignment:
    """What one member gets."""

    active: set[TP] = field(default_factory=set)
    standby: set[TP] = field(default_factory=set)


class PartitionAssignor:
    def __init__(self, app: App | None = None, *, standby_replicas: int | None = None) -> None:
        if standby_replicas is None:
            standby_replicas = app.conf.table_standby_replicas if app is not None else 0
        self.standby_replicas = standby_replicas

    def assign(
        self,
        members: Mapping[str, MemberSubscription],
        partitions: Mapping[str, int],
        changelogs: Set[str] = frozenset(),
    ) -> dict[str, Assignment]:
        """Assign every partition of ``partitions`` (topic -> count) that some member
        subscribes to; ``changelogs`` are the topics that get standbys."""
        result = {member: Assignment() for member in members}
        groups: dict[tuple[int, frozenset[str]], list[str]] = {}
        for topic, count in sorted(partitions.items()):
            subscribers = frozenset(m for m, sub in members.items() if topic in sub.topics)
            if subscribers and count > 0:
                groups.setdefault((count, subscribers), []).append(topic)
        load: Counter[str] = Counter()
        for (count, subscribers), topics in sorted(groups.items(), key=_group_order):
            owners = self._place(count, sorted(subscribers), topics, members, load)
            for partition, owner in owners.items():
                result[owner].active.update(TP(topic, partition) for topic in topics)
                standby_topics = [t for t in topics if t in changelogs]
                if standby_topics and self.standby_replicas > 0:
                    for member in self._standbys(
                        partition, owner, sorted(subscribers), standby_topics, members, result
                    ):
                        result[member].standby.update(
                            TP(topic, partition) for topic in standby_topics
                        )
        return result

    def _place(
        self,
        count: int,
        eligible: list[str],
        topics: list[str],
        members: Mapping[str, MemberSubscription],
        load: Counter[str],
    ) -> dict[int, str]:
        """Every member gets ``count // n`` partitions or one more (at most ``count % n`` of
        them get one more); within that, partitions stay where they were, then go where a
        warm standby is, then to the least loaded."""
        base, extra = divmod(count, len(eligible))
        placed: Counter[str] = Counter()
        owners: dict[int, str] = {}
        over = 0

        def had(member: str, partition: int, standby: bool) -> bool:
            held = members[member].standby if standby else members[member].active
            return any(TP(topic, partition) in held for topic in topics)

        def take(partition: int, member: str) -> None:
            nonlocal over
            if placed[member] == base:
                over += 1
            owners[partition] = member
            placed[member] += 1

        for standby, allow_extra in ((False, False), (True, False), (False, True), (True, True)):
            for partition in range(count):
                if partition in owners:
                    continue
                for member in eligible:
                    room = placed[member] < base or (
                        allow_extra and placed[member] == base and over < extra
                    )
                    if room and had(member, partition, standby):
                        take(partition, member)
                        break
        for partition in range(count):
            if partition not in owners:
                candidates = [
                    m for m in eligible if placed[m] < base or (placed[m] == base and over < extra)
                ]
                take(partition, min(candidates, key=lambda m: (placed[m], load[m], m)))
        load.update(placed)
        return owners

    def _standbys(
        self,
        partition: int,
        owner: str,
        eligible: list[str],
        topics: list[str],
        members: Mapping[str, MemberSubscription],
        result: Mapping[str, Assignment],
    ) -> list[str]:
        others = [m for m in eligible if m != owner]
        start = eligible.index(owner)

        def rank(member: str) -> tuple[int, int, int]:
            warm = any(
                TP(t, partition) in members[member].standby
                or TP(t, partition) in members[member].active
                for t in topics
            )
            # Ties go to the members after the owner in order, spreading standbys around.
            distance = (eligible.index(member) - start) % len(eligible)
            return (0 if warm else 1, len(result[member].standby), distance)

        return sorted(others, key=rank)[: self.standby_replicas]


def _group_order(item: tuple[tuple[int, frozenset[str]], list[str]]) -> tuple[str, ...]:
    return tuple(item[1])
