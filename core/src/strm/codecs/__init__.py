"""Codecs turn objects into bytes and back; see :mod:`strm.codecs.registry` for how names are
resolved and composed."""
