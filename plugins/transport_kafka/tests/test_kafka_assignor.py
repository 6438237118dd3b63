"""The strm assignor in aiokafka's group protocol, without a broker: each member's metadata is
encoded and decoded as aiokafka sends it, the leader assigns on a real ``ClusterMetadata``
built from a metadata response, and each member decodes its part."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence, Set
from typing import Any, ClassVar

import pytest
from aiokafka.cluster import ClusterMetadata  # type: ignore[import-untyped]
from aiokafka.coordinator.protocol import (  # type: ignore[import-untyped]
    ConsumerProtocol,
    ConsumerProtocolMemberAssignment,
)
from aiokafka.protocol.metadata import MetadataResponse_v0  # type: ignore[import-untyped]
from strm.kernel.assignor import Assignment, MemberSubscription, PartitionAssignor
from strm.kernel.spi import TP
from strm.testing.pytest_plugin import AppFactory
from strm_transport_kafka import KafkaTransport
from strm_transport_kafka.assignor import (
    StrmAssignor,
    decode_assignment_data,
    decode_member_data,
    encode_assignment_data,
    encode_member_data,
)

WORDS, CHANGELOG, OTHER = "words", "app-counts-changelog", "other"


def cluster(**topics: int) -> ClusterMetadata:
    """aiokafka's cluster metadata, as a metadata response with these topics would set it."""
    metadata = ClusterMetadata()
    response = MetadataResponse_v0(
        [(0, "localhost", 9092)],
        [
            (0, name, [(0, partition, 0, [0], [0]) for partition in range(count)])
            for name, count in topics.items()
        ],
    )
    metadata.update_metadata(response)
    return metadata


def member(
    standby_replicas: int = 1, changelogs: Set[str] = frozenset(), **kwargs: Any
) -> StrmAssignor:
    return StrmAssignor(
        assignor=lambda: PartitionAssignor(standby_replicas=standby_replicas),
        changelogs=lambda: set(changelogs),
        **kwargs,
    )


def rebalance(
    metadata: ClusterMetadata,
    members: Mapping[str, tuple[StrmAssignor, Sequence[str]]],
    leader: str,
) -> dict[str, set[TP]]:
    """One generation as aiokafka runs it: every member's metadata goes over the wire, the
    leader assigns, every member gets its (encoded) assignment. Returns the Kafka assignment."""
    for assignor, _ in members.values():
        assignor.rebalancing()
    wire = {
        member_id: ConsumerProtocol.METADATA.decode(assignor.metadata(topics).encode())
        for member_id, (assignor, topics) in members.items()
    }
    plan = members[leader][0].assign(metadata, wire)
    assert set(plan) == set(members)
    got: dict[str, set[TP]] = {}
    for member_id, assignment in plan.items():
        decoded = ConsumerProtocol.ASSIGNMENT.decode(assignment.encode())
        members[member_id][0].on_assignment(decoded)
        got[member_id] = {TP(tp.topic, tp.partition) for tp in decoded.partitions()}
    return got


def numbers(tps: Set[TP], topic: str) -> set[int]:
    return {tp.partition for tp in tps if tp.topic == topic}


def test_co_partitioned_topics_go_together_and_the_group_is_covered_once() -> None:
    metadata = cluster(**{WORDS: 6, CHANGELOG: 6, OTHER: 2})
    topics = [WORDS, CHANGELOG, OTHER]
    members = {f"m{i}": (member(standby_replicas=0), topics) for i in range(3)}
    got = rebalance(metadata, members, leader="m1")
    for member_id, tps in got.items():
        assert numbers(tps, WORDS) == numbers(tps, CHANGELOG), member_id
        assert len(numbers(tps, WORDS)) == 2, "6 partitions, 3 members: 2 each"
        assert members[member_id][0].standbys == frozenset()
    for topic, count in ((WORDS, 6), (CHANGELOG, 6), (OTHER, 2)):
        owned = [tp for tps in got.values() for tp in tps if tp.topic == topic]
        assert sorted(tp.partition for tp in owned) == list(range(count)), "each exactly once"


def test_a_member_gets_standbys_of_the_changelogs_only_and_fetches_them() -> None:
    metadata = cluster(**{WORDS: 2, CHANGELOG: 2})
    topics = [WORDS, CHANGELOG]
    # Only the follower's app has the table: the leader learns the changelog from its metadata.
    leader, follower = member(), member(changelogs={CHANGELOG})
    got = rebalance(metadata, {"a": (leader, topics), "b": (follower, topics)}, leader="a")
    for assignor, mine, other in ((leader, got["a"], got["b"]), (follower, got["b"], got["a"])):
        active = mine - assignor.standbys
        assert len(numbers(active, WORDS)) == 1
        assert numbers(active, CHANGELOG) == numbers(active, WORDS)
        # The standby is the other member's changelog partition, in the Kafka assignment too.
        assert assignor.standbys == {TP(CHANGELOG, p) for p in numbers(other, WORDS)}
        assert assignor.standbys <= mine
        assert not numbers(assignor.standbys, WORDS)
    assert leader.previous_standby == leader.standbys
    assert leader.previous_active == got["a"] - leader.standbys


