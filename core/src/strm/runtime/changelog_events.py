"""``on_changelog_event``: tables' callbacks for the changelog records they replay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from strm.events import Event
from strm.kernel.spi import Message

if TYPE_CHECKING:
    from strm.tables.table import Collection


async def notify_changelog_events(table: Collection, messages: Sequence[Message]) -> None:
    """``on_changelog_event`` for each replayed record, decoded, in order."""
    callback = table.on_changelog_event
    assert callback is not None
    for message in messages:
        key = table.loads_key(message.key) if message.key is not None else None
        value = table.loads_value(message.value) if message.value is not None else None
        await callback(Event(table.app, key, value, message, None))
