"""Cache backends: the built-in memory cache; others come from plugins."""
