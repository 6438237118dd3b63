"""Faust's user guide, chapter by chapter, as a Faust user writes it with
``import strm as faust``."""
