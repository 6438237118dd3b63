"""What runs between an app's start and its stop (docs/architecture.md,
"Layout")."""
