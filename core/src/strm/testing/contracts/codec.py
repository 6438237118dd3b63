"""The contract every codec meets: :class:`strm.kernel.spi.Codec`.

:class:`CodecContract` asks for a ``codec`` fixture and a ``samples`` fixture: values the codec
claims to handle, each of which must come back equal after a round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from strm.codecs.builtin import BinaryCodec
from strm.codecs.registry import ComposedCodec
from strm.kernel.spi import Codec


class CodecContract:
    """Behaviour every :class:`strm.kernel.spi.Codec` must have."""

    @pytest.fixture
    def codec(self) -> Codec:
        raise NotImplementedError(
            "subclass CodecContract and define a 'codec' fixture returning the codec"
        )

    @pytest.fixture
    def samples(self) -> Sequence[Any]:
        raise NotImplementedError(
            "subclass CodecContract and define a 'samples' fixture: values that must survive "
            "dumps() and loads()"
        )

    def test_implements_the_codec_protocol(self, codec: Codec) -> None:
        assert isinstance(codec, Codec)

    def test_there_are_samples(self, samples: Sequence[Any]) -> None:
        assert len(samples) > 0, "the 'samples' fixture gave no values to test with"

    def test_dumps_returns_bytes(self, codec: Codec, samples: Sequence[Any]) -> None:
        for sample in samples:
            data = codec.dumps(sample)
            assert type(data) is bytes, f"dumps({sample!r}) returned {type(data).__name__}"

    def test_round_trip(self, codec: Codec, samples: Sequence[Any]) -> None:
        for sample in samples:
            decoded = codec.loads(codec.dumps(sample))
            assert decoded == sample, f"{sample!r} came back as {decoded!r}"
            assert type(decoded) is type(sample), (
                f"{sample!r} came back as a {type(decoded).__name__}"
            )

    def test_dumps_is_deterministic(self, codec: Codec, samples: Sequence[Any]) -> None:
        # Keys are compared and partitioned by their bytes: equal keys must encode the same.
        for sample in samples:
            assert codec.dumps(sample) == codec.dumps(sample), sample

    def test_composes_with_other_codecs(self, codec: Codec, samples: Sequence[Any]) -> None:
        composed = ComposedCodec([codec, BinaryCodec()])
        for sample in samples:
            assert composed.loads(composed.dumps(sample)) == sample