def test_the_assignment_is_sticky_across_generations() -> None:
    """Members keep their partitions though their member ids change (ids are not what
    stickiness rests on) and two members join that sort first."""
    metadata = cluster(**{WORDS: 4, CHANGELOG: 4})
    topics = [WORDS, CHANGELOG]
    first, second = member(changelogs={CHANGELOG}), member(changelogs={CHANGELOG})
    one = rebalance(metadata, {"m1": (first, topics), "m2": (second, topics)}, leader="m1")
    before = {first: one["m1"] - first.standbys, second: one["m2"] - second.standbys}
    assert [len(numbers(tps, WORDS)) for tps in before.values()] == [2, 2]

    newcomers = member(changelogs={CHANGELOG}), member(changelogs={CHANGELOG})
    members = {
        "z-first": (first, topics),
        "y-second": (second, topics),
        "a-new": (newcomers[0], topics),
        "b-new": (newcomers[1], topics),
    }
    two = rebalance(metadata, members, leader="a-new")
    active = {a: two[m] - a.standbys for m, (a, _) in members.items()}
    # 4 partitions over 4 members: each old member keeps one of its own two.
    for old in (first, second):
        assert len(numbers(active[old], WORDS)) == 1
        assert numbers(active[old], WORDS) <= numbers(before[old], WORDS)
        assert numbers(active[old], WORDS) == numbers(active[old], CHANGELOG)
    assert sorted(p for tps in active.values() for p in numbers(tps, WORDS)) == [0, 1, 2, 3]

    # A third generation with the same members changes nothing.
    three = rebalance(metadata, members, leader="y-second")
    assert three == two


def test_a_leaving_owner_s_partition_goes_to_its_warm_standby() -> None:
    metadata = cluster(**{WORDS: 2, CHANGELOG: 2})
    topics = [WORDS, CHANGELOG]
    a, b, c, d = (member(changelogs={CHANGELOG}) for _ in range(4))
    # Two partitions, three members: b and c own one each, d only keeps standbys.
    got = rebalance(metadata, {"b": (b, topics), "c": (c, topics), "d": (d, topics)}, leader="b")
    assert got["b"] - b.standbys == {TP(WORDS, 0), TP(CHANGELOG, 0)}
    assert got["c"] - c.standbys == {TP(WORDS, 1), TP(CHANGELOG, 1)}
    assert not b.standbys
    assert c.standbys == {TP(CHANGELOG, 0)} and d.standbys == {TP(CHANGELOG, 1)}
    assert got["d"] == {TP(CHANGELOG, 1)}, "a standby is fetched: it is in the Kafka assignment"
    # c leaves and a joins: a sorts first and holds nothing, so without the history partition 1
    # would be a's; it goes to d, whose copy is warm. b keeps partition 0.
    got = rebalance(metadata, {"a": (a, topics), "b": (b, topics), "d": (d, topics)}, leader="a")
    assert got["d"] - d.standbys == {TP(WORDS, 1), TP(CHANGELOG, 1)}
    assert got["b"] - b.standbys == {TP(WORDS, 0), TP(CHANGELOG, 0)}
    assert got["a"] - a.standbys == set()


