"""Repository-wide pytest setup: the guard that keeps the suite on the repository's own files
(``tests/repository_guard.py``), and the Kafka broker fixtures (``strm.testing.kafka``) for the
tests that need a real broker. pytest only accepts ``pytest_plugins`` in this top-level file."""

pytest_plugins = ["tests.repository_guard", "strm.testing.kafka"]
