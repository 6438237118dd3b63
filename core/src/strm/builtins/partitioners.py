"""Producer partitioners: which partition a keyed record goes to.

``murmur2`` is Kafka's default, bit for bit, so strm and a Java, librdkafka or aiokafka producer
put a key in the same partition and co-partitioned topics stay joinable across clients.
A partitioner is a function ``(key, all_partitions, available) -> partition``: ``all_partitions``
are the topic's partition ids in order, ``available`` those with a leader right now.
"""

from __future__ import annotations

import functools
import random as _random
import struct
from collections.abc import Sequence

from strm.kernel import records
from strm.kernel.hookspecs import hookimpl
from strm.kernel.records import Provision

_WORDS = struct.Struct("<I")
_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's ``Utils.murmur2``: the 32-bit MurmurHash2 with Kafka's seed, as a signed Java int.

    Java wraps every multiplication at 32 bits and shifts with ``>>>``; here values are kept
    unsigned by masking and converted to a signed int at the end.
    """
    length = len(data)
    h = (_SEED ^ length) & _MASK
    tail = length & ~3
    for (k,) in _WORDS.iter_unpack(data[:tail]):
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    left = length & 3
    if left:
        if left == 3:
            h ^= data[tail + 2] << 16
        if left >= 2:
            h ^= data[tail + 1] << 8
        h ^= data[tail]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


@functools.lru_cache(maxsize=65_536)
def _key_hash(key: bytes) -> int:
    """``toPositive(murmur2(key))``, remembered: keys repeat (words, user ids) and hashing
    in Python costs microseconds."""
    return _to_positive(murmur2(key))


def _to_positive(number: int) -> int:
    """Kafka's ``Utils.toPositive``: clear the sign bit (not ``abs``, which differs)."""
    return number & 0x7FFFFFFF


def _check(all_partitions: Sequence[int]) -> None:
    if not all_partitions:
        raise ValueError("cannot choose a partition: the topic has no partitions")


def murmur2_partitioner(
    key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]
) -> int:
    """Kafka's default: a keyed record goes to ``toPositive(murmur2(key)) % len(all)`` (even
    when that partition is unavailable, so a key never moves); one without a key goes to a random
    available partition, or any when none is available."""
    _check(all_partitions)
    if key is None:
        return _random.choice(available or all_partitions)
    return all_partitions[_key_hash(key) % len(all_partitions)]


def random_partitioner(
    key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]
) -> int:
    """A random available partition (any when none is available), whatever the key."""
    _check(all_partitions)
    return _random.choice(available or all_partitions)


@hookimpl
def strm_producer_partitioners() -> list[Provision]:
    return [
        records.partitioner(
            "murmur2",
            murmur2_partitioner,
            description="Kafka's default: murmur2 of the key; random without a key",
        ),
        records.partitioner(
            "random", random_partitioner, description="a random available partition"
        ),
    ]


__all__ = ["murmur2", "murmur2_partitioner", "random_partitioner"]
