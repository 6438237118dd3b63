"""The metrics the sensor pushes, named as Prometheus asks: a ``strm_`` prefix, base units in
the name (``_seconds``, ``_bytes``), ``_total`` on counters, labels for what varies (``topic``,
``partition``, ``agent``, ``table``, ``stage``).

Durations are histograms rather than summaries: histograms add up across processes and
workers, summaries' quantiles do not (and prometheus_client's multi-process mode drops them).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Buckets for what takes from microseconds (an agent's batch) to seconds (a commit).
SECONDS_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip
#: Buckets for rebalances, which take seconds to minutes.
REBALANCE_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class PushedMetrics:
    """The counters and histograms, registered in ``registry`` (``None`` in multi-process mode,
    where the values live in the shared directory and a collector reads them from there)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        r = registry
        tp = ("topic", "partition")
        self.messages_received = Counter(
            "strm_messages_received_total", "Records fetched and handed to streams.", tp,
            registry=r,
        )  # fmt: skip
        self.agent_events = Counter(
            "strm_agent_events_total", "Events an agent's stream took.", ("agent", *tp),
            registry=r,
        )  # fmt: skip
        self.agent_batch = Histogram(
            "strm_agent_batch_duration_seconds",
            "Time an agent instance spent on one batch of events taken from its buffer.",
            ("agent",),
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.messages_sent = Counter(
            "strm_messages_sent_total", "Records the producer made durable.", tp, registry=r
        )
        self.bytes_sent = Counter(
            "strm_sent_bytes_total", "Bytes of keys and values the producer made durable.", tp,
            registry=r,
        )  # fmt: skip
        self.send_flush = Histogram(
            "strm_send_flush_duration_seconds",
            "Time a producer flush waited for the broker.",
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.send_errors = Counter(
            "strm_send_errors_total", "Records that could not be sent.", ("topic",), registry=r
        )
        self.changelog_records = Counter(
            "strm_changelog_records_total", "Changelog records written by checkpoints.",
            ("table", "partition"), registry=r,
        )  # fmt: skip
        self.changelog_bytes = Counter(
            "strm_changelog_bytes_total", "Bytes of changelog keys and values written.",
            ("table", "partition"), registry=r,
        )  # fmt: skip
        self.commit = Histogram(
            "strm_commit_duration_seconds",
            "Time a checkpoint (flush and offset commit) took; its count is the commits.",
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.rebalance = Histogram(
            "strm_rebalance_duration_seconds",
            "Time from a rebalance's start to reading again; its count is the rebalances.",
            buckets=REBALANCE_BUCKETS,
            registry=r,
        )
        self.rebalancing = Gauge(
            "strm_rebalancing", "1 while the group rebalances.", registry=r,
            multiprocess_mode="livemax",
        )  # fmt: skip
        self.assignments = Counter(
            "strm_assignments_total", "Times partitions were assigned.", registry=r
        )
        self.revocations = Counter(
            "strm_revocations_total", "Times partitions were revoked.", registry=r
        )
        self.dead_letters = Counter(
            "strm_dead_letters_total",
            "Records that failed to decode or process (stage: decode, process).",
            ("stage",),
            registry=r,
        )
        self.agent_errors = Counter(
            "strm_agent_errors_total", "Exceptions agent instances raised.", ("agent",),
            registry=r,
        )  # fmt: skip
        self.agent_restarts = Counter(
            "strm_agent_restarts_total", "Agent instances the supervisor restarted.",
            ("agent",), registry=r,
        )  # fmt: skip
        self.loop_lag = Histogram(
            "strm_event_loop_lag_seconds",
            "How late the runtime's periodic timer fired: time the event loop was blocked.",
            buckets=SECONDS_BUCKETS,
            registry=r,
        )


__all__ = ["REBALANCE_BUCKETS", "SECONDS_BUCKETS", "PushedMetrics"]
