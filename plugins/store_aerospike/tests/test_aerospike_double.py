"""The double behaves as the official client does for the calls it models: return shapes,
digests, and the exception classes of ``aerospike.exception``."""

from __future__ import annotations

import aerospike
import pytest
from aerospike import exception as ex
from aerospike_helpers.operations import map_operations, operations
from strm_store_aerospike.testing import NEVER_EXPIRES, FakeAerospike, FakeClient

CONFIG = {"hosts": [("127.0.0.1", 3000)]}


@pytest.fixture
def client(fake: FakeAerospike) -> FakeClient:
    return fake(CONFIG).connect()


def key(primary: object, set_name: str = "demo") -> tuple[object, ...]:
    return ("test", set_name, primary)


def test_put_get_exists_remove(client: FakeClient) -> None:
    client.put(key("a"), {"name": "Ada", "blob": bytearray(b"\x00\xff"), "n": 3})
    found_key, meta, bins = client.get(key("a"))
    digest = aerospike.calc_digest("test", "demo", "a")
    assert found_key == ("test", "demo", "a", digest)
    assert meta == {"ttl": NEVER_EXPIRES, "gen": 1}
    assert bins == {"name": "Ada", "blob": b"\x00\xff", "n": 3}
    assert type(bins["blob"]) is bytes
    client.put(key("a"), {"n": 4, "name": None})
    _, meta, bins = client.get(key("a"))
    assert meta["gen"] == 2
    assert bins == {"blob": b"\x00\xff", "n": 4}, "put updates bins; None removes one"
    assert client.exists(key("a"))[1] == {"ttl": NEVER_EXPIRES, "gen": 2}
    client.remove(key("a"))
    assert client.exists(key("a")) == (("test", "demo", "a", digest), None)


def test_a_missing_record_raises_the_clients_record_not_found(client: FakeClient) -> None:
    with pytest.raises(ex.RecordNotFound) as info:
        client.get(key("missing"))
    assert info.value.code == 2
    assert isinstance(info.value, ex.AerospikeError)
    with pytest.raises(ex.RecordNotFound):
        client.remove(key("missing"))
    with pytest.raises(ex.RecordNotFound):
        client.operate(key("missing"), [operations.read("x")])


def test_keys_of_different_types_are_different_records(client: FakeClient) -> None:
    client.put(key("1"), {"v": "str"})
    client.put(key(1), {"v": "int"})
    client.put(key(bytearray(b"1")), {"v": "blob"})
    assert [client.get(key(k))[2]["v"] for k in ("1", 1, bytearray(b"1"))] == [
        "str",
        "int",
        "blob",
    ]


@pytest.mark.parametrize(
    ("bad_key", "message"),
    [
        (key(bytearray()), "Byte array size cannot be 0"),
        (key(b"bytes"), "key is invalid"),
        (key(None), "either key or digest"),
        (("test", "demo"), "key is invalid"),
        (("test", "x" * 64, "k"), "set name longer"),
    ],
)
def test_bad_keys_are_param_errors(
    client: FakeClient, bad_key: tuple[object, ...], message: str
) -> None:
    with pytest.raises(ex.ParamError, match=message):
        client.get(bad_key)


def test_server_side_limits(fake: FakeAerospike) -> None:
    small = FakeAerospike(max_record_size=100)
    client = small(CONFIG)
    with pytest.raises(ex.BinNameError):
        client.put(key("k"), {"a-very-long-bin-name": 1})
    with pytest.raises(ex.RecordTooBig):
        client.put(key("k"), {"v": b"x" * 200})
    with pytest.raises(ex.NamespaceNotFound):
        client.put(("nope", "demo", "k"), {"v": 1})
    with pytest.raises(ex.ParamError):
        client.put(key("k"), {"v": object()})


