"""Cluster routing on Kafka: the group's map by URL travels in the strm assignor's JSON user
data, and two ``strm worker`` processes answer for each other's table keys over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka.cluster import ClusterMetadata  # type: ignore[import-untyped]
from aiokafka.coordinator.protocol import ConsumerProtocol  # type: ignore[import-untyped]
from aiokafka.protocol.metadata import MetadataResponse_v0  # type: ignore[import-untyped]
from strm.kernel.assignor import PartitionAssignor
from strm.kernel.spi import TP
from strm_transport_kafka.assignor import StrmAssignor, decode_assignment_cluster


def cluster(**topics: int) -> ClusterMetadata:
    """aiokafka's cluster metadata with these topics and partition counts."""
    metadata = ClusterMetadata()
    metadata.update_metadata(
        MetadataResponse_v0(
            [(0, "localhost", 9092)],
            [
                (0, name, [(0, partition, 0, [0], [0]) for partition in range(count)])
                for name, count in topics.items()
            ],
        )
    )
    return metadata


URL_A, URL_B = "http://127.0.0.1:7001", "http://127.0.0.1:7002"
WORDS, CHANGELOG = "words", "app-counts-changelog"


def test_every_member_learns_the_whole_map_from_its_assignment() -> None:
    members = {
        member_id: StrmAssignor(
            assignor=lambda: PartitionAssignor(standby_replicas=1),
            changelogs=lambda: {CHANGELOG},
            url=lambda url=url: url,  # type: ignore[misc]
        )
        for member_id, url in (("a", URL_A), ("b", URL_B))
    }
    wire = {
        member_id: ConsumerProtocol.METADATA.decode(assignor.metadata([WORDS, CHANGELOG]).encode())
        for member_id, assignor in members.items()
    }
    plan = members["a"].assign(cluster(**{WORDS: 4, CHANGELOG: 4}), wire)
    for member_id, assignment in plan.items():
        members[member_id].on_assignment(ConsumerProtocol.ASSIGNMENT.decode(assignment.encode()))
    maps = [assignor.cluster for assignor in members.values()]
    assert maps[0] is not None and maps[0] == maps[1]
    seen = maps[0]
    assert seen.urls() == [URL_A, URL_B]
    assert seen.changelogs == {CHANGELOG}
    for member_id, url in (("a", URL_A), ("b", URL_B)):
        mine = {TP(t.topic, t.partition) for t in plan[member_id].partitions()}
        assert {tp for tp in mine if seen.owner(tp) == url} == mine - members[member_id].standbys
        assert all(url in seen.standby_urls(tp) for tp in members[member_id].standbys)
    # A new rebalance forgets the map until the next assignment.
    members["a"].rebalancing()
    assert members["a"].cluster is None
    assert decode_assignment_cluster(b"") is None
    with pytest.raises(ValueError):
        decode_assignment_cluster(b'{"cluster": {"active": []}}')


# -- two worker processes --------------------------------------------------------------------

APP = """
import os

import strm

app = strm.App(
    os.environ["ROUTES_APP_ID"],
    broker=os.environ["ROUTES_BROKER"],
    topic_partitions=4,
    broker_heartbeat_interval=0.3,
    broker_commit_interval=0.2,
    consumer_metadata_max_age_ms=1000,
)
updates = app.topic(
    os.environ["ROUTES_TOPIC"], key_type=str, value_type=int, key_serializer="json", partitions=4
)
counts = app.Table("counts", default=int, partitions=4)


@app.agent(updates)
async def store(stream):
    async for event in stream.events():
        counts[event.key] = event.value


@app.page("/count/")
@app.table_route(counts, query_param="key")
async def get_count(view, request):
    key = request.query["key"]
    return view.json({"value": counts[key], "served_by": str(app.conf.canonical_url)})


@app.page("/send/")
class Send(strm.web.View):
    async def post(self, request):
        body = await request.json()
        await updates.send(key=body["key"], value=body["value"])
        return self.json({"sent": True})
"""

#: Bounds, in seconds: a worker's start (Python, group join, recovery), one HTTP exchange.
START_TIMEOUT = 60.0
HTTP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_for(condition: Callable[[], Any], what: str, timeout: float = START_TIMEOUT) -> Any:
    """Until ``condition()`` is truthy: at most ``timeout`` seconds and 2,000 looks."""
    deadline = time.monotonic() + timeout
    for _ in range(2000):
        try:
            found = condition()
        except OSError:  # the server is not listening yet
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout} s for {what}")


@pytest.fixture
def workers(
    tmp_path: Path, kafka_bootstrap: str, unique: Callable[[str], str]
) -> Iterator[list[str]]:
    """Two ``strm worker`` processes of one group, each with its web server on 127.0.0.1;
    their URLs."""
    (tmp_path / "routes_app.py").write_text(textwrap.dedent(APP))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STRM_", "APP_"))},
        "PYTHONPATH": str(tmp_path),
        "ROUTES_APP_ID": unique("routes"),
        "ROUTES_BROKER": f"kafka://{kafka_bootstrap}",
        "ROUTES_TOPIC": unique("updates"),
    }
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []
    urls: list[str] = []
    try:
        for index in range(2):
            port = free_port()
            directory = tmp_path / f"worker-{index}"
            directory.mkdir()
            log = (tmp_path / f"worker-{index}.log").open("wb")
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "strm",
                        "-A",
                        "routes_app",
                        "-D",
                        str(directory),
                        "-l",
                        "info",
                        "worker",
                    ],
                    cwd=tmp_path,
                    # The web settings from the environment, as a deployment gives them.
                    env={
                        **env,
                        "WEB_BIND": "127.0.0.1",
                        "WEB_HOST": "127.0.0.1",
                        "WEB_PORT": str(port),
                    },
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        yield urls
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for log in logs:
            log.close()


@pytest.mark.slow
def test_two_worker_processes_answer_for_each_other_s_keys(
    workers: list[str], tmp_path: Path
) -> None:
    a, b = workers

    def both_listed() -> bool:
        for url in workers:
            status, tables = http("GET", f"{url}/router/")
            if status != 200 or set(tables) != set(workers):
                return False
            if not all(any(held.values()) for held in tables.values()):
                return False
        return True

    try:
        wait_for(both_listed, "both workers to hold table partitions")
    except AssertionError:
        for url in workers:
            print(url, http("GET", f"{url}/router/"), http("GET", f"{url}/router/topics"))
        raise
    owners: dict[str, str] = {}
    for n in range(100):
        status, owner = http("GET", f"{a}/router/counts/key-{n}/")
        assert status == 200
        owners.setdefault(owner, f"key-{n}")
        if len(owners) == 2:
            break
    assert set(owners) == {a, b}
    for owner, key in owners.items():
        value = len(key) + (7 if owner == b else 3)
        assert http("POST", f"{a}/send/", {"key": key, "value": value}) == (200, {"sent": True})

        def stored(key: str = key, value: int = value) -> Any:
            status, body = http("GET", f"{a}/count/?key={key}")
            return body if status == 200 and body["value"] == value else None

        # Asked of worker a, the key is answered by the worker that holds it.
        assert wait_for(stored, f"{key} to be stored", timeout=30.0) == {
            "value": value,
            "served_by": owner,
        }
        assert http("GET", f"{b}/count/?key={key}") == (200, {"value": value, "served_by": owner})
