"""The kernel's partition assignor inside Kafka's group protocol: :class:`StrmAssignor`.

Kafka leaves the assignment of a consumer group to one of its members, the leader, through
aiokafka's ``AbstractPartitionAssignor`` hooks (``aiokafka/coordinator/assignors/abstract.py``),
which aiokafka's group coordinator calls:

``metadata(topics)``
    On every member, at each JoinGroup: what the member subscribes to, and as JSON user data
    the partitions it held in the last generation (active and standby, for stickiness), the
    changelog topics of its app's tables, and the URL its web server is reached at.
``assign(cluster, members)``
    On the leader only: the members' metadata become
    :class:`strm.kernel.assignor.MemberSubscription` objects, the partition counts come from the
    leader's cluster metadata, and the leader app's
    ``PartitionAssignor`` extension class decides (co-partitioned, sticky, with
    ``table_standby_replicas`` standby copies of each changelog partition). Each member is
    given the union of its active and standby partitions as its Kafka assignment, so that its
    consumer fetches the standby changelogs too, with JSON user data naming the standbys and
    holding the whole plan by the members' URLs (:class:`strm.kernel.assignor.ClusterMap`).
``on_assignment(assignment)``
    On every member, once the group's assignment arrives and before the rebalance listener's
    ``on_partitions_assigned``: the standbys and the group's map of this generation are
    recorded.

One instance belongs to one :class:`strm_transport_kafka.consumer.KafkaConsumer` (aiokafka takes
assignor objects as well as classes), so the state of a member is its own, never class-wide.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Set
from typing import Any

from aiokafka.coordinator.assignors.abstract import (  # type: ignore[import-untyped]
    AbstractPartitionAssignor,
)
from aiokafka.coordinator.protocol import (  # type: ignore[import-untyped]
    ConsumerProtocolMemberAssignment,
    ConsumerProtocolMemberMetadata,
)
from strm.kernel.assignor import (
    Assignment,
    ClusterMap,
    MemberSubscription,
    PartitionAssignor,
    map_cluster,
)
from strm.kernel.spi import TP

logger = logging.getLogger("strm_transport_kafka")

#: The protocol name members announce in JoinGroup; the broker picks one all members know.
PROTOCOL_NAME = "strm"
#: The version of strm's user data (JSON) in the member metadata and the assignments.
PROTOCOL_VERSION = 1
#: The version of Kafka's ConsumerProtocolSubscription layout aiokafka encodes: topics and user
#: data only (version 1 of the layout adds owned partitions, which aiokafka does not write, so
#: announcing it would make Java tools and the broker fail to parse the subscription).
SUBSCRIPTION_LAYOUT_VERSION = 0


# -- user data -----------------------------------------------------------------------------------


def _by_topic(tps: Iterable[TP]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for tp in sorted(tps):
        grouped.setdefault(tp.topic, []).append(tp.partition)
    return grouped


def _tps(value: Any) -> frozenset[TP]:
    if not isinstance(value, dict):
        raise ValueError(f"expected {{topic: [partition, ...]}}, got {value!r}")
    found: set[TP] = set()
    for topic, partitions in value.items():
        if not isinstance(topic, str) or not isinstance(partitions, list):
            raise ValueError(f"expected {{topic: [partition, ...]}}, got {value!r}")
        for partition in partitions:
            if isinstance(partition, bool) or not isinstance(partition, int) or partition < 0:
                raise ValueError(f"not a partition: {partition!r} of topic {topic!r}")
            found.add(TP(topic, partition))
    return frozenset(found)


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def encode_member_data(
    active: Iterable[TP], standby: Iterable[TP], changelogs: Iterable[str], url: str = ""
) -> bytes:
    """The user data of a member's metadata: what it held, its tables' changelogs, and the
    URL it advertises to the group (none: ``""``)."""
    return _json(
        {
            "version": PROTOCOL_VERSION,
            "active": _by_topic(active),
            "standby": _by_topic(standby),
            "changelogs": sorted(changelogs),
            "url": url,
        }
    )


def decode_member_data(
    data: bytes | None,
) -> tuple[frozenset[TP], frozenset[TP], frozenset[str], str]:
    """``(active, standby, changelogs, url)`` of a member's user data; nothing for empty data
    (a member that never held anything, or one of a newer version that sends none)."""
    if not data:
        return frozenset(), frozenset(), frozenset(), ""
    decoded = _object(data)
    changelogs = decoded.get("changelogs", [])
    if not isinstance(changelogs, list) or not all(isinstance(c, str) for c in changelogs):
        raise ValueError(f"changelogs: expected a list of topic names, got {changelogs!r}")
    url = decoded.get("url", "")
    if not isinstance(url, str):
        raise ValueError(f"url: expected a string, got {url!r}")
    return (
        _tps(decoded.get("active", {})),
        _tps(decoded.get("standby", {})),
        frozenset(changelogs),
        url,
    )


def encode_assignment_data(standby: Iterable[TP], cluster: ClusterMap | None = None) -> bytes:
    """The user data of a member's assignment: which of its partitions are standbys, and the
    group's whole plan by URL."""
    data: dict[str, Any] = {"version": PROTOCOL_VERSION, "standby": _by_topic(standby)}
    if cluster is not None:
        data["cluster"] = cluster.to_json()
    return _json(data)


