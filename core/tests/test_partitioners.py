"""The producer partitioners: Kafka's murmur2 bit for bit, and where keyless records go."""

from __future__ import annotations

import random

import pytest
from strm.app import App
from strm.builtins.partitioners import murmur2, murmur2_partitioner, random_partitioner


def _int32(value: int) -> int:
    """Wrap to a signed 32-bit int, as Java's int arithmetic does."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _unsigned_shift(value: int, bits: int) -> int:
    """Java's ``>>>``."""
    return (value & 0xFFFFFFFF) >> bits


def java_murmur2(data: bytes) -> int:
    """``org.apache.kafka.common.utils.Utils.murmur2``, transcribed statement by statement with
    Java's signed int wrap-around: an independent reference for the implementation under test."""
    length = len(data)
    seed = _int32(0x9747B28C)
    m = 0x5BD1E995
    r = 24
    h = _int32(seed ^ length)
    for i in range(length // 4):
        i4 = i * 4
        k = _int32(
            (data[i4 + 0] & 0xFF)
            + ((data[i4 + 1] & 0xFF) << 8)
            + ((data[i4 + 2] & 0xFF) << 16)
            + ((data[i4 + 3] & 0xFF) << 24)
        )
        k = _int32(k * m)
        k = _int32(k ^ _unsigned_shift(k, r))
        k = _int32(k * m)
        h = _int32(h * m)
        h = _int32(h ^ k)
    rest = length % 4
    base = length & ~3
    # Java's switch falls through from case 3 to case 1.
    if rest == 3:
        h = _int32(h ^ ((data[base + 2] & 0xFF) << 16))
    if rest >= 2:
        h = _int32(h ^ ((data[base + 1] & 0xFF) << 8))
    if rest >= 1:
        h = _int32(h ^ (data[base] & 0xFF))
        h = _int32(h * m)
    h = _int32(h ^ _unsigned_shift(h, 13))
    h = _int32(h * m)
    h = _int32(h ^ _unsigned_shift(h, 15))
    return h


# Raw hashes as unsigned 32-bit values, from librdkafka's rdmurmur2 unit test (and aiokafka).
KNOWN_HASHES = [
    (b"", 0x106E08D9),
    (b"kafka", 0xD067CF64),
    (b"giberish123456789", 0x8F552B0C),
    (b"1234", 0x9FC97B14),
]

# Partitions out of 1000 that Kafka's Java DefaultPartitioner picks (kafka-python's
# Java-compatibility test), all four tail lengths and a NUL byte among them.
KNOWN_PARTITIONS_OF_1000 = [
    (b"", 681),
    (b"a", 524),
    (b"ab", 434),
    (b"abc", 107),
    (b"123456789", 566),
    (b"\x00 ", 742),
]


@pytest.mark.parametrize(("key", "expected"), KNOWN_HASHES)
def test_murmur2_matches_known_hashes(key: bytes, expected: int) -> None:
    assert murmur2(key) & 0xFFFFFFFF == expected
    assert murmur2(key) == _int32(expected), "murmur2 returns Java's signed int"


def test_murmur2_of_the_empty_key() -> None:
    assert murmur2(b"") == 275646681


@pytest.mark.parametrize(("key", "expected"), KNOWN_PARTITIONS_OF_1000)
def test_keyed_partition_matches_the_java_client(key: bytes, expected: int) -> None:
    partitions = list(range(1000))
    assert murmur2_partitioner(key, partitions, partitions) == expected


def test_murmur2_matches_the_reference_transcription_on_random_keys() -> None:
    rng = random.Random(20240601)
    keys = [rng.randbytes(rng.randrange(0, 40)) for _ in range(2000)]
    keys += [bytes([b]) * n for b in (0, 0x7F, 0x80, 0xFF) for n in range(9)]
    for key in keys:
        assert murmur2(key) == java_murmur2(key), key


def test_the_reference_transcription_agrees_with_the_known_hashes() -> None:
    for key, expected in KNOWN_HASHES:
        assert java_murmur2(key) & 0xFFFFFFFF == expected


def test_a_key_keeps_its_partition_when_that_partition_is_unavailable() -> None:
    partitions = list(range(1000))
    available = [p for p in partitions if p != 524]
    assert murmur2_partitioner(b"a", partitions, available) == 524


def test_the_sign_bit_is_cleared_not_negated() -> None:
    # murmur2(b"a") is negative in Java; toPositive masks it (abs() would give another value).
    assert murmur2(b"a") < 0
    partitions = list(range(7))
    expected = (murmur2(b"a") & 0x7FFFFFFF) % 7
    assert expected != abs(murmur2(b"a")) % 7
    assert murmur2_partitioner(b"a", partitions, partitions) == expected


def test_the_partition_id_comes_from_all_partitions_in_order() -> None:
    ids = [10, 11, 12]
    assert murmur2_partitioner(b"abc", ids, ids) == ids[(murmur2(b"abc") & 0x7FFFFFFF) % 3]


def test_a_keyless_record_goes_to_a_random_available_partition() -> None:
    chosen = {murmur2_partitioner(None, [0, 1, 2, 3], [1, 3]) for _ in range(300)}
    assert chosen == {1, 3}


def test_a_keyless_record_goes_anywhere_when_none_is_available() -> None:
    chosen = {murmur2_partitioner(None, [0, 1, 2], []) for _ in range(300)}
    assert chosen == {0, 1, 2}


def test_the_random_partitioner_ignores_the_key() -> None:
    chosen = {random_partitioner(b"same key", [0, 1, 2, 3], [0, 2]) for _ in range(300)}
    assert chosen == {0, 2}
    assert {random_partitioner(b"k", [0, 1], []) for _ in range(300)} == {0, 1}


@pytest.mark.parametrize("partitioner", [murmur2_partitioner, random_partitioner])
def test_a_topic_without_partitions_is_an_error(partitioner: object) -> None:
    with pytest.raises(ValueError, match="no partitions"):
        partitioner(b"k", [], [])  # type: ignore[operator]


def test_the_partitioners_are_registered(strm_app: App) -> None:
    provisions = strm_app.plugins.provisions("partitioner")
    assert provisions["murmur2"].factory is murmur2_partitioner
    assert provisions["random"].factory is random_partitioner
    assert provisions["murmur2"].distribution == "strm"
