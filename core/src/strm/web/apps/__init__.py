"""Blueprints strm serves itself (``strm.web.apps.stats``)."""
