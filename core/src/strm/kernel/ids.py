"""Faust's ``faust.uuid()``: a new random id as text, for correlation ids and the like."""

from uuid import uuid4


def uuid() -> str:
    """A random UUID as its canonical 36-character string."""
    return str(uuid4())


__all__ = ["uuid"]
