"""Where a table partition lives: the cluster, the namespace, the set, and the client settings.

The URL names the cluster and the namespace::

    aerospike://[user[:password]@]host[:port][,host[:port]...]/<namespace>[?set=...&offsets_set=...]

A host without a port uses 3000; IPv6 addresses go in brackets (``[::1]:3000``); without any
host the client connects to ``127.0.0.1:3000``. The table's ``options`` add to the URL and win
over it:

- ``namespace``: the namespace, when the URL has none;
- ``set``: the template of the set that holds one partition, with ``{table}``, ``{partition}``
  and ``{app}`` (the app id); it must use ``{partition}``. Default ``'{table}-{partition}'``;
- ``offsets_set``: the set that holds every partition's applied changelog offsets, one record
  per data set (default ``'strm-applied-offsets'``);
- ``user`` and ``password``: credentials, for servers with security enabled;
- ``client``: more configuration for ``aerospike.client()`` (``policies``, ``tls``,
  ``timeout``, ``hosts`` with TLS names ...), merged over what the URL gives;
- ``client_factory``: the function that makes a client from a configuration, default
  ``aerospike.client`` (tests pass :class:`strm_store_aerospike.testing.FakeAerospike`).
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from strm.kernel.redaction import redact_url

SCHEME = "aerospike"
DEFAULT_PORT = 3000
DEFAULT_HOSTS: tuple[tuple[str, int], ...] = (("127.0.0.1", DEFAULT_PORT),)
DEFAULT_SET = "{table}-{partition}"
DEFAULT_OFFSETS_SET = "strm-applied-offsets"
#: Aerospike's limit on the length of a set name, in bytes.
MAX_SET_NAME = 63

URL_PARAMETERS = ("set", "offsets_set")
OPTIONS = ("namespace", "set", "offsets_set", "user", "password", "client", "client_factory")
SET_FIELDS = ("table", "partition", "app")

ClientFactory = Callable[[dict[str, Any]], Any]


class LocationError(ValueError):
    """A URL or an option that does not describe a place in Aerospike."""


@dataclass(frozen=True)
class Location:
    """One table partition's place in Aerospike and how to reach it (never shows the
    password)."""

    hosts: tuple[tuple[str, int], ...]
    namespace: str
    set_name: str
    offsets_set: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    client_options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    client_factory: ClientFactory | None = field(default=None, repr=False, compare=False)

    def client_config(self) -> dict[str, Any]:
        """The configuration given to ``aerospike.client()``."""
        config: dict[str, Any] = {"hosts": list(self.hosts)}
        if self.user is not None:
            config["user"] = self.user
        if self.password is not None:
            config["password"] = self.password
        config.update(self.client_options)
        return config

    def client_identity(self) -> tuple[Any, str]:
        """Stores with the same identity share one client (within one app)."""
        text = json.dumps(self.client_config(), sort_keys=True, default=repr)
        return (self.client_factory, text)

    def describe(self) -> str:
        """The cluster, namespace and set, for messages (no credentials)."""
        hosts = ",".join(_show_host(host, port) for host, port in self.hosts)
        return f"aerospike://{hosts}/{self.namespace} set {self.set_name!r}"


def _show_host(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_hosts(text: str) -> tuple[tuple[str, int], ...]:
    """``'a:3000,b,[::1]:3100'`` as ``(('a', 3000), ('b', 3000), ('::1', 3100))``."""
    hosts: list[tuple[str, int]] = []
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        if entry.startswith("["):
            address, bracket, rest = entry[1:].partition("]")
            if not bracket or not address:
                raise LocationError(f"bad IPv6 host {entry!r}: expected [address]:port")
            if rest and not rest.startswith(":"):
                raise LocationError(f"bad host {entry!r}: expected [address]:port")
            port_text = rest[1:] if rest else ""
        else:
            if entry.count(":") > 1:
                raise LocationError(
                    f"bad host {entry!r}: put an IPv6 address in brackets, as [::1]:3000"
                )
            address, _, port_text = entry.partition(":")
            if not address:
                raise LocationError(f"bad host {entry!r}: the host name is missing")
        hosts.append((address, _parse_port(entry, port_text)))
    return tuple(hosts)


def _parse_port(entry: str, text: str) -> int:
    if not text:
        return DEFAULT_PORT
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise LocationError(f"bad port in host {entry!r}: expected a number from 1 to 65535")
    return int(text)


def format_set(template: str, *, table: str, partition: int, app: str) -> str:
    """The set of one partition from the ``set`` template, checked against Aerospike's rules."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise LocationError(f"bad set template {template!r}: {exc}") from None
    unknown = fields - set(SET_FIELDS)
    if unknown:
        raise LocationError(
            f"bad set template {template!r}: unknown field {sorted(unknown)[0]!r}; "
            "use {table}, {partition} and {app}"
        )
    if "partition" not in fields:
        raise LocationError(
            f"bad set template {template!r}: it must contain {{partition}}, since every "
            "partition of a table needs its own set"
        )
    name = template.format(table=table, partition=partition, app=app)
    check_set_name(name, "set")
    return name


