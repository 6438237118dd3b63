"""The ``strm`` command line."""
