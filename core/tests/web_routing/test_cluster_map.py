"""The group's plan by worker URL: built from an assignor's plan, carried as JSON, and given
to every member of a memory:// group."""

from __future__ import annotations

import json
from typing import Any

import pytest
from strm.builtins.memory_transport import MemoryConsumer, MemoryTransport, drop_broker, unique_url
from strm.kernel.assignor import (
    Assignment,
    ClusterMap,
    MemberSubscription,
    PartitionAssignor,
    SharesClusterMap,
    map_cluster,
)
from strm.kernel.spi import TP

URL_A, URL_B = "http://127.0.0.1:7001", "http://127.0.0.1:7002"


def tps(topic: str, *partitions: int) -> frozenset[TP]:
    return frozenset(TP(topic, p) for p in partitions)


def plan_of_two() -> tuple[dict[str, MemberSubscription], dict[str, Assignment]]:
    members = {
        "a": MemberSubscription(frozenset({"src", "cl"}), url=URL_A),
        "b": MemberSubscription(frozenset({"src", "cl"}), url=URL_B),
    }
    plan = PartitionAssignor(standby_replicas=1).assign(
        members, {"src": 2, "cl": 2}, changelogs={"cl"}
    )
    return members, plan


def test_the_map_names_the_owner_and_standbys_of_every_partition_by_url() -> None:
    members, plan = plan_of_two()
    cluster = map_cluster(members, plan, {"src": 2, "cl": 2}, {"cl"})
    for member, url in (("a", URL_A), ("b", URL_B)):
        for tp in plan[member].active:
            assert cluster.owner(tp) == url
        for tp in plan[member].standby:
            assert cluster.standby_urls(tp) == [url]
    assert cluster.urls() == [URL_A, URL_B]
    assert cluster.changelogs == {"cl"}
    assert cluster.partitions == {"src": 2, "cl": 2}
    # Faust's shape: every worker, by URL, with its partitions of the topics asked for.
    tables = cluster.host_map(["cl"])
    assert set(tables) == {URL_A, URL_B}
    assert sorted(p for url in tables for p in tables[url]["cl"]) == [0, 1]
    standbys = cluster.host_map(["cl"], standby=True)
    assert standbys[URL_A]["cl"] == tables[URL_B]["cl"]
    assert cluster.owner(TP("nope", 0)) is None


def test_members_without_a_url_have_no_partitions_in_the_map() -> None:
    members = {
        "a": MemberSubscription(frozenset({"t"}), url=URL_A),
        "b": MemberSubscription(frozenset({"t"})),
    }
    plan = {"a": Assignment(active=set(tps("t", 0))), "b": Assignment(active=set(tps("t", 1)))}
    cluster = map_cluster(members, plan, {"t": 2})
    assert cluster.owner(TP("t", 0)) == URL_A
    assert cluster.owner(TP("t", 1)) is None
    assert cluster.host_map(["t"]) == {URL_A: {"t": [0]}}


def test_members_sharing_a_url_are_merged_under_it() -> None:
    members = {
        "a": MemberSubscription(frozenset({"t"}), url=URL_A),
        "b": MemberSubscription(frozenset({"t"}), url=URL_A),
    }
    plan = {"a": Assignment(active=set(tps("t", 0))), "b": Assignment(active=set(tps("t", 1)))}
    cluster = map_cluster(members, plan, {"t": 2})
    assert cluster.host_map(["t"]) == {URL_A: {"t": [0, 1]}}


def test_the_map_survives_json() -> None:
    members, plan = plan_of_two()
    cluster = map_cluster(members, plan, {"src": 2, "cl": 2}, {"cl"})
    wire = json.loads(json.dumps(cluster.to_json()))
    again = ClusterMap.from_json(wire)
    assert again == cluster
    assert again.owner(TP("cl", 1)) == cluster.owner(TP("cl", 1))


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"active": []},
        {"active": {URL_A: {"t": [-1]}}},
        {"active": {URL_A: {"t": ["0"]}}},
        {"standby": {URL_A: []}},
        {"partitions": {"t": "2"}},
        {"partitions": {"t": True}},
        {"changelogs": "cl"},
    ],
)
def test_a_malformed_map_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        ClusterMap.from_json(bad)


class _Listener:
    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        pass

    async def on_partitions_assigned(self, assigned: set[TP]) -> None:
        pass


async def test_every_member_of_a_memory_group_gets_the_whole_map(strm_app_factory: Any) -> None:
    url = unique_url()
    consumers: list[MemoryConsumer] = []
    try:
        for port in (7001, 7002):
            app = strm_app_factory(
                broker=url, web_port=port, web_host="127.0.0.1", topic_partitions=4
            ).configure()
            transport = app.transport()
            assert isinstance(transport, MemoryTransport)
            consumer = transport.create_consumer(group_id="g", client_id=f"c{port}")
            consumer.subscribe(["src"], _Listener())
            await consumer.start()
            consumers.append(consumer)
        a, b = consumers
        assert isinstance(a, SharesClusterMap)
        seen = a.cluster_map()
        assert seen is not None and seen == b.cluster_map()
        assert seen.host_map(["src"]) == {
            URL_A: {"src": sorted(tp.partition for tp in a.assignment())},
            URL_B: {"src": sorted(tp.partition for tp in b.assignment())},
        }
        await b.stop()
        alone = a.cluster_map()
        assert alone is not None and alone.host_map(["src"]) == {URL_A: {"src": [0, 1, 2, 3]}}
        assert b.cluster_map() is None
    finally:
        for consumer in consumers:
            await consumer.stop()
        drop_broker(url)


async def test_a_worker_without_its_web_server_advertises_no_url(strm_app_factory: Any) -> None:
    url = unique_url()
    try:
        app = strm_app_factory(broker=url, web_enabled=False, topic_partitions=8).configure()
        transport = app.transport()
        assert isinstance(transport, MemoryTransport)
        consumer = transport.create_consumer(group_id="g", client_id="c")
        consumer.subscribe(["src"], _Listener())
        await consumer.start()
        try:
            seen = consumer.cluster_map()
            assert seen is not None and seen.urls() == [] and seen.partitions == {"src": 8}
        finally:
            await consumer.stop()
    finally:
        drop_broker(url)