def test_user_data_round_trips() -> None:
    active = frozenset({TP(WORDS, 1), TP(CHANGELOG, 1)})
    standby = frozenset({TP(CHANGELOG, 0)})
    changelogs = frozenset({CHANGELOG})
    nothing: frozenset[Any] = frozenset()
    data = encode_member_data(active, standby, [CHANGELOG], "http://127.0.0.1:6066")
    assert json.loads(data) == {
        "version": 1,
        "active": {CHANGELOG: [1], WORDS: [1]},
        "standby": {CHANGELOG: [0]},
        "changelogs": [CHANGELOG],
        "url": "http://127.0.0.1:6066",
    }
    assert decode_member_data(data) == (active, standby, changelogs, "http://127.0.0.1:6066")
    assert decode_member_data(b"") == (nothing, nothing, nothing, "")
    assert decode_assignment_data(encode_assignment_data(standby)) == standby
    assert decode_assignment_data(b"") == nothing
    for bad in (
        b"{",
        b"[]",
        b'{"active": {"t": [-1]}}',
        b'{"changelogs": "t"}',
        b'{"url": 1}',
        b"\xff",
    ):
        with pytest.raises(ValueError):
            decode_member_data(bad)

    # What a member sends: its subscription, what it held and its changelogs, in the layout
    # aiokafka's leader decodes.
    assignor = member(changelogs={CHANGELOG})
    assignor.on_assignment(
        ConsumerProtocolMemberAssignment(
            1,
            [(CHANGELOG, [0, 1]), (WORDS, [1])],
            encode_assignment_data(standby),
        )
    )
    assert assignor.standbys == standby
    sent = ConsumerProtocol.METADATA.decode(assignor.metadata({WORDS, CHANGELOG}).encode())
    assert sent.version == 0, "aiokafka writes layout 0 (no owned partitions)"
    assert sent.subscription == sorted([WORDS, CHANGELOG])
    assert decode_member_data(sent.user_data) == (active, standby, changelogs, "")

    # A new rebalance forgets the standbys until the next assignment, not the history.
    assignor.rebalancing()
    assert assignor.standbys == frozenset()
    assert decode_member_data(assignor.metadata([WORDS]).user_data)[:2] == (active, standby)
    # A generation assigned by another protocol (range) has no standbys: all is active.
    assignor.remember({TP(WORDS, 0)})
    assert assignor.previous_active == {TP(WORDS, 0)} and not assignor.previous_standby


def test_a_member_with_unreadable_or_empty_user_data_is_assigned_without_history(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metadata = cluster(**{WORDS: 2})
    leader = member(standby_replicas=0)
    wire = {
        "a": ConsumerProtocol.METADATA(0, [WORDS], b"not json"),
        "b": ConsumerProtocol.METADATA(0, [WORDS], b""),
    }
    with caplog.at_level(logging.WARNING, "strm_transport_kafka"):
        plan = leader.assign(metadata, wire)
    assert "member a sent strm metadata that cannot be read" in caplog.text
    partitions = sorted(p for a in plan.values() for _, ps in a.assignment for p in ps)
    assert partitions == [0, 1]


def test_topics_without_metadata_are_left_out() -> None:
    leader = member()
    wire = {"a": ConsumerProtocol.METADATA(0, [WORDS, "unknown"], b"")}
    plan = leader.assign(cluster(**{WORDS: 1}), wire)
    assert plan["a"].assignment == [(WORDS, [0])]


def test_an_error_of_the_kernel_assignor_is_reported_and_raised() -> None:
    class Broken(PartitionAssignor):
        def assign(self, *args: Any, **kwargs: Any) -> dict[str, Assignment]:
            raise RuntimeError("no plan")

    errors: list[BaseException] = []
    leader = StrmAssignor(assignor=Broken, on_error=errors.append)
    with pytest.raises(RuntimeError, match="no plan"):
        leader.assign(cluster(**{WORDS: 1}), {"a": ConsumerProtocol.METADATA(0, [WORDS], b"")})
    assert [str(e) for e in errors] == ["no plan"]


class Recording(PartitionAssignor):
    """An app's own assignor: records what the leader gave it."""

    calls: ClassVar[list[tuple[dict[str, MemberSubscription], dict[str, int], set[str]]]] = []

    def assign(
        self,
        members: Mapping[str, MemberSubscription],
        partitions: Mapping[str, int],
        changelogs: Set[str] = frozenset(),
    ) -> dict[str, Assignment]:
        self.calls.append((dict(members), dict(partitions), set(changelogs)))
        return super().assign(members, partitions, changelogs)


def test_the_leader_runs_its_app_s_partition_assignor(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(
        plugins=["strm_transport_kafka"],
        broker="kafka://localhost:9092",
        PartitionAssignor=Recording,
        table_standby_replicas=2,
    ).configure()
    transport = app.transport()
    assert isinstance(transport, KafkaTransport)
    consumer = transport.create_consumer(group_id="g", client_id="c")
    assert consumer.assignor.name == "strm"
    changelog = "other-app-counts-changelog"
    Recording.calls.clear()
    wire = {
        "a": consumer.assignor.metadata([WORDS]),
        "b": ConsumerProtocol.METADATA(
            0, [WORDS], encode_member_data({TP(WORDS, 1)}, (), [changelog])
        ),
    }
    consumer.assignor.assign(cluster(**{WORDS: 2}), wire)
    ((members, partitions, changelogs),) = Recording.calls
    assert partitions == {WORDS: 2}
    assert changelogs == {changelog}
    assert members["b"] == MemberSubscription(frozenset({WORDS}), frozenset({TP(WORDS, 1)}))
    assert members["a"] == MemberSubscription(frozenset({WORDS}), url=app.conf.canonical_url)
