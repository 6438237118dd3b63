"""Loading plugins and resolving what they provide."""

from strm.plugins.manager import StrmPluginManager

__all__ = ["StrmPluginManager"]
