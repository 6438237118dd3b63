"""The StatsD line protocol over an asyncio datagram endpoint, with DogStatsD's tags.

Public: ``strm-sensor-datadog`` builds on it. A metric is one line, ``name:value|type``, with
``|@rate`` when sampled and ``|#k:v,...`` when tagged (DogStatsD). Lines wait at most
:data:`FLUSH_INTERVAL` in a buffer and leave packed into datagrams of at most
:data:`MAX_PACKET` bytes, so the number of ``sendto`` calls is bounded by time and size, not by
how often the kernel notifies (with ``concurrency > 1`` an agent's batch is one event). Writing
to a UDP transport never blocks the event loop, and the host is resolved by the loop's resolver
(in its executor) when the client opens.

Lines made before the endpoint is open (the sensor hears about the first batches while the app
starts) wait in the same bounded buffer; a StatsD daemon that is not there costs nothing but
the ``sendto``: UDP reports it, at most, as an ICMP error, which is logged once per start of
the app and never raised.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import socket
from collections.abc import Iterable, Mapping, Sequence

from strm.kernel.errors import ConfigurationError

logger = logging.getLogger(__name__)

#: Largest datagram: what a 1500-byte Ethernet frame carries after IP and UDP headers with room
#: to spare (the size StatsD and DogStatsD clients use by default for UDP).
MAX_PACKET = 1432
#: Lines kept while the endpoint is not open yet; older ones are dropped past it.
MAX_PENDING = 10_000
#: Longest a line waits in the buffer, in seconds.
FLUSH_INTERVAL = 0.1
#: Lines that make the buffer leave at once, without waiting for the interval.
FLUSH_LINES = 200

#: In a name's component: all but letters, digits, ``_`` and ``-`` (a dot would add a level of
#: the metric tree, ``:``, ``|``, ``@``, ``#`` break the line).
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_\-]")
#: In a tag: the characters DogStatsD reads as structure, ``|``, ``#``, ``,`` and whitespace.
_UNSAFE_TAG = re.compile(r"[|#,\s]")

Tags = Mapping[str, object]


def metric_name(part: object) -> str:
    """One component of a metric name (a topic, a table, an agent): every character but letters,
    digits, ``_`` and ``-`` replaced by ``_`` (``orders.v1`` is ``orders_v1``)."""
    return _UNSAFE_NAME.sub("_", str(part))


def tag(key: str, value: object) -> str:
    """``key:value`` for DogStatsD, the reserved characters of the value replaced by ``_``."""
    return f"{_UNSAFE_TAG.sub('_', key)}:{_UNSAFE_TAG.sub('_', str(value))}"


class StatsdClient:
    """Formats metric lines and writes them to ``host:port`` over UDP.

    ``rate`` below 1 samples counters and timers as StatsD clients do: a line is kept with that
    probability and carries ``|@rate`` so the daemon scales it back. Gauges are never sampled:
    a dropped gauge would leave a stale value. ``constant_tags`` go on every line (DogStatsD).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        prefix: str = "",
        rate: float = 1.0,
        constant_tags: Sequence[str] = (),
        setting_prefix: str = "statsd",
    ) -> None:
        self.host = host
        self.port = port
        self.prefix = f"{prefix}." if prefix else ""
        self.rate = rate
        self.constant_tags = tuple(constant_tags)
        #: Names the settings in errors: ``statsd_host`` or ``datadog_host``.
        self.setting_prefix = setting_prefix
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol: _Protocol | None = None
        self._pending: list[str] = []
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flush_at: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} udp://{self.host}:{self.port} prefix={self.prefix!r}>"

    # -- life cycle ------------------------------------------------------------------------------

    async def open(self) -> None:
        """Resolve the host and connect the UDP socket; raise a :class:`ConfigurationError`
        naming the setting when the address cannot be used."""
        if self._transport is not None:
            return
        loop = asyncio.get_running_loop()
        where = f"{self.setting_prefix}_host={self.host!r}, {self.setting_prefix}_port={self.port}"
        try:
            transport, protocol = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), remote_addr=(self.host, self.port)
            )
        except socket.gaierror as exc:
            raise ConfigurationError(
                f"{where}: the host cannot be resolved ({exc.strerror}); set "
                f"{self.setting_prefix}_host to the name or address of the StatsD daemon"
            ) from None
        except OSError as exc:
            raise ConfigurationError(
                f"{where}: cannot send UDP datagrams there ({exc.strerror or exc}); check "
                f"{self.setting_prefix}_host and {self.setting_prefix}_port"
            ) from None
        self._transport, self._protocol = transport, protocol
        self._closed = False
        self._loop = loop
        self.flush()

    def close(self) -> None:
        """Send what the buffer holds and close the socket; lines sent afterwards are dropped."""
        self.flush()
        self._closed = True
        self._pending = []
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    # -- lines -----------------------------------------------------------------------------------

    def _line(self, name: str, value: float, kind: str, rate: float, tags: Tags | None) -> str:
        text = f"{self.prefix}{name}:{_number(value)}|{kind}"
        if rate < 1.0:
            text += f"|@{float(rate)!r}"
        if tags or self.constant_tags:
            pairs = [tag(k, v) for k, v in tags.items()] if tags else []
            text += "|#" + ",".join([*self.constant_tags, *pairs])
        return text

    def _sampled(self) -> bool:
        return self.rate >= 1.0 or random.random() < self.rate

    def count(self, name: str, value: float = 1, tags: Tags | None = None) -> str | None:
        """A counter line (``|c``), or ``None`` when sampling dropped it."""
        if not self._sampled():
            return None
        return self._line(name, value, "c", self.rate, tags)

    def gauge(self, name: str, value: float, tags: Tags | None = None) -> str:
        """A gauge line (``|g``): the latest value wins."""
        return self._line(name, value, "g", 1.0, tags)

    def timing(self, name: str, milliseconds: float, tags: Tags | None = None) -> str | None:
        """A timer line (``|ms``), or ``None`` when sampling dropped it."""
        if not self._sampled():
            return None
        return self._line(name, milliseconds, "ms", self.rate, tags)

    def send(self, lines: Iterable[str | None]) -> None:
        """Buffer ``lines`` (``None`` entries are sampled-out lines) to leave within
        :data:`FLUSH_INTERVAL`, or at once past :data:`FLUSH_LINES`."""
        if self._closed:
            return
        pending = self._pending
        pending.extend(line for line in lines if line is not None)
        if self._transport is None:
            if len(pending) > MAX_PENDING:
                del pending[: len(pending) - MAX_PENDING]
        elif len(pending) >= FLUSH_LINES:
            self.flush()
        elif self._flush_at is None and pending and self._loop is not None:
            self._flush_at = self._loop.call_later(FLUSH_INTERVAL, self.flush)

    def flush(self) -> None:
        """Write the buffered lines now, in as few datagrams as fit :data:`MAX_PACKET`."""
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        transport = self._transport
        if transport is None or not self._pending:
            return
        lines, self._pending = self._pending, []
        packet: list[bytes] = []
        size = 0
        for line in lines:
            data = line.encode()
            if packet and size + 1 + len(data) > MAX_PACKET:
                transport.sendto(b"\n".join(packet))
                packet, size = [], 0
            size += len(data) + (1 if packet else 0)
            packet.append(data)
        if packet:
            transport.sendto(b"\n".join(packet))

    def error_received(self, error: OSError) -> None:
        """An ICMP error for an earlier datagram (nobody listens there): logged once per open,
        never raised — metrics must not stop the app."""
        protocol = self._protocol
        if protocol is not None and not protocol.failing:
            protocol.failing = True
            logger.warning(
                "%s_host=%r, %s_port=%d: the StatsD daemon does not receive (%s); metrics are "
                "dropped until it does",
                self.setting_prefix,
                self.host,
                self.setting_prefix,
                self.port,
                error.strerror or error,
            )


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, client: StatsdClient) -> None:
        self.client = client
        self.failing = False

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, OSError):
            self.client.error_received(exc)


def _number(value: float) -> str:
    """``3`` for whole numbers, else at most three decimals (a microsecond of a timing in
    milliseconds): ``12.5``, ``4.928``."""
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}".rstrip("0").rstrip(".")
