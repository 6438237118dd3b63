"""Per-event tracing: the opt-in hook through which a sensor follows each record an agent
processes and each record sent while it does.

Tracing is the one observer that must see single events (a span per event, a trace context in
each record's headers), which the batch-level sensor callbacks cannot give. A sensor offers an
:class:`EventTracer` as its ``event_tracer`` attribute; without one (the default) a stream pays
one ``is None`` test per record and a send one per record, nothing more.

The stream calls :meth:`EventTracer.event_in` right before it hands a record to the agent and
:meth:`EventTracer.event_out` when the agent asks for the next one (or stops iterating), both in
the agent's task: a tracer may make its span current with a context variable there, and
everything the agent does for the record — sends included — sees it.
"""

from __future__ import annotations

from typing import Protocol

from strm.kernel.spi import Headers, Message


class EventTracer(Protocol):
    def event_in(self, message: Message) -> object:
        """The agent is about to process ``message``; the returned token is given back to
        :meth:`event_out`."""

    def event_out(self, token: object) -> None:
        """The agent is done with the record :meth:`event_in` returned ``token`` for."""

    def headers_out(self, topic: str, headers: Headers) -> Headers:
        """A record is being sent to ``topic``: the headers to send instead of ``headers``
        (the same ones with the trace context added)."""


__all__ = ["EventTracer"]
