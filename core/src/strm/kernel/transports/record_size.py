"""How many bytes a record counts for against ``producer_max_request_size``.

The memory transport refuses what Kafka's producer would refuse, and a dead letter too large to
send is cut to what fits; both count the way aiokafka does before it sends
(``DefaultRecordBatchBuilder.estimate_size_in_bytes``): the header of a record batch, the most a
record adds to it, and the key, the value and each header with its varint length.
"""

from __future__ import annotations

from strm.kernel.spi import Headers

#: A record batch's header (format v2) plus the most one record adds besides its fields.
BATCH_OVERHEAD = 61 + 21


def record_size(key: bytes | None, value: bytes | None, headers: Headers) -> int:
    """The size a producer checks against its limit (an upper bound of the bytes sent)."""
    size = BATCH_OVERHEAD + _field(key) + _field(value) + _varint_size(len(headers))
    for name, data in headers:
        size += _field(name.encode()) + _field(data)
    return size


def within(limit: int, key: bytes | None, value: bytes | None, headers: Headers) -> bool:
    """Whether the record is surely within ``limit``, from an upper bound that costs a few
    additions (every varint at its longest, every header name at four bytes a character);
    :func:`record_size` decides only for records near the limit. A producer checks every
    record it sends, so this is on the path of each forwarded event."""
    size = BATCH_OVERHEAD + 15 + (0 if key is None else len(key))
    size += 0 if value is None else len(value)
    for name, data in headers:
        size += 10 + 4 * len(name) + len(data)
    return size <= limit


def value_room(limit: int, key: bytes | None, headers: Headers) -> int:
    """The longest value a record with this key and these headers may have within ``limit``
    bytes; negative when not even an empty value fits."""
    without_value = record_size(key, b"", headers) - _field(b"")
    room = limit - without_value - 1
    while room > 0 and without_value + _varint_size(room) + room > limit:
        room -= 1
    return room


def _field(data: bytes | None) -> int:
    return 1 if data is None else _varint_size(len(data)) + len(data)


def _varint_size(length: int) -> int:
    """Bytes of a length as Kafka writes it: a zigzag varint, 7 bits a byte."""
    zigzag = length << 1
    size = 1
    while zigzag > 0x7F:
        zigzag >>= 7
        size += 1
    return size