def decode_assignment_data(data: bytes | None) -> frozenset[TP]:
    """The standbys of a member's assignment."""
    if not data:
        return frozenset()
    return _tps(_object(data).get("standby", {}))


def decode_assignment_cluster(data: bytes | None) -> ClusterMap | None:
    """The group's map of a member's assignment (``None`` if the leader sent none)."""
    if not data:
        return None
    cluster = _object(data).get("cluster")
    return None if cluster is None else ClusterMap.from_json(cluster)


def _object(data: bytes) -> dict[str, Any]:
    try:
        decoded = json.loads(data)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(decoded, dict):
        raise ValueError(f"expected a JSON object, got {decoded!r}")
    return decoded


# -- the assignor --------------------------------------------------------------------------------


class StrmAssignor(AbstractPartitionAssignor):  # type: ignore[misc]
    """aiokafka's partition assignor ``"strm"``, running the app's ``PartitionAssignor``.

    ``assignor`` makes the kernel's assignor (the app's ``PartitionAssignor`` extension class,
    used when this member is the group's leader); ``changelogs`` names the app's changelog
    topics; ``url`` is the URL this member advertises (``strm.kernel.assignor.advertised_url``);
    ``on_error`` hears an exception the kernel's assignor raised (aiokafka would only log it
    and join again).
    """

    name = PROTOCOL_NAME
    version = PROTOCOL_VERSION

    def __init__(
        self,
        *,
        assignor: Callable[[], PartitionAssignor] | None = None,
        changelogs: Callable[[], Set[str]] | None = None,
        url: Callable[[], str] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._make_assignor = assignor or PartitionAssignor
        self._changelogs = changelogs or frozenset
        self._url = url or str
        self._on_error = on_error
        #: What this member held in the last generation it was given, sent in its metadata.
        self.previous_active: frozenset[TP] = frozenset()
        self.previous_standby: frozenset[TP] = frozenset()
        #: The standby partitions of the current generation (empty between generations, and in
        #: a generation assigned by another protocol).
        self.standbys: frozenset[TP] = frozenset()
        #: The whole group's plan by URL in the current generation (``None`` between
        #: generations).
        self.cluster: ClusterMap | None = None

    def __repr__(self) -> str:
        return (
            f"<StrmAssignor: {len(self.previous_active)} active, "
            f"{len(self.previous_standby)} standby partitions>"
        )

    # -- the member's side ---------------------------------------------------------------------

    def metadata(self, topics: Iterable[str]) -> ConsumerProtocolMemberMetadata:
        """What this member sends in JoinGroup."""
        user_data = encode_member_data(
            self.previous_active, self.previous_standby, self._changelogs(), self._url()
        )
        return ConsumerProtocolMemberMetadata(
            SUBSCRIPTION_LAYOUT_VERSION, sorted(topics), user_data
        )

    def on_assignment(self, assignment: ConsumerProtocolMemberAssignment) -> None:
        """This member's part of the group's assignment, before ``on_partitions_assigned``."""
        assigned = {TP(tp.topic, tp.partition) for tp in assignment.partitions()}
        try:
            standby = decode_assignment_data(assignment.user_data) & assigned
            cluster = decode_assignment_cluster(assignment.user_data)
        except ValueError as exc:
            logger.error("ignoring a strm assignment with bad user data: %s", exc)
            standby, cluster = frozenset(), None
        self.standbys = standby
        self.cluster = cluster
        self.remember(assigned)

    def rebalancing(self) -> None:
        """A rebalance began: no standby is held, and the group's map is unknown, until the
        next assignment."""
        self.standbys = frozenset()
        self.cluster = None

    def remember(self, assigned: Set[TP]) -> None:
        """Keep a generation's assignment, to ask for it again at the next rebalance."""
        self.previous_standby = frozenset(self.standbys & assigned)
        self.previous_active = frozenset(assigned - self.standbys)

    # -- the leader's side ---------------------------------------------------------------------

    def assign(
        self, cluster: Any, members: Mapping[str, ConsumerProtocolMemberMetadata]
    ) -> dict[str, ConsumerProtocolMemberAssignment]:
        """The group's assignment by the kernel's assignor: ``cluster`` is aiokafka's
        ``ClusterMetadata`` (only ``partitions_for_topic`` is used), ``members`` each member's
        decoded metadata."""
        try:
            return self._assign(cluster, members)
        except Exception as exc:
            logger.exception("the partition assignor failed")
            if self._on_error is not None:
                self._on_error(exc)
            raise

    def _assign(
        self, cluster: Any, members: Mapping[str, ConsumerProtocolMemberMetadata]
    ) -> dict[str, ConsumerProtocolMemberAssignment]:
        subscriptions: dict[str, MemberSubscription] = {}
        changelogs: set[str] = set(self._changelogs())
        for member_id, metadata in members.items():
            try:
                active, standby, names, url = decode_member_data(metadata.user_data)
            except ValueError as exc:
                logger.warning(
                    "member %s sent strm metadata that cannot be read (%s): assigning it "
                    "as a member without history",
                    member_id,
                    exc,
                )
                active, standby, names, url = frozenset(), frozenset(), frozenset(), ""
            changelogs |= names
            subscriptions[member_id] = MemberSubscription(
                topics=frozenset(metadata.subscription), active=active, standby=standby, url=url
            )
        partitions: dict[str, int] = {}
        for topic in sorted(set().union(*(sub.topics for sub in subscriptions.values()))):
            found = cluster.partitions_for_topic(topic)
            if not found:
                logger.warning("no partition metadata for topic %s: not assigned", topic)
                continue
            partitions[topic] = len(found)
        plan = self._make_assignor().assign(subscriptions, partitions, changelogs)
        cluster = map_cluster(subscriptions, plan, partitions, changelogs)
        return {
            member_id: self._member_assignment(plan.get(member_id) or Assignment(), cluster)
            for member_id in members
        }

    def _member_assignment(
        self, assignment: Assignment, cluster: ClusterMap
    ) -> ConsumerProtocolMemberAssignment:
        standby = assignment.standby - assignment.active
        everything = _by_topic(assignment.active | standby)
        return ConsumerProtocolMemberAssignment(
            self.version, sorted(everything.items()), encode_assignment_data(standby, cluster)
        )


__all__ = [
    "PROTOCOL_NAME",
    "PROTOCOL_VERSION",
    "StrmAssignor",
    "decode_assignment_cluster",
    "decode_assignment_data",
    "decode_member_data",
    "encode_assignment_data",
    "encode_member_data",
]
