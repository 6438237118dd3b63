"""``@app.table_route``, ``@app.topic_route`` and ``/router/`` through real servers on
127.0.0.1: two workers of one memory:// group in this process, each on its own port."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from routing_helpers import CHANGELOG, FIXED_KEY, PARTITIONS, TABLE, Cluster
from strm.app import App
from strm.kernel.spi import TP
from strm.router import FORWARDED_HEADER


def keys_by_owner(cluster: Cluster) -> dict[str, list[str]]:
    """Keys of the table by the URL of the worker holding them, as the first worker's router
    says (every worker's router says the same)."""
    found: dict[str, list[str]] = {w.url: [] for w in cluster.workers}
    for n in range(200):
        key = f"key-{n}"
        owner = cluster.workers[0].app.router.key_store(TABLE, key)
        for worker in cluster.workers[1:]:
            assert worker.app.router.key_store(TABLE, key) == owner
        found[owner].append(key)
    return found


async def test_a_key_held_by_another_worker_is_answered_by_it(cluster: Cluster) -> None:
    a, b = cluster.workers
    keys = keys_by_owner(cluster)
    on_a, on_b = keys[a.url][0], keys[b.url][0]
    # The router's answer is where the agent, reading the topic's partition, stored it.
    assert await cluster.send(on_b, 7) == b.url
    assert await cluster.send(on_a, 3) == a.url

    for entry in (a, b):
        status, body, _ = await cluster.get(entry, f"/count/?key={on_b}")
        assert (status, body) == (200, {"key": on_b, "value": 7, "served_by": b.url})
        status, body, _ = await cluster.get(entry, f"/count/?key={on_a}")
        assert (status, body) == (200, {"key": on_a, "value": 3, "served_by": a.url})
    # A key nobody wrote yet is answered by its owner too, with the table's default.
    unwritten = keys[b.url][1]
    status, body, _ = await cluster.get(a, f"/count/?key={unwritten}")
    assert (status, body) == (200, {"key": unwritten, "value": 0, "served_by": b.url})


async def test_match_info_shard_param_exact_key_and_topic_routes(cluster: Cluster) -> None:
    a, b = cluster.workers
    on_b = keys_by_owner(cluster)[b.url][0]
    await cluster.send(on_b, 11)
    status, body, _ = await cluster.get(a, f"/count/{on_b}/")
    assert (status, body) == (200, {"key": on_b, "value": 11, "served_by": b.url})
    status, body, _ = await cluster.get(a, f"/legacy/?key={on_b}")
    assert (status, body) == (200, {"key": on_b, "value": 11, "served_by": b.url})
    # The topic's partition of the key is consumed where the co-partitioned table lives.
    for entry in (a, b):
        status, body, _ = await cluster.get(entry, f"/where/?key={on_b}")
        assert (status, body) == (200, {"served_by": b.url})
    fixed_owner = a.app.router.key_store(TABLE, FIXED_KEY)
    for entry in (a, b):
        status, body, _ = await cluster.get(entry, "/fixed/")
        assert status == 200 and body["served_by"] == fixed_owner and body["key"] == FIXED_KEY


async def test_a_post_is_forwarded_with_its_body(cluster: Cluster) -> None:
    a, b = cluster.workers
    on_b = keys_by_owner(cluster)[b.url][0]
    async with cluster.http.post(f"{a.url}/echo/?key={on_b}", json={"n": [1, 2]}) as response:
        assert response.status == 200
        assert await response.json() == {"echo": {"n": [1, 2]}, "served_by": b.url}


async def test_an_int_keyed_table_routes_the_int_and_refuses_other_text(cluster: Cluster) -> None:
    a, b = cluster.workers
    owner = a.app.router.key_store("by_number", 12)
    entry = a if owner == b.url else b  # the worker that does not hold it
    status, body, _ = await cluster.get(entry, "/number/?n=12")
    assert (status, body) == (200, {"served_by": owner})
    status, body, headers = await cluster.get(entry, "/number/?n=twelve")
    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    assert "not an integer" in body["error"]


async def test_a_malformed_route_key_is_a_400_with_a_json_body(cluster: Cluster) -> None:
    a, _ = cluster.workers
    status, body, headers = await cluster.get(a, "/count/")
    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    assert body == {"error": "the query parameter 'key' (the key) is missing"}


async def test_a_forwarded_request_is_never_forwarded_again(cluster: Cluster) -> None:
    a, b = cluster.workers
    on_b = keys_by_owner(cluster)[b.url][0]
    await cluster.send(on_b, 5)
    forwarded = {FORWARDED_HEADER: "http://127.0.0.1:1"}
    # The owner serves a forwarded request as any other.
    status, body, _ = await cluster.get(b, f"/count/?key={on_b}", headers=forwarded)
    assert (status, body) == (200, {"key": on_b, "value": 5, "served_by": b.url})
    # A worker that does not hold the key answers 503 rather than forward a second time.
    status, body, headers = await cluster.get(a, f"/count/?key={on_b}", headers=forwarded)
    assert status == 503
    assert headers["Retry-After"] == "1"
    assert "http://127.0.0.1:1 forwarded the request" in body["error"]


async def test_during_a_rebalance_the_answer_is_503_with_retry_after(cluster: Cluster) -> None:
    a, b = cluster.workers
    keys = keys_by_owner(cluster)
    on_a = keys[a.url][0]
    await cluster.send(on_a, 9)
    held = asyncio.Event()
    release = asyncio.Event()
    calls = 0

    async def hold(app: Any, revoked: set[TP], **kwargs: Any) -> None:
        # The first revocation of worker a waits for the test: the rebalance stays open.
        nonlocal calls
        calls += 1
        if calls == 1:
            held.set()
            await asyncio.wait_for(release.wait(), 10)

    a.app.on_partitions_revoked.connect(hold)
    joining = asyncio.create_task(cluster.add())
    try:
        await asyncio.wait_for(held.wait(), 10)
        assert a.app.rebalancing
        for entry in (a, b):
            status, body, headers = await cluster.get(entry, f"/count/?key={on_a}")
            assert status == 503, body
            assert headers["Retry-After"] == "1"
            assert "rebalancing" in body["error"]
        status, body, headers = await cluster.get(a, "/router/")
        assert status == 503 and headers["Retry-After"] == "1"
    finally:
        release.set()
        c = await asyncio.wait_for(joining, 10)
    await cluster.settled()
    # After the rebalance the key is answered again, by whoever holds it now.
    owner = a.app.router.key_store(TABLE, on_a)
    assert owner in {a.url, b.url, c.url}
    status, body, _ = await cluster.get(c, f"/count/?key={on_a}")
    assert (status, body) == (200, {"key": on_a, "value": 9, "served_by": owner})


async def test_router_lists_which_worker_holds_which_partitions(cluster: Cluster) -> None:
    a, b = cluster.workers
    for entry in (a, b):
        status, tables, _ = await cluster.get(entry, "/router/")
        assert status == 200
        assert set(tables) == {a.url, b.url}
        held = {url: tables[url].get(CHANGELOG, []) for url in tables}
        assert sorted(held[a.url] + held[b.url]) == list(range(PARTITIONS))
        assert held[a.url] and held[b.url]
        assert sorted(
            p for url in tables for p in tables[url].get("routes-by_number-changelog", [])
        )
        status, detail, _ = await cluster.get(entry, f"/router/{TABLE}/")
        assert (status, detail) == (200, {url: {CHANGELOG: held[url]} for url in held})
        status, topics, _ = await cluster.get(entry, "/router/topics")
        assert status == 200
        assert sorted(p for url in topics for p in topics[url]["updates"]) == list(
            range(PARTITIONS)
        )
        assert all(CHANGELOG not in topics[url] for url in topics)
    on_b = keys_by_owner(cluster)[b.url][0]
    status, url, _ = await cluster.get(a, f"/router/{TABLE}/{on_b}/")
    assert (status, url) == (200, b.url)
    status, body, _ = await cluster.get(a, "/router/nope/")
    assert status == 404 and "nope" in body["error"]


async def test_an_owner_that_does_not_answer_is_a_503(cluster: Cluster) -> None:
    a, b = cluster.workers
    on_b = keys_by_owner(cluster)[b.url][0]
    # Worker b's server stops answering before the group notices b is gone.
    assert b.app.web.driver is not None
    await b.app.web.driver.stop()
    status, body, headers = await cluster.get(a, f"/count/?key={on_b}")
    assert status == 503 and headers["Retry-After"] == "1"
    assert f"the worker at {b.url}" in body["error"]


def test_a_route_needs_one_key_source_and_a_partitioned_table(idle_app: App) -> None:
    table = idle_app.Table("t")
    with pytest.raises(TypeError, match="query_param, match_info or exact_key"):
        idle_app.table_route(table)
    with (
        pytest.raises(TypeError, match="shard_param or query_param"),
        pytest.warns(DeprecationWarning),
    ):
        idle_app.table_route(table, shard_param="a", query_param="b")
    with pytest.raises(TypeError, match="query_param, match_info or exact_key"):
        idle_app.topic_route(idle_app.topic("x"))
    with pytest.raises(TypeError, match="global"):
        idle_app.table_route(idle_app.GlobalTable("g"), query_param="k")


@pytest.fixture
async def standby_cluster(tmp_path: Any) -> Any:
    """Two workers that each keep a standby copy of the other's table partitions."""
    import aiohttp
    from routing_helpers import TIMEOUT
    from strm.builtins.memory_transport import drop_broker, unique_url

    broker = unique_url("standby-routes")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as http:
        group = Cluster(broker, tmp_path, [], http)
        try:
            for _ in range(2):
                await group.add(table_standby_replicas=1, broker_commit_every=1)
            await group.settled()
            yield group
        finally:
            for worker in reversed(group.workers):
                if worker.app.is_running:
                    await worker.app.stop()
            drop_broker(broker)


async def _answer_from(cluster: Cluster, entry: Any, path: str, value: int) -> Any:
    """Poll ``path`` on ``entry`` until it answers ``value`` (a standby applies the owner's
    changes once a checkpoint sealed them); bounded in time and count."""
    for _ in range(200):
        status, body, headers = await cluster.get(entry, path)
        if status == 200 and body["value"] == value:
            return body, headers
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never answered {value}: last {status} {body}")


async def test_standby_ok_answers_from_this_workers_standby_copy(
    standby_cluster: Cluster,
) -> None:
    from strm.web.routing import STANDBY_HEADER

    a, b = standby_cluster.workers
    on_b = keys_by_owner(standby_cluster)[b.url][0]
    await standby_cluster.send(on_b, 7)
    # Worker a keeps a standby of b's partition: it answers itself, and says so.
    body, headers = await _answer_from(standby_cluster, a, f"/fresh-enough/?key={on_b}", 7)
    assert body == {"key": on_b, "value": 7, "served_by": a.url}
    assert headers[STANDBY_HEADER] == "true"
    # The owner answers as an owner; a route without standby_ok is still forwarded to it.
    status, body, headers = await standby_cluster.get(b, f"/fresh-enough/?key={on_b}")
    assert (status, body["served_by"]) == (200, b.url) and STANDBY_HEADER not in headers
    status, body, _ = await standby_cluster.get(a, f"/count/?key={on_b}")
    assert (status, body["served_by"]) == (200, b.url)
    # Outside such a route, a read of a standby partition is still refused.
    with pytest.raises(Exception, match="which another worker owns"):
        a.app.tables.tables[TABLE][on_b]


async def test_standby_ok_answers_during_a_rebalance(standby_cluster: Cluster) -> None:
    a, b = standby_cluster.workers
    on_b = keys_by_owner(standby_cluster)[b.url][0]
    await standby_cluster.send(on_b, 4)
    await _answer_from(standby_cluster, a, f"/fresh-enough/?key={on_b}", 4)
    held, release = asyncio.Event(), asyncio.Event()

    async def hold(app: Any, revoked: set[TP], **kwargs: Any) -> None:
        if not held.is_set():
            held.set()
            await asyncio.wait_for(release.wait(), 10)

    b.app.on_partitions_revoked.connect(hold)
    joining = asyncio.create_task(standby_cluster.add(table_standby_replicas=1))
    try:
        await asyncio.wait_for(held.wait(), 10)
        assert a.app.rebalancing or b.app.rebalancing
        status, body, _ = await standby_cluster.get(b, f"/count/?key={on_b}")
        assert status == 503  # without standby_ok: ask again later
        # With it: the value from a standby copy still held, or 503; never the default of a
        # copy the rebalance took away.
        answers = [await standby_cluster.get(w, f"/fresh-enough/?key={on_b}") for w in (a, b)]
        for status, body, _ in answers:
            assert status == 503 or (status, body["value"]) == (200, 4), (status, body)
    finally:
        release.set()
        await asyncio.wait_for(joining, 10)
    await standby_cluster.settled()
