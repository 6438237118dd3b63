"""The dashboard in a real headless Chromium: a worker with events flowing serves
``/dashboard/``; the page shows its agents, partitions and tables, its figures change while
events flow, and an agent's error appears. The test run keeps a screenshot in
``test-artifacts/dashboard-memory.png`` and ``dashboard-kafka.png`` at the repository's root
(ignored by git)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium_driver import Browser
from dashboard_worker import DashboardWorker, create_topic

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

#: The events figure of one agent's row, as a number (null while the row is missing).
AGENT_EVENTS = """
for (const row of document.querySelectorAll('#agents tbody tr')) {
  if (row.cells[0].textContent.endsWith(arguments[0])) {
    return Number(row.querySelector('td.events').textContent.replace(/,/g, ''));
  }
}
return null;
"""


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.kafka)])
def worker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DashboardWorker]:
    """The worker on ``memory://``, and on the real Kafka broker."""
    env: dict[str, str] = {}
    if request.param == "kafka":
        bootstrap = request.getfixturevalue("kafka_bootstrap")
        suffix = uuid.uuid4().hex[:10]
        env = {
            "DW_BROKER": f"kafka://{bootstrap}",
            "DW_APP": f"dashdemo-{suffix}",
            "DW_TOPIC": f"orders-{suffix}",
        }
        asyncio.run(create_topic(bootstrap, env["DW_TOPIC"], 2))
    worker = DashboardWorker(tmp_path, env)
    try:
        worker.wait_ready()
        yield worker
    finally:
        assert worker.stop() == 0, worker.output


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    browser = Browser(tmp_path / "browser")
    try:
        yield browser
    finally:
        browser.close()


def test_the_page_shows_the_agents_and_its_figures_change_while_events_flow(
    worker: DashboardWorker, browser: Browser
) -> None:
    browser.get(worker.url + "/dashboard/")
    assert browser.wait_for("return document.readyState === 'complete';", 20, "page load")
    events = "return (function () {" + AGENT_EVENTS + "}).apply(null, arguments);"
    first = browser.wait_for(events, 20, "the agent tally counting events", "tally")
    second = browser.wait_for(
        "const n = (function () {" + AGENT_EVENTS + "}).apply(null, arguments);"
        " return n > arguments[1] ? n : 0;",
        20, "the agent's count moving on", "tally", first,
    )  # fmt: skip
    assert second > first
    agents = browser.run(
        "return [...document.querySelectorAll('#agents tbody tr')]"
        ".map(r => r.cells[0].textContent);"
    )
    assert sorted(name.rsplit(".", 1)[-1] for name in agents) == ["audit", "tally"]
    assert browser.text("#app-id") == worker.app_id
    assert browser.text("#app-state") == "running"
    partitions = browser.run(
        "return [...document.querySelectorAll('#partitions tbody tr')]"
        ".map(r => r.cells[0].textContent + '/' + r.cells[1].textContent);"
    )
    assert sorted(partitions) == [f"{worker.topic}/0", f"{worker.topic}/1"]
    browser.wait_for(
        "return [...document.querySelectorAll('#tables tbody tr')]"
        ".some(r => r.cells[0].textContent.endsWith('counts') && r.cells[1].textContent === '8');",
        20, "the table counts with its 8 keys (k0 to k6, and the bad record's)",
    )  # fmt: skip
    browser.wait_for(
        "return document.querySelector('#errors tbody').textContent.includes("
        "'ValueError: negative amount -1');",
        20, "the agent's error in the recent errors",
    )  # fmt: skip
    shot = browser.screenshot(ARTIFACTS / f"dashboard-{worker.broker}.png")
    assert shot.stat().st_size > 10_000
