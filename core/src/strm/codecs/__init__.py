"""Codecs turn objects into bytes and back; see :mod:`strm.codecs.registry` for how names are
resolved and composed.

This package is also the counterpart of Faust's ``faust.serializers.codecs`` module: the
:class:`Codec` base class and its ``json``/``raw``/``binary``/``raw_pickle``/``pickle`` stages,
``register(name, codec)``, ``get_codec``, ``dumps`` and ``loads``.
"""

from strm.codecs.base import Codec, binary, json, pickle, raw, raw_pickle
from strm.codecs.named import dumps, get_codec, loads
from strm.codecs.registry import codecs, register

__all__ = [
    "Codec",
    "binary",
    "codecs",
    "dumps",
    "get_codec",
    "json",
    "loads",
    "pickle",
    "raw",
    "raw_pickle",
    "register",
]
