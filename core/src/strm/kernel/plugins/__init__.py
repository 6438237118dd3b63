"""Loading plugins and resolving what they provide."""

from strm.kernel.plugins.manager import StrmPluginManager

__all__ = ["StrmPluginManager"]
