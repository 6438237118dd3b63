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
Every member also advertises the URL its web server is reached at (``canonical_url``), and the
transport hands every member the whole plan by those URLs (:class:`ClusterMap`, built by
:func:`map_cluster`), so that any worker can send a request about a key to the worker that holds
it (``@app.table_route``, :class:`strm.router.Router`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from strm.kernel.spi import TP

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike


logger = logging.getLogger(__name__)

#: Which partitions of which topics each worker holds, by worker URL: Faust's
#: ``HostToPartitionMap`` (``{url: {topic: [partition, ...]}}``).
HostToPartitionMap = dict[str, dict[str, list[int]]]


@dataclass(frozen=True)
class MemberSubscription:
    """What one member asks for and what it had: the assignor's input. ``url`` is where the
    member's web server is reached (its ``canonical_url``); the plan does not depend on it."""

    topics: frozenset[str]
    active: frozenset[TP] = frozenset()
    standby: frozenset[TP] = frozenset()
    url: str = ""


@dataclass
class Assignment:
    """What one member gets."""

    active: set[TP] = field(default_factory=set)
    standby: set[TP] = field(default_factory=set)


class PartitionAssignor:
    def __init__(self, app: AppLike | None = None, *, standby_replicas: int | None = None) -> None:
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


@dataclass(frozen=True)
class ClusterMap:
    """One generation's plan by worker URL, as every member of the group learns it.

    A worker cannot look up which of its peers holds a key unless each of them knows the whole
    plan, not only its own part: the transports give every member this map along with its own
    assignment. ``active`` and ``standby`` are the partitions each URL holds; ``partitions``
    the partition count of every assigned topic (a key's partition is computed from it);
    ``changelogs`` the topics that are table changelogs. Members that advertised no URL are
    left out, so their partitions have no owner here.
    """

    active: Mapping[str, frozenset[TP]]
    standby: Mapping[str, frozenset[TP]]
    partitions: Mapping[str, int]
    changelogs: frozenset[str] = frozenset()
    _owners: dict[TP, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        owners: dict[TP, str] = {}
        for url in sorted(self.active):
            for tp in self.active[url]:
                owners.setdefault(tp, url)
        object.__setattr__(self, "_owners", owners)

    def owner(self, tp: TP) -> str | None:
        """The URL of the worker that holds ``tp`` actively, ``None`` if none advertised one."""
        return self._owners.get(tp)

    def standby_urls(self, tp: TP) -> list[str]:
        """The URLs of the workers that keep ``tp`` as a standby copy."""
        return sorted(url for url, tps in self.standby.items() if tp in tps)

    def urls(self) -> list[str]:
        return sorted(set(self.active) | set(self.standby))

    def host_map(self, topics: Iterable[str], *, standby: bool = False) -> HostToPartitionMap:
        """``{url: {topic: [partition, ...]}}`` for ``topics``, every known worker listed (one
        holding none of them with an empty mapping), as Faust's router metadata is."""
        wanted = set(topics)
        held = self.standby if standby else self.active
        result: HostToPartitionMap = {}
        for url in self.urls():
            by_topic: dict[str, list[int]] = {}
            for tp in sorted(held.get(url, frozenset())):
                if tp.topic in wanted:
                    by_topic.setdefault(tp.topic, []).append(tp.partition)
            result[url] = by_topic
        return result

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (the Kafka transport sends it in each member's assignment)."""
        return {
            "active": {url: _by_topic(tps) for url, tps in sorted(self.active.items())},
            "standby": {url: _by_topic(tps) for url, tps in sorted(self.standby.items())},
            "partitions": dict(sorted(self.partitions.items())),
            "changelogs": sorted(self.changelogs),
        }

    @classmethod
    def from_json(cls, value: Any) -> ClusterMap:
        """The map of :meth:`to_json`'s form; ``ValueError`` for anything else."""
        if not isinstance(value, dict):
            raise ValueError(f"a cluster map is a JSON object, got {value!r}")
        counts = value.get("partitions", {})
        if not isinstance(counts, dict) or not all(
            isinstance(t, str) and _is_count(n) for t, n in counts.items()
        ):
            raise ValueError(f"partitions: expected {{topic: count}}, got {counts!r}")
        changelogs = value.get("changelogs", [])
        if not isinstance(changelogs, list) or not all(isinstance(c, str) for c in changelogs):
            raise ValueError(f"changelogs: expected a list of topic names, got {changelogs!r}")
        return cls(
            active=_by_url(value.get("active", {})),
            standby=_by_url(value.get("standby", {})),
            partitions=dict(counts),
            changelogs=frozenset(changelogs),
        )


def map_cluster(
    members: Mapping[str, MemberSubscription],
    plan: Mapping[str, Assignment],
    partitions: Mapping[str, int],
    changelogs: Set[str] = frozenset(),
) -> ClusterMap:
    """The :class:`ClusterMap` of an assignor's plan, by the URL each member advertised.

    Members advertising one URL (two apps left at the default ``web_port`` on one host, say)
    are merged under it: a request sent there reaches one of them, whose router then finds
    the partition is not its own and says so, rather than this function guessing.
    """
    active: dict[str, frozenset[TP]] = {}
    standby: dict[str, frozenset[TP]] = {}
    for member in sorted(plan):
        url = members[member].url if member in members else ""
        if not url:
            continue
        if url in active:
            logger.debug("more than one member of the group advertises the URL %s", url)
        assignment = plan[member]
        active[url] = active.get(url, frozenset()) | assignment.active
        standby[url] = standby.get(url, frozenset()) | (assignment.standby - assignment.active)
    return ClusterMap(
        active=active,
        standby=standby,
        partitions=dict(partitions),
        changelogs=frozenset(changelogs) & frozenset(partitions),
    )


def advertised_url(app: AppLike) -> str:
    """The URL a worker advertises to its group: its ``canonical_url`` while its web server
    is enabled, else none (nothing would answer there)."""
    conf = app.conf
    return str(conf.canonical_url) if conf.web_enabled else ""


@runtime_checkable
class SharesClusterMap(Protocol):
    """A consumer whose transport tells every member the whole plan (the memory and Kafka
    transports do); the router asks it who holds a partition."""

    def cluster_map(self) -> ClusterMap | None:
        """The current generation's map; ``None`` before the first assignment."""


def _by_topic(tps: Iterable[TP]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for tp in sorted(tps):
        grouped.setdefault(tp.topic, []).append(tp.partition)
    return grouped


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _by_url(value: Any) -> dict[str, frozenset[TP]]:
    if not isinstance(value, dict):
        raise ValueError(f"expected {{url: {{topic: [partition, ...]}}}}, got {value!r}")
    result: dict[str, frozenset[TP]] = {}
    for url, topics in value.items():
        if not isinstance(url, str) or not isinstance(topics, dict):
            raise ValueError(f"expected {{url: {{topic: [partition, ...]}}}}, got {value!r}")
        found: set[TP] = set()
        for topic, numbers in topics.items():
            if not isinstance(topic, str) or not isinstance(numbers, list):
                raise ValueError(f"expected {{topic: [partition, ...]}}, got {topics!r}")
            for number in numbers:
                if not _is_count(number):
                    raise ValueError(f"not a partition: {number!r} of topic {topic!r}")
                found.add(TP(topic, number))
        result[url] = frozenset(found)
    return result


def _group_order(item: tuple[tuple[int, frozenset[str]], list[str]]) -> tuple[str, ...]:
    return tuple(item[1])
