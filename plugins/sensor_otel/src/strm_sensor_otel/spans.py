"""A span per event, through the kernel's per-event tracing hook (:mod:`strm.kernel.tracing`).

Receiving: the trace context in the record's headers (W3C ``traceparent``/``tracestate``, or
whatever the global propagator reads) is extracted, and a ``process <topic>`` span (kind
CONSUMER), child of it, is current while the agent works on the record. Sending: a
``send <topic>`` span (kind PRODUCER), child of the current span, is opened and its context is
injected into the record's headers, so the agent reading that record continues the trace. The
send span covers handing the record to the producer, not its delivery (which is acknowledged
per flush, not per record).

Attribute names follow OpenTelemetry's semantic conventions for messaging.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import Token
from typing import cast

from opentelemetry import context, propagate, trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import Span, SpanKind, Tracer
from strm.kernel.spi import Headers, Message

Carrier = Sequence[tuple[str, bytes]]


class _HeadersGetter(Getter[Carrier]):
    """Reads a trace context from a record's headers (a sequence of ``(name, bytes)``)."""

    def get(self, carrier: Carrier, key: str) -> list[str] | None:
        found = [value.decode("latin-1") for name, value in carrier if name == key]
        return found or None

    def keys(self, carrier: Carrier) -> list[str]:
        return [name for name, _ in carrier]


_GETTER = _HeadersGetter()


class OtelEventTracer:
    """The :class:`strm.kernel.tracing.EventTracer` of the OpenTelemetry sensor."""

    def __init__(self, tracer: Tracer, *, system: str, group: str) -> None:
        self.tracer = tracer
        self.system = system
        self.group = group

    def event_in(self, message: Message) -> object:
        parent = propagate.extract(message.headers, getter=_GETTER)
        span = self.tracer.start_span(
            f"process {message.topic}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": self.system,
                "messaging.operation.type": "process",
                "messaging.operation.name": "process",
                "messaging.destination.name": message.topic,
                "messaging.destination.partition.id": str(message.partition),
                "messaging.kafka.offset": message.offset,
                "messaging.consumer.group.name": self.group,
            },
        )
        token = context.attach(trace.set_span_in_context(span))
        return span, token

    def event_out(self, token: object) -> None:
        span, attached = cast("tuple[Span, Token[Context]]", token)
        span.end()
        context.detach(attached)

    def headers_out(self, topic: str, headers: Headers) -> Headers:
        span = self.tracer.start_span(
            f"send {topic}",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": self.system,
                "messaging.operation.type": "send",
                "messaging.operation.name": "send",
                "messaging.destination.name": topic,
            },
        )
        carrier: dict[str, str] = {}
        try:
            propagate.inject(carrier, context=trace.set_span_in_context(span))
        finally:
            span.end()
        # A forwarded record may carry its source's context: the new one replaces it.
        kept = [(name, value) for name, value in headers if name not in carrier]
        return [*kept, *((name, value.encode("latin-1")) for name, value in carrier.items())]
