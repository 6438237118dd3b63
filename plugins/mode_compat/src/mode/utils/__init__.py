"""``mode.utils``: the helper modules Faust apps import, from :mod:`strm.compat.mode.utils`."""
