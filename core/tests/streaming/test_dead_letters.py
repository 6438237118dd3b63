"""Dead letters that do not fit: a record too large to send whole, a record that cannot be sent
at all, and a record that already carries strm's dead-letter headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_transport import get_broker
from strm.kernel.errors import DeadLetterError
from strm.kernel.spi import TP, Message, ProducerRecord
from strm.kernel.transports.record_size import record_size
from strm.testing import eventually

LIMIT = 2_000


def write(broker_url: str, topic: str, key: bytes | None, value: bytes, **headers: bytes) -> None:
    """Put a record on the broker as a producer with a higher size limit than the app's
    would: the app can read it but not send it on as it is."""
    get_broker(broker_url).topic(topic, lambda: 1).append(
        ProducerRecord(topic, 0, key, value, None, list(headers.items()))
    )


def letters(broker_url: str, topic: str = "dlq") -> list[Message]:
    broker = get_broker(broker_url)
    if topic not in broker.topics:
        return []
    return [m for log in broker.topics[topic].logs for m in log]


async def test_a_dead_letter_too_large_to_send_is_sent_with_its_value_cut(
    make_app: Callable[..., App], broker_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(topic_partitions=1, dead_letter_topic="dlq", producer_max_request_size=LIMIT)
    topic = app.topic("big", value_type=int)
    seen: list[int] = []

    @app.agent(topic)
    async def read(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    write(broker_url, "big", b"k", b"x" * 5_000, origin=b"test")
    write(broker_url, "big", None, b"1")
    async with app.running():
        await eventually(lambda: seen == [1])
        await eventually(lambda: app.conductor.committable() == {TP("big", 0): 2})
    (letter,) = letters(broker_url)
    headers = dict(letter.headers)
    assert headers["strm-dlq-truncated"] == b"5000"
    assert headers["origin"] == b"test" and b"ValueDecodeError" in headers["strm-error"]
    assert letter.key == b"k"
    assert 0 < len(letter.value or b"") < 5_000 and set(letter.value or b"") == {ord("x")}
    size = record_size(letter.key, letter.value, letter.headers)
    assert LIMIT - 8 < size <= LIMIT, "the value is cut to what fits, not shorter"
    (logged,) = [r.getMessage() for r in caplog.records if r.name == "strm.deadletters"]
    assert logged.startswith(
        f"record big[0]@0 failed to decode and was sent to dead-letter topic 'dlq' with its "
        f"value cut from 5000 to {len(letter.value or b'')} bytes to fit "
        f"producer_max_request_size ({LIMIT}): ValueDecodeError: "
    ), logged


@pytest.mark.parametrize("concurrency", [1, 2])
@pytest.mark.parametrize("stage", ["decode", "process"])
async def test_a_dead_letter_that_cannot_be_sent_stops_the_worker_and_keeps_its_offset(
    make_app: Callable[..., App],
    broker_url: str,
    caplog: pytest.LogCaptureFixture,
    stage: str,
    concurrency: int,
) -> None:
    app = make_app(topic_partitions=1, dead_letter_topic="dlq", producer_max_request_size=LIMIT)
    topic = app.topic("big", value_type=int)
    seen: list[int] = []

    @app.agent(topic, concurrency=concurrency)
    async def read(stream: Any) -> None:
        async for value in stream:
            if value == 13:
                raise RuntimeError("unlucky")
            seen.append(value)

    write(broker_url, "big", None, b"1")
    # The key alone is over the limit: no cut of the value makes the record fit.
    write(broker_url, "big", b"k" * 3_000, b"oops" if stage == "decode" else b"13")
    write(broker_url, "big", None, b"2")
    with pytest.raises(DeadLetterError):
        async with app.running():
            await eventually(lambda: app.crash_error is not None)
            error = app.crash_error
            # Another instance may go on with the next record, but not commit past this one.
            await eventually(lambda: seen == [1] if concurrency == 1 else sorted(seen) == [1, 2])
            assert app.conductor.committable().get(TP("big", 0), 1) <= 1, "committed past it"
    assert isinstance(error, DeadLetterError)
    assert f"record big[0]@1 failed to {stage}" in str(error)
    assert "cannot be sent to dead-letter topic 'dlq'" in str(error)
    assert "producer_max_request_size" in str(error)
    assert letters(broker_url) == []
    assert "was sent to dead-letter topic" not in caplog.text


async def test_strm_headers_of_the_record_itself_are_kept_under_other_names(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(topic_partitions=1, dead_letter_topic="dlq")
    topic = app.topic("replayed", value_type=int)

    @app.agent(topic)
    async def read(stream: Any) -> None:
        async for _ in stream:
            pass

    # A dead letter of a dead letter: the record carries what the first failure wrote.
    earlier = {
        "strm-error": b"ValueError: earlier",
        "strm-error-stage": b"process",
        "strm-source-topic": b"orders",
        "strm-source-offset": b"99",
        "strm-original-strm-error": b"KeyError: first",
        "strm-reply-to": b"replies",
    }
    write(broker_url, "replayed", None, b"oops", **earlier)
    async with app.running():
        await eventually(lambda: len(letters(broker_url)) == 1)
    names = [name for name, _ in letters(broker_url)[0].headers]
    assert len(names) == len(set(names)), f"a header name appears twice: {names}"
    headers = dict(letters(broker_url)[0].headers)
    assert b"ValueDecodeError" in headers["strm-error"]
    assert headers["strm-error-stage"] == b"decode"
    assert headers["strm-source-topic"] == b"replayed"
    assert headers["strm-source-offset"] == b"0"
    assert headers["strm-original-strm-error"] == b"ValueError: earlier"
    assert headers["strm-original-strm-error-stage"] == b"process"
    assert headers["strm-original-strm-source-topic"] == b"orders"
    assert headers["strm-original-strm-source-offset"] == b"99"
    assert headers["strm-original-strm-original-strm-error"] == b"KeyError: first"
    assert headers["strm-reply-to"] == b"replies", "other headers are kept as they are"
