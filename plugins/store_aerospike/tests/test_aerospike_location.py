"""The URL and the options: hosts, namespace, sets, and the errors that explain a bad one."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from strm.kernel.errors import StoreError
from strm.kernel.spi import TP
from strm_store_aerospike import AerospikeStore, Location, parse_location
from strm_store_aerospike.location import DEFAULT_HOSTS, LocationError, parse_hosts
from strm_store_aerospike.testing import FakeAerospike

OpenStore = Callable[..., AerospikeStore]


def locate(url: str, options: dict[str, Any] | None = None) -> Location:
    return parse_location(url, options, table="counts", partition=3, app="myapp")


def test_the_defaults() -> None:
    loc = locate("aerospike:///test")
    assert loc.hosts == DEFAULT_HOSTS == (("127.0.0.1", 3000),)
    assert loc.namespace == "test"
    assert loc.set_name == "counts-3"
    assert loc.offsets_set == "strm-applied-offsets"
    assert loc.user is None and loc.password is None
    assert loc.client_config() == {"hosts": [("127.0.0.1", 3000)]}


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        ("db", (("db", 3000),)),
        ("db:3100", (("db", 3100),)),
        ("a:3000,b:3001, c ", (("a", 3000), ("b", 3001), ("c", 3000))),
        ("[::1]", (("::1", 3000),)),
        ("[fe80::1]:3100,10.0.0.1:3000", (("fe80::1", 3100), ("10.0.0.1", 3000))),
        ("", ()),
    ],
)
def test_hosts(text: str, hosts: tuple[tuple[str, int], ...]) -> None:
    assert parse_hosts(text) == hosts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("db:port", "bad port"),
        ("db:0", "bad port"),
        ("db:70000", "bad port"),
        ("::1:3000", "in brackets"),
        ("[::1", "bad IPv6 host"),
        ("[::1]3000", "expected [address]:port"),
        (":3000", "host name is missing"),
    ],
)
def test_bad_hosts(text: str, expected: str) -> None:
    with pytest.raises(LocationError, match=re.escape(expected)):
        parse_hosts(text)


def test_the_namespace_set_and_offsets_set_from_the_url_and_options() -> None:
    loc = locate("aerospike://db/ns1?set=strm-{app}-{table}-{partition}&offsets_set=offs")
    assert (loc.namespace, loc.set_name, loc.offsets_set) == ("ns1", "strm-myapp-counts-3", "offs")
    loc = locate(
        "aerospike://db/ns1?set=x-{partition}",
        {"namespace": "ns2", "set": "{table}_{partition}", "offsets_set": "o"},
    )
    assert (loc.namespace, loc.set_name, loc.offsets_set) == ("ns2", "counts_3", "o")
    assert locate("aerospike://db", {"namespace": "ns3"}).namespace == "ns3"


def test_the_scheme_is_case_insensitive() -> None:
    assert locate("AEROSPIKE://db/ns").namespace == "ns"


@pytest.mark.parametrize(
    ("url", "options", "expected"),
    [
        ("redis://db/ns", {}, "expected an aerospike:// URL"),
        ("aerospike://db", {}, "no namespace"),
        ("aerospike://db/a/b", {}, "a namespace has no '/'"),
        ("aerospike://db/ns?ttl=5", {}, "unknown parameter 'ttl'"),
        ("aerospike://db/ns", {"ttl": 5}, "unknown option 'ttl'"),
        ("aerospike://db/ns", {"set": "{table}"}, "must contain {partition}"),
        ("aerospike://db/ns", {"set": "{tabel}-{partition}"}, "unknown field 'tabel'"),
        ("aerospike://db/ns", {"set": "{partition"}, "bad set template"),
        ("aerospike://db/ns", {"set": "x" * 62 + "-{partition}"}, "longer than Aerospike's 63"),
        ("aerospike://db/ns", {"set": "a:{partition}"}, "may not contain"),
        ("aerospike://db/ns", {"offsets_set": "counts-3"}, "also the offsets_set"),
        ("aerospike://db/ns", {"offsets_set": "o;k"}, "may not contain"),
        ("aerospike://db/ns", {"client": ["hosts"]}, "'client' must be a mapping"),
        ("aerospike://db/ns", {"client_factory": "aerospike.client"}, "must be callable"),
        ("aerospike://db/ns", {"namespace": 3}, "'namespace' must be a string"),
        ("aerospike://db:x/ns", {}, "bad port"),
    ],
)
def test_bad_locations_are_explained(url: str, options: dict[str, Any], expected: str) -> None:
    with pytest.raises(LocationError, match=re.escape(expected)):
        locate(url, options)


def test_a_url_of_another_scheme_is_refused_without_its_password() -> None:
    with pytest.raises(LocationError) as info:
        locate("redis://u:s3cret@db/ns")
    assert "s3cret" not in str(info.value)
    assert "'redis://u:***@db/ns'" in str(info.value)


def test_a_long_table_name_asks_for_a_shorter_set(open_store: OpenStore) -> None:
    with pytest.raises(StoreError) as info:
        open_store("a-table-name-that-is-much-too-long-for-the-set-name-of-aerospike", 12)
    message = str(info.value)
    assert message.startswith("table 'a-table-name-that-is-much-too-long")
    assert "partition 12: bad aerospike:// store" in message
    assert "options={'set': ...}" in message


def test_a_store_writes_to_its_set_in_its_namespace(open_store: OpenStore) -> None:
    fake = FakeAerospike(namespaces=["tables"])
    store = open_store("counts", 5, url="aerospike://db/tables", client_factory=fake)
    store.set(b"k", b"v")
    store.set_applied_offset(TP("c", 5), 1)
    assert sorted(fake.set_names("tables")) == ["counts-5", "strm-applied-offsets"]
    [bins] = fake.records("tables", "counts-5").values()
    assert bins == {"k": b"k", "v": b"v"}
    [offsets] = fake.records("tables", "strm-applied-offsets").values()
    assert offsets == {"offsets": {'["c", 5]': 1}}


def test_an_unknown_namespace_fails_without_retries(open_store: OpenStore) -> None:
    store = open_store(url="aerospike://db/nope")
    with pytest.raises(StoreError, match="after 1 attempt: NamespaceNotFound"):
        store.set(b"k", b"v")
