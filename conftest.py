"""Repository-wide pytest setup: the Kafka broker fixtures (``strm.testing.kafka``) for the
tests that need a real broker. pytest only accepts ``pytest_plugins`` in this top-level file."""

pytest_plugins = ["strm.testing.kafka"]
