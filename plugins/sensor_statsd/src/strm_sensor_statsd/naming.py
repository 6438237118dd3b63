"""What each metric is called on the wire.

The sensor (:mod:`strm_sensor_statsd.sensor`) reports every figure under one canonical id with
labels (``topic``, ``partition``, ``agent``, ``table``...); a :data:`Naming` turns the pair into
what the daemon receives. Plain StatsD has no tags, so :func:`statsd_naming` writes the labels it
keeps into the name, as Faust's ``StatsdMonitor`` does (``topic.orders.messages_received``);
DogStatsD keeps the id as the name and sends the labels as tags (``strm-sensor-datadog``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from strm_sensor_statsd.client import Tags, metric_name

#: ``naming(metric_id, labels) -> (name, tags or None)``.
Naming = Callable[[str, Mapping[str, object]], tuple[str, Tags | None]]

#: Every metric id, its StatsD type, its labels, and its plain-StatsD name (a template over the
#: labels). The ids are Faust's Datadog names where Faust has the figure.
METRICS: Mapping[str, tuple[str, tuple[str, ...], str]] = {
    # reading
    "messages_received": ("c", ("topic", "partition"), "messages_received"),
    "topic_messages_received": ("c", ("topic",), "topic.{topic}.messages_received"),
    "events": ("c", ("agent", "topic", "partition"), "events"),
    "agent_events": ("c", ("agent",), "agent.{agent}.events"),
    "events_runtime": ("ms", ("agent",), "events_runtime"),
    # writing
    "messages_sent": ("c", ("topic", "partition"), "messages_sent"),
    "topic_messages_sent": ("c", ("topic",), "topic.{topic}.messages_sent"),
    "topic_bytes_sent": ("c", ("topic",), "topic.{topic}.bytes_sent"),
    "send_latency": ("ms", (), "send_latency"),
    "messages_send_failed": ("c", ("topic",), "topic.{topic}.messages_sent_error"),
    "changelog_records": ("c", ("table", "topic", "partition"), "table.{table}.changelog_records"),
    "changelog_bytes": ("c", ("table", "topic", "partition"), "table.{table}.changelog_bytes"),
    "commit_latency": ("ms", (), "commit_latency"),
    "committed_offset": ("g", ("topic", "partition"), "committed_offset.{topic}.{partition}"),
    # the group
    "rebalances": ("c", (), "rebalances"),
    "rebalance_end_latency": ("ms", (), "rebalance_end_latency"),
    "assignments_complete": ("c", (), "assignments_complete"),
    # failures
    "dead_letters": ("c", ("stage", "topic"), "dead_letters.{stage}"),
    "agent_errors": ("c", ("agent",), "agent.{agent}.errors"),
    "agent_restarts": ("c", ("agent",), "agent.{agent}.restarts"),
    # the worker
    "loop_lag": ("ms", (), "loop_lag"),
    "recovery_records_done": ("g", ("table",), "table.{table}.recovery_done"),
    "recovery_records_total": ("g", ("table",), "table.{table}.recovery_total"),
    # gauges read every gauge interval
    "assigned_partitions": ("g", (), "assigned_partitions"),
    "end_offset": ("g", ("topic", "partition"), "end_offset.{topic}.{partition}"),
    "read_offset": ("g", ("topic", "partition"), "read_offset.{topic}.{partition}"),
    "consumer_lag": ("g", ("topic", "partition"), "consumer_lag.{topic}.{partition}"),
    "table_keys": ("g", ("table",), "table.{table}.keys"),
}


def statsd_naming(metric: str, labels: Mapping[str, object]) -> tuple[str, Tags | None]:
    """Plain StatsD: the labels the template names go into the metric name; no tags."""
    template = METRICS[metric][2]
    return template.format(**{k: metric_name(v) for k, v in labels.items()}), None


def tagged_naming(metric: str, labels: Mapping[str, object]) -> tuple[str, Tags | None]:
    """DogStatsD: the id is the name, every label a tag."""
    return metric, labels
