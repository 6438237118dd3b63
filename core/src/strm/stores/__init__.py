"""Table stores: the built-in memory store; others come from plugins."""