def check_set_name(name: str, what: str) -> None:
    if not name:
        raise LocationError(f"the {what} name is empty")
    if len(name.encode()) > MAX_SET_NAME:
        raise LocationError(
            f"the {what} name {name!r} is longer than Aerospike's {MAX_SET_NAME} bytes; choose "
            "a shorter one with the table's options={'set': ...}"
        )
    if ":" in name or ";" in name:
        raise LocationError(f"the {what} name {name!r} may not contain ':' or ';'")


def parse_location(
    url: str,
    options: Mapping[str, Any] | None,
    *,
    table: str,
    partition: int,
    app: str,
) -> Location:
    """The place of partition ``partition`` of table ``table``, from the URL and options."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise LocationError(
            f"unknown option {unknown[0]!r} for an aerospike:// store; the options are "
            + ", ".join(OPTIONS)
        )
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != SCHEME:
        raise LocationError(f"expected an aerospike:// URL, got {redact_url(url)!r}")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, at, hosts_text = netloc.rpartition("@")
    if not at:
        hosts_text = netloc
    user: str | None = None
    password: str | None = None
    if userinfo:
        user_text, colon, password_text = userinfo.partition(":")
        user = unquote(user_text)
        password = unquote(password_text) if colon else None
    hosts = parse_hosts(hosts_text) or DEFAULT_HOSTS

    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in URL_PARAMETERS:
            raise LocationError(
                f"unknown parameter {name!r} in the aerospike:// URL; the parameters are "
                + ", ".join(URL_PARAMETERS)
                + " (give the rest as the table's options)"
            )
        params[name] = value

    namespace = _text_option(options, "namespace") or unquote(path.strip("/"))
    if not namespace:
        raise LocationError(
            "no namespace: name it in the URL, as aerospike://host:3000/<namespace>, or with "
            "the table's options={'namespace': ...}"
        )
    if "/" in namespace:
        raise LocationError(f"bad namespace {namespace!r}: a namespace has no '/'")
    template = _text_option(options, "set") or params.get("set") or DEFAULT_SET
    set_name = format_set(template, table=table, partition=partition, app=app)
    offsets_set = (
        _text_option(options, "offsets_set") or params.get("offsets_set") or DEFAULT_OFFSETS_SET
    )
    check_set_name(offsets_set, "offsets_set")
    if offsets_set == set_name:
        raise LocationError(
            f"the set {set_name!r} is also the offsets_set: the applied offsets need a set of "
            "their own"
        )
    if "user" in options:
        user = _text_option(options, "user")
    if "password" in options:
        password = _text_option(options, "password")

    client_options = options.get("client", {})
    if not isinstance(client_options, Mapping):
        raise LocationError(
            "the option 'client' must be a mapping of aerospike.client() configuration, got "
            f"{type(client_options).__name__}"
        )
    factory = options.get("client_factory")
    if factory is not None and not callable(factory):
        raise LocationError(
            "the option 'client_factory' must be callable as aerospike.client(config), got "
            f"{type(factory).__name__}"
        )
    return Location(
        hosts=hosts,
        namespace=namespace,
        set_name=set_name,
        offsets_set=offsets_set,
        user=user,
        password=password,
        client_options=dict(client_options),
        client_factory=factory,
    )


def _text_option(options: Mapping[str, Any], name: str) -> str | None:
    value = options.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        shown = "a value" if name == "password" else repr(value)
        raise LocationError(f"the option {name!r} must be a string, got {shown}")
    return value
