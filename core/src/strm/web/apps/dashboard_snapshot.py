"""What the dashboard page draws, as one JSON document: the Monitor's snapshot arranged by what
an operator asks (which agents run and how fast, which partitions lag, how big the tables are,
what failed lately), plus the app's identity and state.

Counters only go up; the page computes rates from two snapshots where the Monitor has none.
With the Monitor off (``Monitor=strm.NoMonitor``) the counters are ``null`` and the pulled
figures (lag, tables) are still there.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from strm.runtime.gauges import read_gauges
from strm.sensors import NoMonitor
from strm.web.apps.dashboard_recent import RecentLog
from strm.web.operator import app_state, strm_version

if TYPE_CHECKING:
    from strm.app import App
    from strm.monitor_snapshot import Gauges, MonitorSnapshot


def dashboard_snapshot(app: App, recent: RecentLog) -> dict[str, Any]:
    snap = None if isinstance(app.monitor, NoMonitor) else app.monitor.snapshot()
    gauges = read_gauges(app) if snap is None else snap.gauges
    lag = gauges.lag_total if any(g.lag is not None for g in gauges.partitions.values()) else None
    return {
        "app": app.conf.id,
        "strm": strm_version(),
        "state": app_state(app),
        "monitor": "off" if snap is None else "on",
        "time": time.time(),
        "uptime_seconds": time.monotonic() - app.monitor.started,
        "totals": {"lag": lag, **_totals(snap)},
        "agents": [_agent(app, name, snap) for name in sorted(app.agents)],
        "partitions": _partitions(gauges, snap),
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


def _totals(snap: MonitorSnapshot | None) -> dict[str, Any]:
    if snap is None:
        names = ("events_in", "events_out", "commits", "commit_latency_avg", "rebalances")
        return {**dict.fromkeys(names), "dead_letters": None, "loop_lag_seconds": None}
    return {
        "events_in": snap.messages_received_total,
        "events_out": snap.messages_sent,
        "commits": snap.commits,
        "commit_latency_avg": snap.commit_latency.avg if snap.commits else None,
        "rebalances": snap.rebalances,
        "dead_letters": sum(snap.dead_letters.values()),
        "loop_lag_seconds": snap.loop_lag,
    }


def _partitions(gauges: Gauges, snap: MonitorSnapshot | None) -> list[dict[str, Any]]:
    return [
        {
            "topic": tp.topic,
            "partition": tp.partition,
            "events": None if snap is None else snap.messages_received_by_tp.get(tp, 0),
            "committed": gauge.committed,
            "end": gauge.highwater,
            "lag": gauge.lag,
        }
        for tp, gauge in sorted(gauges.partitions.items())
    ]


def _agent(app: App, name: str, snap: MonitorSnapshot | None) -> dict[str, Any]:
    agent = app.agents[name]
    row: dict[str, Any] = {
        "name": name,
        "channel": agent.channel.label,
        "concurrency": agent.concurrency,
        "events": None,
        "rate": None,
        "p50_seconds": None,
        "p99_seconds": None,
        "errors": None,
        "restarts": None,
    }
    if snap is None:
        return row
    row["errors"] = snap.agent_errors.get(name, 0)
    row["restarts"] = snap.agent_restarts.get(name, 0)
    figures = snap.agents.get(name)
    row["events"] = 0 if figures is None else figures.events_total
    if figures is not None:
        row["rate"] = figures.events_per_second
        if figures.runtime.count:
            row["p50_seconds"] = figures.runtime.p50
            row["p99_seconds"] = figures.runtime.p99
    return row


__all__ = ["dashboard_snapshot"]
