"""The plugins strm ships, registered like third-party ones
(docs/architecture.md, "Layout")."""
