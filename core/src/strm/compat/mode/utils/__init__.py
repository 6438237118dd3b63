"""``mode.utils``: the helper modules Faust apps import."""
