"""What the dashboard page draws, as one JSON document: the Monitor's snapshot arranged by what
an operator asks (which agents run and how fast, which partitions lag, how big the tables are,
what failed lately), plus the app's identity and state.

Counters only go up; the page computes rates from two snapshots where the Monitor has none.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from strm.web.apps.dashboard_recent import RecentLog
from strm.web.operator import app_state, strm_version

if TYPE_CHECKING:
    from strm.app import App
    from strm.monitor_snapshot import MonitorSnapshot


def dashboard_snapshot(app: App, recent: RecentLog) -> dict[str, Any]:
    snap: MonitorSnapshot = app.monitor.snapshot()
    gauges = snap.gauges
    return {
        "app": app.conf.id,
        "strm": strm_version(),
        "state": app_state(app),
        "time": time.time(),
        "uptime_seconds": snap.uptime_seconds,
        "totals": {
            "events_in": snap.messages_received_total,
            "events_out": snap.messages_sent,
            "lag": gauges.lag_total if gauges.partitions else None,
            "commits": snap.commits,
            "commit_latency_avg": snap.commit_latency.avg if snap.commits else None,
            "rebalances": snap.rebalances,
            "dead_letters": sum(snap.dead_letters.values()),
            "loop_lag_seconds": snap.loop_lag,
        },
        "agents": [_agent(app, name, snap) for name in sorted(app.agents)],
        "partitions": [
            {
                "topic": tp.topic,
                "partition": tp.partition,
                "events": snap.messages_received_by_tp.get(tp, 0),
                "committed": gauge.committed,
                "end": gauge.highwater,
                "lag": gauge.lag,
            }
            for tp, gauge in sorted(gauges.partitions.items())
        ],
        "tables": [
            {
                "name": name,
                "size": table.size,
                "partitions": table.partitions,
                "recovery": {
                    "finished": table.recovered,
                    "done": table.recovery_done,
                    "total": table.recovery_total,
                },
            }
            for name, table in sorted(gauges.tables.items())
        ],
        "errors": list(recent.errors),
        "rebalances": list(recent.rebalances),
    }


def _agent(app: App, name: str, snap: MonitorSnapshot) -> dict[str, Any]:
    agent = app.agents[name]
    figures = snap.agents.get(name)
    row: dict[str, Any] = {
        "name": name,
        "channel": agent.channel.label,
        "concurrency": agent.concurrency,
        "events": 0,
        "rate": None,
        "p50_seconds": None,
        "p99_seconds": None,
        "errors": snap.agent_errors.get(name, 0),
        "restarts": snap.agent_restarts.get(name, 0),
    }
    if figures is not None:
        row["events"] = figures.events_total
        row["rate"] = figures.events_per_second
        if figures.runtime.count:
            row["p50_seconds"] = figures.runtime.p50
            row["p99_seconds"] = figures.runtime.p99
    return row


__all__ = ["dashboard_snapshot"]
