"""Contract test suites that a backend plugin runs against itself.

Each suite is a class of pytest tests; subclass it in your plugin's tests and give it the fixture
it asks for::

    import pytest
    from strm.testing.contexts import store_context
    from strm.testing.contracts import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            store = MyStore(url="mystore://", context=store_context(datadir=tmp_path))
            yield store
            store.close()

The suites are named ``*Contract`` so that pytest collects them only through your ``Test*``
subclass. :class:`CacheContract` has ``async`` tests and needs ``pytest-asyncio``.
"""

from strm.testing.contracts.cache import (
    CacheContract,
    CacheOutage,
    CacheOutageContract,
    FakeClock,
)
from strm.testing.contracts.codec import CodecContract
from strm.testing.contracts.store import (
    PersistentStoreContract,
    StoreContract,
    StoreFilesContract,
)
from strm.testing.contracts.transport import TransportContract

__all__ = [
    "CacheContract",
    "CacheOutage",
    "CacheOutageContract",
    "CodecContract",
    "FakeClock",
    "PersistentStoreContract",
    "StoreContract",
    "StoreFilesContract",
    "TransportContract",
]
