"""The partition assignor: co-partitioning, stickiness, balance and table standbys."""

from __future__ import annotations

from strm.kernel.assignor import MemberSubscription, PartitionAssignor
from strm.kernel.spi import TP


def sub(
    *topics: str,
    active: frozenset[TP] | set[TP] = frozenset(),
    standby: frozenset[TP] | set[TP] = frozenset(),
) -> MemberSubscription:
    return MemberSubscription(frozenset(topics), frozenset(active), frozenset(standby))


def tps(topic: str, *partitions: int) -> set[TP]:
    return {TP(topic, p) for p in partitions}


def test_co_partitioned_topics_go_together_and_are_balanced() -> None:
    members = {"a": sub("src", "cl"), "b": sub("src", "cl")}
    result = PartitionAssignor(standby_replicas=0).assign(members, {"src": 4, "cl": 4})
    for assignment in result.values():
        sources = {tp.partition for tp in assignment.active if tp.topic == "src"}
        changelogs = {tp.partition for tp in assignment.active if tp.topic == "cl"}
        assert sources == changelogs and len(sources) == 2
    everything = set().union(*(a.active for a in result.values()))
    assert everything == tps("src", 0, 1, 2, 3) | tps("cl", 0, 1, 2, 3)


def test_assignments_are_sticky() -> None:
    previous = {
        "a": sub("t", active=tps("t", 0, 3, 5)),
        "b": sub("t", active=tps("t", 1, 2, 4)),
        "c": sub("t"),
    }
    result = PartitionAssignor(standby_replicas=0).assign(previous, {"t": 6})
    # Each keeps two of its three (its share is 2), the newcomer gets the rest.
    assert result["a"].active == tps("t", 0, 3)
    assert result["b"].active == tps("t", 1, 2)
    assert result["c"].active == tps("t", 4, 5)


def test_a_warm_standby_takes_over_a_partition_whose_owner_left() -> None:
    members = {
        "b": sub("t", "cl", active=tps("t", 1) | tps("cl", 1), standby=tps("cl", 0)),
        "c": sub("t", "cl", active=tps("t", 2) | tps("cl", 2)),
    }
    result = PartitionAssignor(standby_replicas=1).assign(
        members, {"t": 3, "cl": 3}, changelogs={"cl"}
    )
    assert TP("t", 0) in result["b"].active and TP("cl", 0) in result["b"].active


def test_standbys_are_placed_on_other_members_only_for_changelogs() -> None:
    members = {m: sub("t", "cl") for m in "abc"}
    result = PartitionAssignor(standby_replicas=1).assign(
        members, {"t": 3, "cl": 3}, changelogs={"cl"}
    )
    for member, assignment in result.items():
        assert assignment.standby, member
        assert all(tp.topic == "cl" for tp in assignment.standby)
        assert not assignment.standby & assignment.active
    standby_counts = {p: sum(TP("cl", p) in a.standby for a in result.values()) for p in range(3)}
    assert standby_counts == {0: 1, 1: 1, 2: 1}


def test_standby_replicas_are_capped_by_the_other_members() -> None:
    members = {m: sub("cl") for m in "ab"}
    result = PartitionAssignor(standby_replicas=5).assign(members, {"cl": 2}, changelogs={"cl"})
    assert result["a"].standby == result["b"].active
    assert result["b"].standby == result["a"].active


def test_topics_nobody_reads_are_not_assigned() -> None:
    result = PartitionAssignor(standby_replicas=0).assign({"a": sub("t")}, {"t": 2, "other": 4})
    assert result["a"].active == tps("t", 0, 1)


def test_stickiness_never_leaves_a_member_without_its_share() -> None:
    previous = {
        "a": sub("t", active=tps("t", 0, 1)),
        "b": sub("t", active=tps("t", 2, 3)),
        "c": sub("t"),
    }
    result = PartitionAssignor(standby_replicas=0).assign(previous, {"t": 4})
    sizes = sorted(len(a.active) for a in result.values())
    assert sizes == [1, 1, 2]
    assert len(result["a"].active & tps("t", 0, 1)) >= 1  # still sticky where it can be
    assert len(result["b"].active & tps("t", 2, 3)) >= 1
