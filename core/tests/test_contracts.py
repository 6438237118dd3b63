"""The contract suites run against the built-in backends and codecs, and shown to catch bugs."""

from __future__ import annotations

import datetime
import json
import pickle
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_cache import MemoryCache
from strm.builtins.memory_store import MemoryStore
from strm.codecs.builtin import JsonCodec, RawCodec
from strm.kernel.spi import TP, Cache, Codec, Store
from strm.testing.contexts import backend_factory, store_context
from strm.testing.contracts import (
    CacheContract,
    CodecContract,
    FakeClock,
    PersistentStoreContract,
    StoreContract,
)

# -- the memory store and cache, as the plugin registry provides them -----------------------------


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        factory = backend_factory("store", "memory://")
        store: Store = factory(url="memory://", context=store_context(datadir=tmp_path))
        yield store
        store.close()


class TestMemoryCacheWithFakeClock(CacheContract):
    @pytest.fixture
    def cache(self, clock: FakeClock) -> Cache:
        return MemoryCache(clock=clock)


class TestMemoryCacheInRealTime(CacheContract):
    expiry_timeout = 0.05

    @pytest.fixture
    def cache(self, strm_app: App) -> Cache:
        return strm_app.cache


class FileStore(MemoryStore):
    """The memory store, loaded from a pickle file when opened and written to it when closed:
    enough to exercise the persistent contract before a real persistent backend exists."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        if path.exists():
            self._data, self._offsets = pickle.loads(path.read_bytes())

    def close(self) -> None:
        self.path.write_bytes(pickle.dumps((self._data, self._offsets)))


class TestPersistentContractOnAFileStore(PersistentStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return FileStore(tmp_path / "store.pickle")

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[Store], Store]:
        def reopen(store: Store) -> Store:
            store.close()
            return FileStore(tmp_path / "store.pickle")

        return reopen


# -- every built-in codec, as the registry names it ----------------------------------------------

BYTES_SAMPLES: list[Any] = [b"", b"abc", bytes(range(256)), b"\x00" * 1000]
JSON_SAMPLES: list[Any] = [
    None,
    True,
    0,
    -(2**63),
    1.5,
    "",
    "ünïcødé \u2603",
    [],
    [1, "two", None],
    {},
    {"nested": {"list": [1, {"deep": False}]}, "": 0},
]


class BuiltinCodec(CodecContract):
    name: str

    @pytest.fixture
    def codec(self, strm_app: App) -> Codec:
        return strm_app.serializers.codec(self.name)


class TestRawCodec(BuiltinCodec):
    name = "raw"

    @pytest.fixture
    def samples(self) -> Sequence[Any]:
        return BYTES_SAMPLES


class TestBinaryCodec(BuiltinCodec):
    name = "binary"

    @pytest.fixture
    def samples(self) -> Sequence[Any]:
        return BYTES_SAMPLES


class TestJsonCodec(BuiltinCodec):
    name = "json"

    @pytest.fixture
    def samples(self) -> Sequence[Any]:
        return JSON_SAMPLES


class TestPickleCodec(BuiltinCodec):
    name = "pickle"

    @pytest.fixture
    def samples(self) -> Sequence[Any]:
        return [
            *JSON_SAMPLES,
            *BYTES_SAMPLES,
            (1, "tuple"),
            frozenset({1, 2}),
            {3, 4},
            datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC),
            {(1, 2): b"tuple keys"},
        ]


class TestComposedJsonBinaryCodec(BuiltinCodec):
    name = "json|binary"

    @pytest.fixture
    def samples(self) -> Sequence[Any]:
        return JSON_SAMPLES


# -- the suites fail for backends that break the contract -----------------------------------------


class ForgetfulStore(MemoryStore):
    def delete(self, key: bytes) -> None:
        """Ignores deletes."""


class BatchDeleteIgnoringStore(MemoryStore):
    def write_batch(self, puts: dict[bytes, bytes | None]) -> None:
        super().write_batch({k: v for k, v in puts.items() if v is not None})


class OffsetKeepingStore(MemoryStore):
    def clear(self) -> None:
        self._data.clear()


class SharedOffsetStore(MemoryStore):
    """Keeps one offset per topic instead of one per partition."""

    def applied_offset(self, tp: TP) -> int | None:
        return super().applied_offset(TP(tp.topic, 0))

    def set_applied_offset(self, tp: TP, offset: int) -> None:
        super().set_applied_offset(TP(tp.topic, 0), offset)


class EmptyIsMissingStore(MemoryStore):
    def get(self, key: bytes) -> bytes | None:
        return super().get(key) or None


class AmnesicStore(MemoryStore):
    """Loses everything when reopened."""


@pytest.mark.parametrize(
    ("broken", "test_name"),
    [
        (ForgetfulStore, "test_delete_removes_the_key"),
        (BatchDeleteIgnoringStore, "test_write_batch_sets_and_deletes"),
        (OffsetKeepingStore, "test_clear_forgets_applied_offsets"),
        (SharedOffsetStore, "test_applied_offsets_are_independent_per_topic_partition"),
        (EmptyIsMissingStore, "test_empty_value_is_a_value_not_a_missing_key"),
    ],
)
def test_store_contract_catches_a_broken_store(broken: Callable[[], Store], test_name: str) -> None:
    with pytest.raises(AssertionError):
        getattr(StoreContract(), test_name)(broken())


def test_persistent_contract_catches_a_store_that_forgets() -> None:
    def reopen(store: Store) -> Store:
        store.close()
        return AmnesicStore()

    store = AmnesicStore()
    with pytest.raises(AssertionError):
        PersistentStoreContract().test_data_survives_a_reopen(store, reopen)


class NeverExpiringCache(MemoryCache):
    async def set(self, key: str, value: bytes, timeout: float | None = None) -> None:
        await super().set(key, value)


class ShortCacheContract(CacheContract):
    expiry_timeout = 0.01
    expiry_grace = 0.05


async def test_cache_contract_catches_a_cache_that_never_expires() -> None:
    clock = FakeClock()
    with pytest.raises(AssertionError, match="still there"):
        await ShortCacheContract().test_a_value_is_there_until_its_timeout(
            NeverExpiringCache(clock=clock), clock
        )


class TextCodec(RawCodec):
    def dumps(self, obj: Any) -> bytes:
        return obj  # type: ignore[no-any-return]


def test_codec_contract_catches_a_lossy_codec() -> None:
    # JSON has no tuples: (1, 2) comes back as [1, 2].
    with pytest.raises(AssertionError, match="came back as"):
        CodecContract().test_round_trip(JsonCodec(), [(1, 2)])


def test_codec_contract_catches_dumps_returning_text() -> None:
    with pytest.raises(AssertionError, match="returned str"):
        CodecContract().test_dumps_returns_bytes(TextCodec(), ["text"])


def test_codec_contract_catches_a_non_deterministic_codec() -> None:
    class Counting(RawCodec):
        calls = 0

        def dumps(self, obj: Any) -> bytes:
            self.calls += 1
            return json.dumps([obj, self.calls]).encode()

    with pytest.raises(AssertionError):
        CodecContract().test_dumps_is_deterministic(Counting(), ["x"])
