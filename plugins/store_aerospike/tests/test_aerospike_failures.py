"""Failed client calls: retries with their wait, StoreError after them, the app crashed or not,
and the order of writes that keeps the applied offsets honest. Failures are injected into the
double; the waits are recorded instead of slept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aerospike import exception as ex
from strm.app import App
from strm.kernel.errors import StoreError
from strm.kernel.spi import TP
from strm_store_aerospike import AerospikeStore
from strm_store_aerospike import store as store_module
from strm_store_aerospike.testing import FakeAerospike

OpenStore = Callable[..., AerospikeStore]
TP0 = TP("t-changelog", 0)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between attempts, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(store_module, "sleep", recorded.append)
    return recorded


def app_with(
    make_app: Callable[..., App], *, retries: int, crash: bool, sleep: float = 0.25
) -> App:
    return make_app(
        aerospike_retries_on_exception=retries,
        aerospike_sleep_seconds_between_retries_on_exception=sleep,
        crash_app_on_aerospike_exception=crash,
    )


def test_a_failed_call_is_retried_after_the_configured_wait(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike, waits: list[float]
) -> None:
    app = app_with(make_app, retries=3, crash=True)
    store = open_store(app=app)
    fake.fail_next(2, methods=["put"])
    store.set(b"k", b"v")
    assert waits == [0.25, 0.25]
    assert [(c.method, c.failed) for c in fake.calls if c.method == "put"] == [
        ("put", True),
        ("put", True),
        ("put", False),
    ]
    assert store.get(b"k") == b"v"
    assert app.crash_error is None


@pytest.mark.parametrize(
    ("action", "method"),
    [
        pytest.param(lambda s: s.get(b"k"), "exists", id="get"),
        pytest.param(lambda s: s.contains(b"k"), "exists", id="contains"),
        pytest.param(lambda s: s.set(b"k", b"v"), "put", id="set"),
        pytest.param(lambda s: s.delete(b"k"), "remove", id="delete"),
        pytest.param(lambda s: list(s.items()), "query", id="items"),
        pytest.param(lambda s: s.size(), "query", id="size"),
        pytest.param(lambda s: s.clear(), "remove", id="clear"),
        pytest.param(lambda s: s.write_batch({b"k": b"v"}), "put", id="write_batch"),
        pytest.param(lambda s: s.applied_offset(TP0), "get", id="applied_offset"),
        pytest.param(lambda s: s.set_applied_offset(TP0, 1), "operate", id="set_applied_offset"),
    ],
)
def test_every_operation_is_retried(
    make_app: Callable[..., App],
    open_store: OpenStore,
    fake: FakeAerospike,
    waits: list[float],
    action: Callable[[AerospikeStore], Any],
    method: str,
) -> None:
    store = open_store(app=app_with(make_app, retries=1, crash=True))
    fake.fail_next(1, methods=[method])
    action(store)
    assert waits == [0.25]
    assert fake.count(method) >= 2


def test_after_the_retries_the_app_crashes_and_the_caller_gets_a_store_error(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike, waits: list[float]
) -> None:
    app = app_with(make_app, retries=2, crash=True)
    store = open_store("counts", 4, app=app)
    fake.fail_next(3, methods=["put"])
    with pytest.raises(StoreError) as info:
        store.set(b"k", b"v")
    error = info.value
    message = str(error)
    assert "table 'counts' partition 4" in message
    assert "aerospike put" in message
    assert "after 3 attempts" in message
    assert "TimeoutError (code 9)" in message
    assert "set 'counts-4'" in message
    assert isinstance(error.__cause__, ex.TimeoutError)
    assert waits == [0.25, 0.25]
    assert app.crash_error is error


def test_without_crashing_the_caller_handles_the_error_and_the_app_runs_on(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike, waits: list[float]
) -> None:
    app = app_with(make_app, retries=1, crash=False)
    store = open_store(app=app)
    fake.fail_next(5, ex.ConnectionError, methods=["put"])
    with pytest.raises(StoreError, match=r"after 2 attempts: ConnectionError \(code -10\)"):
        store.set(b"k", b"v")
    assert app.crash_error is None
    fake.heal()
    store.set(b"k", b"v")
    assert store.get(b"k") == b"v"


def test_no_retries_means_one_attempt_and_no_wait(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike, waits: list[float]
) -> None:
    store = open_store(app=app_with(make_app, retries=0, crash=False))
    fake.fail_next(1, methods=["get"])
    with pytest.raises(StoreError, match="after 1 attempt:"):
        store.applied_offset(TP0)
    assert waits == []


@pytest.mark.parametrize("error", [ex.ParamError, ex.NamespaceNotFound, ex.BinNameError])
def test_a_request_that_cannot_succeed_is_not_retried(
    make_app: Callable[..., App],
    open_store: OpenStore,
    fake: FakeAerospike,
    waits: list[float],
    error: type[ex.AerospikeError],
) -> None:
    app = app_with(make_app, retries=5, crash=True)
    store = open_store(app=app)
    fake.fail_next(1, error, methods=["put"])
    with pytest.raises(StoreError, match="after 1 attempt"):
        store.set(b"k", b"v")
    assert waits == []
    assert fake.count("put") == 1
    assert app.crash_error is not None


def test_a_value_too_big_for_a_record_fails_at_once(
    make_app: Callable[..., App], waits: list[float], open_store: OpenStore
) -> None:
    small = FakeAerospike(max_record_size=1000)
    store = open_store(app=app_with(make_app, retries=5, crash=False), client_factory=small)
    with pytest.raises(StoreError, match="RecordTooBig"):
        store.set(b"k", b"x" * 2000)
    assert waits == []
    assert store.get(b"k") is None


def test_a_missing_record_is_not_a_failure(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike, waits: list[float]
) -> None:
    app = make_app(
        store_check_exists=False,
        aerospike_retries_on_exception=5,
        crash_app_on_aerospike_exception=True,
    )
    store = open_store(app=app)
    store.delete(b"never")
    assert store.get(b"never") is None
    assert store.applied_offset(TP0) is None
    assert waits == []
    assert app.crash_error is None


def test_an_error_that_is_not_aerospikes_is_a_bug_and_passes_through(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike, waits: list[float]
) -> None:
    app = app_with(make_app, retries=5, crash=True)
    store = open_store(app=app)
    fake.fail_next(1, RuntimeError("bug"), methods=["put"])
    with pytest.raises(RuntimeError, match="bug"):
        store.set(b"k", b"v")
    assert waits == []
    assert app.crash_error is None


# -- connecting ----------------------------------------------------------------------------------


def test_connecting_is_retried(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike, waits: list[float]
) -> None:
    fake.fail_next(2, ex.ConnectionError, methods=["connect"])
    store = open_store(app=app_with(make_app, retries=2, crash=True))
    store.set(b"k", b"v")
    assert waits == [0.25, 0.25]
    assert len(fake.clients) == 1


def test_a_cluster_that_cannot_be_reached_fails_the_store_and_crashes_the_app(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike, waits: list[float]
) -> None:
    app = app_with(make_app, retries=1, crash=True)
    fake.fail_next(2, ex.ConnectionError, methods=["connect"])
    with pytest.raises(StoreError, match=r"aerospike connect .* failed after 2 attempts"):
        open_store("counts", 0, app=app)
    assert isinstance(app.crash_error, StoreError)
    assert fake.clients == []


# -- what a failure leaves behind ----------------------------------------------------------------


def test_offsets_are_written_after_the_data_so_they_never_claim_more(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike, waits: list[float]
) -> None:
    store = open_store(app=app_with(make_app, retries=0, crash=False))
    store.write_batch({b"a": b"1"}, {TP0: 1})

    fake.fail_next(1, methods=["put"])
    with pytest.raises(StoreError):
        store.write_batch({b"b": b"2", b"c": b"3"}, {TP0: 3})
    assert store.applied_offset(TP0) == 1
    assert fake.count("operate") == 1, "the offsets were not even tried"

    fake.fail_next(1, methods=["operate"])
    with pytest.raises(StoreError):
        store.write_batch({b"b": b"2", b"c": b"3"}, {TP0: 3})
    assert dict(store.items()) == {b"a": b"1", b"b": b"2", b"c": b"3"}
    assert store.applied_offset(TP0) == 1

    store.write_batch({b"b": b"2", b"c": b"3"}, {TP0: 3})
    assert store.applied_offset(TP0) == 3


def test_the_offsets_of_one_batch_are_written_at_once(
    open_store: OpenStore, fake: FakeAerospike
) -> None:
    store = open_store()
    fake.calls.clear()
    store.write_batch({}, {TP("t", 0): 9, TP("t", 1): 4, TP("u", 0): 2})
    assert [c.method for c in fake.calls] == ["operate"]


def test_clear_forgets_the_offsets_before_the_data(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike, waits: list[float]
) -> None:
    store = open_store(app=app_with(make_app, retries=0, crash=False))
    store.write_batch({b"a": b"1", b"b": b"2"}, {TP0: 2})
    fake.fail_next(1, methods=["query"])
    with pytest.raises(StoreError):
        store.clear()
    assert store.applied_offset(TP0) is None, "no offset may claim data a clear half removed"
    assert store.size() == 2
    store.clear()
    assert store.size() == 0
