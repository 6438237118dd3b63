"""The "Testing" chapter of Faust's user guide, written as a Faust user does, with pytest.

The only difference from a Faust suite is ``import strm as faust``; the app lives at module
level as a Faust app does, and the agents are driven by ``test_context()`` without the app
being started.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import AsyncMock, patch

import pytest
import strm as faust

app = faust.App("testing-guide", broker="memory://", store="memory://")


class Order(faust.Record, serializer="json"):
    account_id: str
    product_id: str
    amount: int
    price: float


orders_topic = app.topic("orders", value_type=Order)
orders_for_account = app.Table("order-count-by-account", default=int)
shipped_topic = app.topic("shipped", value_type=Order)


@app.agent(orders_topic)
async def order(orders: faust.Stream[Order]) -> AsyncIterator[Order]:
    async for placed in orders.group_by(Order.account_id):
        orders_for_account[placed.account_id] += 1
        yield placed


async def notify_warehouse(placed: Order) -> None:
    """Stands for a call to another service: the tests replace it."""
    raise AssertionError("the tests must not reach the warehouse")


@app.agent(app.topic("incoming", value_type=Order))
async def track_order(orders: faust.Stream[Order]) -> None:
    async for placed in orders:
        await notify_warehouse(placed)
        await shipped_topic.send(value=placed)


@app.agent()
async def foo(stream: faust.Stream[str]) -> AsyncIterator[str]:
    async for value in stream:
        await bar.send(value=value)
        yield value


@app.agent()
async def bar(stream: faust.Stream[str]) -> AsyncIterator[str]:
    async for value in stream:
        yield value + "YOLO"


def an_order(account_id: str) -> Order:
    return Order(account_id=account_id, product_id="2", amount=1, price=300.0)


@pytest.fixture()
def shipped(monkeypatch: pytest.MonkeyPatch) -> AsyncMock:
    send = AsyncMock()
    monkeypatch.setattr(shipped_topic, "send", send)
    return send


@pytest.fixture()
def warehouse(monkeypatch: pytest.MonkeyPatch) -> AsyncMock:
    notify = AsyncMock()
    monkeypatch.setattr(sys.modules[__name__], "notify_warehouse", notify)
    return notify


async def test_the_agent_counts_orders_by_account_in_its_table() -> None:
    async with order.test_context() as agent:
        placed = an_order("1")
        await agent.put(placed)
        assert orders_for_account[placed.account_id] == 1
        await agent.put(placed)
        assert orders_for_account[placed.account_id] == 2


async def test_foo_calls_bar() -> None:
    with patch(f"{__name__}.bar") as mocked_bar:
        mocked_bar.send = AsyncMock()
        async with foo.test_context() as agent:
            await agent.put("hey")
            mocked_bar.send.assert_called_with(value="hey")


async def test_bar_adds_yolo() -> None:
    async with bar.test_context() as agent:
        event = await agent.put("hey")
        assert agent.results[event.message.offset] == "heyYOLO"


async def test_a_sinkless_agent_notifies_the_warehouse(
    shipped: AsyncMock, warehouse: AsyncMock
) -> None:
    async with track_order.test_context() as agent:
        placed = an_order("B")
        await agent.put(placed)
        warehouse.assert_awaited_once_with(placed)


async def test_a_sinkless_agent_forwards_to_the_shipped_topic(
    shipped: AsyncMock, warehouse: AsyncMock
) -> None:
    async with track_order.test_context() as agent:
        placed = an_order("C")
        await agent.put(placed)
        shipped.assert_awaited_once_with(value=placed)


async def test_results_of_a_sinkless_agent_hold_what_went_in(
    shipped: AsyncMock, warehouse: AsyncMock
) -> None:
    async with track_order.test_context() as agent:
        placed = an_order("D")
        await agent.put(placed)
        assert agent.results[0] == placed


async def test_leaving_the_context_stops_the_agent_after_its_work() -> None:
    processed: list[str] = []

    @app.agent(name="testing-guide-slow")
    async def slow_agent(stream: faust.Stream[str]) -> None:
        async for value in stream:
            processed.append(value)

    async with slow_agent.test_context() as agent:
        await agent.put("a")
    assert processed == ["a"]


async def test_the_results_collect_in_a_sink_too() -> None:
    received: list[Any] = []
    async with bar.test_context(sink=[received.append]) as agent:
        await agent.put("sink")
    assert received == ["sinkYOLO"]
