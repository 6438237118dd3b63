"""Faust's ``faust.serializers`` package as Faust code imports it: its ``codecs`` module,
``Codec`` and ``Schema`` (``from faust.serializers import codecs`` becomes
``from strm.serializers import codecs``)."""

from strm import codecs
from strm.codecs import Codec
from strm.schema import Schema

__all__ = ["Codec", "Schema", "codecs"]
