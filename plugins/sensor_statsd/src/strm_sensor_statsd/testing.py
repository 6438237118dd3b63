"""A StatsD daemon's ear for tests: a UDP socket on 127.0.0.1 that keeps every datagram.

Public, so the Datadog plugin's tests (and an app's own) check the exact lines a sensor sends
without a daemon installed::

    async with UdpListener.bound() as listener:
        app = App("a", plugins=["strm_sensor_statsd"], statsd_port=listener.port, ...)
        ...
        await listener.wait_for(lambda lines: "faust-app.messages_received:3|c" in lines)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class UdpListener(asyncio.DatagramProtocol):
    """Keeps the datagrams it receives; :attr:`lines` splits them into metric lines."""

    def __init__(self) -> None:
        self.datagrams: list[bytes] = []
        self.port = 0

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.datagrams.append(data)

    @property
    def lines(self) -> list[str]:
        return [line for data in self.datagrams for line in data.decode().split("\n")]

    @classmethod
    @asynccontextmanager
    async def bound(cls, host: str = "127.0.0.1") -> AsyncIterator[UdpListener]:
        """A listener on a free port of ``host`` (loopback only), closed on exit."""
        loop = asyncio.get_running_loop()
        transport, listener = await loop.create_datagram_endpoint(cls, local_addr=(host, 0))
        listener.port = transport.get_extra_info("sockname")[1]
        try:
            yield listener
        finally:
            transport.close()

    async def wait_for(
        self, condition: Callable[[list[str]], bool], timeout: float = 10.0
    ) -> list[str]:
        """Poll until ``condition(self.lines)`` holds; ``AssertionError`` with the lines seen
        after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not condition(lines := self.lines):
            if time.monotonic() > deadline:
                raise AssertionError(f"not received within {timeout} s; got {lines!r}")
            await asyncio.sleep(0.01)
        return lines
