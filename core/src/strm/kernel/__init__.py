"""The kernel: what plugins build on and the layers above depend on
(docs/architecture.md, "Layout")."""
