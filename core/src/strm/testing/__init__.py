"""Testing support for strm users and plugin authors.

The pytest plugin (:mod:`strm.testing.pytest_plugin`) is registered through the ``pytest11``
entry point, so its fixtures are available wherever strm is installed. Contract suites that a
backend plugin runs against itself live in :mod:`strm.testing.contracts`.
"""
