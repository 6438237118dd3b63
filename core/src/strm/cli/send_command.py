"""``strm send``: produce records to a topic or to an agent's channel from the command line.

Faust's ``faust send``, with its options. The key and value are given as the bytes a producer
would write (JSON for a record, with the default codecs). When the target's type is known — a
``--key-type``/``--value-type`` model, or the type the app declared the topic or agent's channel
with — the text is decoded with that type's codec first, exactly as a worker would decode it, so
that a value the readers could not decode is refused here (one line, exit code 2) rather than
dead-lettered there. An untyped target receives the text as it is.

Each record's metadata (topic, partition, offset, timestamp) is printed as one JSON object per
line on stdout; with ``--repeat`` a progress line (rate, ETA) is shown on stderr. A topic that
does not exist yet is created first, as a worker would create it (``topic_allow_declare``), so
that it has the app's partition count rather than the broker's default.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections import deque
from collections.abc import Awaitable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from strm.channels import Channel, Topic
from strm.cli.context import current_app
from strm.cli.model_names import find_model
from strm.cli.progress_line import ProgressLine
from strm.kernel.errors import CodecError, StrmError
from strm.kernel.spi import RecordMetadata
from strm.kernel.suggestions import did_you_mean
from strm.schema import Schema

if TYPE_CHECKING:
    from strm.app import App

#: Records in flight at once with ``--repeat``: enough to keep a broker busy, few enough that
#: the metadata lines keep pace with the progress line.
WINDOW = 1000


@click.command("send", help="Send a record to a topic, or to an agent's channel (@agent).")
@click.argument("entity")
@click.argument("value", required=False)
@click.option("-k", "--key", help="The key, as a producer writes it (JSON for a model).")
@click.option("-K", "--key-type", help="Model to decode the key as (see 'strm models').")
@click.option("--key-serializer", help="Codec of the key (default: the target's).")
@click.option("-V", "--value-type", help="Model to decode the value as (see 'strm models').")
@click.option("--value-serializer", help="Codec of the value (default: the target's).")
@click.option("--partition", type=click.IntRange(min=0), help="Send to this partition.")
@click.option(
    "-r",
    "--repeat",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Send the record this many times.",
)
@click.option(
    "--min-latency",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Least seconds to wait between two sends (with --max-latency).",
)
@click.option(
    "--max-latency",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Most seconds to wait between two sends; 0 sends at once.",
)
def send_command(
    entity: str,
    value: str | None,
    key: str | None,
    key_type: str | None,
    key_serializer: str | None,
    value_type: str | None,
    value_serializer: str | None,
    partition: int | None,
    repeat: int,
    min_latency: float,
    max_latency: float,
) -> None:
    if min_latency > max_latency > 0:
        raise click.BadParameter("--min-latency is above --max-latency", param_hint="latency")
    app = current_app().configure()
    channel = target(app, entity)
    schema = channel.schema
    key_obj, key_codec = _convert(
        app, "key", key, schema.key_type, key_type, key_serializer, schema.key_serializer
    )
    value_obj, value_codec = _convert(
        app,
        "value",
        value,
        schema.value_type,
        value_type,
        value_serializer,
        schema.value_serializer,
    )
    click.echo(f"k={key_obj!r} v={value_obj!r} -> {channel.label}", err=True)
    record = _Record(channel, key_obj, value_obj, key_codec, value_codec, partition)
    asyncio.run(_send(app, record, repeat, min_latency, max_latency))


def target(app: App, entity: str) -> Channel:
    """The topic ``entity`` names (the app's own declaration if it has one, with its types), or
    with ``@``, the channel of the agent it names (``@count`` or ``@proj.count``)."""
    if not entity or entity == "@":
        raise StrmError("send: name a topic, or an agent as @name")
    if not entity.startswith("@"):
        declared = app._topics_by_name.get(entity)
        return declared if declared is not None else app.topic(entity)
    name = entity[1:]
    agents = app.agents
    found = agents.get(name)
    if found is None:
        short = [a for n, a in agents.items() if n.rsplit(".", 1)[-1] == name]
        found = short[0] if len(short) == 1 else None
    if found is None:
        names = [*agents, *(n.rsplit(".", 1)[-1] for n in agents)]
        hint = did_you_mean(name, names, show=lambda n: repr(f"@{n}"))
        listing = ", ".join(f"@{n}" for n in agents) or "none"
        raise StrmError(f"send: no agent {entity!r}{hint or f'; agents: {listing}'}")
    return found.channel


def _convert(
    app: App,
    side: str,
    text: str | None,
    declared: Any,
    model_name: str | None,
    codec: str | None,
    declared_codec: Any,
) -> tuple[Any, Any]:
    """The object to send and the codec to send it with (``None``: the target's own)."""
    if text is None:
        return None, None
    data = text.encode()
    tp = find_model(app, model_name, option=f"--{side}-type") if model_name else declared
    if tp is None:  # an untyped target: the text is the payload, as it is
        return data, codec or "raw"
    schema_codec = codec if codec is not None else declared_codec
    schema = (
        Schema(key_type=tp, key_serializer=schema_codec)
        if side == "key"
        else Schema(value_type=tp, value_serializer=schema_codec)
    )
    loads = schema.loads_key if side == "key" else schema.loads_value
    try:
        obj = loads(app.serializers, data)
    except CodecError as exc:
        shown = text if len(text) <= 60 else f"{text[:57]}..."
        raise StrmError(
            f"send: the {side} {shown!r} does not fit {_type_name(tp)}: {_cause(exc)}"
        ) from exc
    # Sent back through the same schema, so --key-type/--value-type apply on the way out too.
    return obj, (codec if model_name is None else schema_codec)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__qualname__", None) or repr(tp)


def _cause(exc: BaseException) -> str:
    """The innermost message: a model's validation error rather than the wrapping one."""
    while exc.__cause__ is not None and isinstance(exc, CodecError):
        exc = exc.__cause__
    message = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, StrmError):  # strm's own messages name what was wrong
        return message or type(exc).__name__
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class _Record:
    def __init__(
        self,
        channel: Channel,
        key: Any,
        value: Any,
        key_codec: Any,
        value_codec: Any,
        partition: int | None,
    ) -> None:
        self.channel = channel
        self.key = key
        self.value = value
        self.key_codec = key_codec
        self.value_codec = value_codec
        self.partition = partition

    async def send(self) -> Awaitable[RecordMetadata]:
        options: dict[str, Any] = {}
        if self.partition is not None:
            options["partition"] = self.partition
        if isinstance(self.channel, Topic):
            options["key_serializer"] = self.key_codec
            options["value_serializer"] = self.value_codec
        return await self.channel.send(key=self.key, value=self.value, **options)


async def _send(
    app: App, record: _Record, repeat: int, min_latency: float, max_latency: float
) -> None:
    progress = ProgressLine(sys.stderr, "strm send: ", repeat, noun="records")
    pending: deque[Awaitable[RecordMetadata]] = deque()
    done = 0

    async def settle(keep: int) -> None:
        nonlocal done
        while len(pending) > keep:
            metadata = await pending.popleft()
            click.echo(json.dumps(asdict(metadata)))
            done += 1
            if repeat > 1:
                progress.update(done)

    try:
        if isinstance(record.channel, Topic):  # as a worker would: the app's partition count
            await record.channel.maybe_declare()
        for i in range(repeat):
            try:
                pending.append(await record.send())
            except CodecError as exc:
                raise StrmError(f"send: {exc}") from exc
            await settle(WINDOW)
            if max_latency and i + 1 < repeat:
                await settle(0)
                await asyncio.sleep(random.uniform(min_latency, max_latency))
        await settle(0)
    finally:
        await app.producers.stop()
    if repeat > 1:
        seconds = progress.seconds
        progress.finish(
            f"sent {done:,} records to {record.channel.label} in {seconds:.2f} s "
            f"({done / max(seconds, 1e-9):,.0f} records/s)"
        )