def test_queries_return_digests_and_keys_only_when_sent(client: FakeClient) -> None:
    client.put(key("plain"), {"v": 1, "w": 2})
    client.put(key("sent"), {"v": 3}, policy={"key": aerospike.POLICY_KEY_SEND})
    client.put(key("elsewhere", "other"), {"v": 4})
    query = client.query("test", "demo")
    query.select("v")
    records = sorted(query.results(), key=lambda r: r[2]["v"])
    assert [(k[2], bins) for k, _, bins in records] == [(None, {"v": 1}), ("sent", {"v": 3})]
    assert records[0][0][3] == aerospike.calc_digest("test", "demo", "plain")
    nobins = client.query("test", "demo").results(options={"nobins": True})
    assert [bins for _, _, bins in nobins] == [{}, {}]
    # A digest from a query finds the record.
    client.remove(records[0][0])
    assert client.exists(key("plain"))[1] is None


def test_foreach_stops_when_the_callback_returns_false(client: FakeClient) -> None:
    for i in range(5):
        client.put(key(i), {"v": i})
    seen: list[int] = []

    def callback(record: tuple[object, dict[str, object], dict[str, int]]) -> bool:
        seen.append(record[2]["v"])
        return len(seen) < 2

    client.query("test", "demo").foreach(callback)
    assert len(seen) == 2


def test_operate_writes_reads_and_merges_maps(client: FakeClient) -> None:
    _, _, bins = client.operate(key("m"), [map_operations.map_put_items("m", {"a": 1, "b": 2})])
    assert bins == {"m": 2}
    client.operate(key("m"), [map_operations.map_put_items("m", {"b": 3, "c": 4})])
    _, _, bins = client.operate(key("m"), [operations.write("x", b"1"), operations.read("m")])
    assert bins == {"m": {"a": 1, "b": 3, "c": 4}}
    assert client.get(key("m"))[2] == {"m": {"a": 1, "b": 3, "c": 4}, "x": b"1"}
    client.put(key("s"), {"m": "not a map"})
    with pytest.raises(ex.BinIncompatibleType):
        client.operate(key("s"), [map_operations.map_put_items("m", {"a": 1})])
    with pytest.raises(NotImplementedError, match="does not model"):
        client.operate(key("m"), [operations.increment("n", 1)])


def test_a_closed_client_has_no_cluster_until_it_connects_again(client: FakeClient) -> None:
    client.put(key("k"), {"v": 1})
    client.close()
    assert not client.is_connected()
    with pytest.raises(ex.ClusterError):
        client.get(key("k"))
    assert client.connect() is client
    assert client.get(key("k"))[2] == {"v": 1}


@pytest.mark.parametrize(
    "config", [{}, {"hosts": []}, {"hosts": ["db:3000"]}, {"hosts": [("db", "3000")]}]
)
def test_a_bad_configuration_is_a_param_error(
    fake: FakeAerospike, config: dict[str, object]
) -> None:
    with pytest.raises(ex.ParamError):
        fake(config)


def test_injected_failures(fake: FakeAerospike, client: FakeClient) -> None:
    fake.fail_next(2, methods=["get"])
    fake.fail_next(1, ex.ServerFull)
    with pytest.raises(ex.ServerFull) as full:
        client.put(key("k"), {"v": 1})
    assert full.value.code == ex.ServerFull.code
    client.put(key("k"), {"v": 1})
    for _ in range(2):
        with pytest.raises(ex.TimeoutError) as timeout:
            client.get(key("k"))
        assert timeout.value.code == 9
    assert client.get(key("k"))[2] == {"v": 1}
    instance = ex.ConnectionError(-10, "down", "x", 1, False)
    fake.fail_next(1, instance)
    with pytest.raises(ex.ConnectionError) as down:
        client.exists(key("k"))
    assert down.value is instance
    assert [(c.method, c.failed) for c in fake.calls] == [
        ("connect", False),
        ("put", True),
        ("put", False),
        ("get", True),
        ("get", True),
        ("get", False),
        ("exists", True),
    ]
    assert fake.count("get") == 3
    fake.fail_next(3)
    fake.heal()
    assert client.get(key("k"))[2] == {"v": 1}


def test_the_client_repr_hides_the_password(fake: FakeAerospike) -> None:
    client = fake({**CONFIG, "user": "u", "password": "hunter2"})
    assert "hunter2" not in repr(client)
