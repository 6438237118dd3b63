"""The ``reverse`` codec against the kernel's codec contract."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from strm.kernel.spi import Codec
from strm.testing.contracts import CodecContract
from strm_example_dictstore import ReverseCodec


class TestReverseCodecContract(CodecContract):
    @pytest.fixture
    def codec(self) -> Codec:
        return ReverseCodec()

    @pytest.fixture
    def samples(self) -> Sequence[object]:
        return [b"", b"abc", bytes(range(256)), b"\x00\xff" * 1000]


def test_it_reverses_the_bytes() -> None:
    assert ReverseCodec().dumps(b"abc") == b"cba"
    assert ReverseCodec().dumps("abc") == b"cba"
    assert ReverseCodec().loads(b"cba") == b"abc"


def test_it_refuses_what_is_not_bytes_or_text() -> None:
    with pytest.raises(TypeError, match="bytes or str, not int"):
        ReverseCodec().dumps(3)
