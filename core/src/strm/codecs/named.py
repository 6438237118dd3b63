"""Codecs by name outside an app: ``get_codec``, ``dumps`` and ``loads`` as Faust offers them.

Without an app there are no plugins to ask, so names resolve to strm's built-in codecs and to
those given to :func:`~strm.codecs.registry.register`; inside an app, ``app.serializers`` also
knows the codecs its plugins provide.
"""

from __future__ import annotations

import functools
from typing import Any

from strm.codecs.registry import Serializers
from strm.kernel.spi import Codec


@functools.cache
def _builtin() -> Serializers:
    from strm.codecs.builtin import BUILTIN_CODECS

    return Serializers({name: codec for name, (codec, _) in BUILTIN_CODECS.items()})


def get_codec(name_or_codec: str | Codec, *, setting: str = "serializer") -> Codec:
    """The codec a name (``'json'``, ``'json|binary'``) names, or the codec object given."""
    return _builtin().codec(name_or_codec, setting=setting)


def dumps(codec: str | Codec | None, obj: Any) -> Any:
    """``obj`` encoded with ``codec``; with no codec, ``obj`` itself (as Faust does)."""
    return get_codec(codec).dumps(obj) if codec else obj


def loads(codec: str | Codec | None, s: bytes) -> Any:
    """``s`` decoded with ``codec``; with no codec, ``s`` itself (as Faust does)."""
    return get_codec(codec).loads(s) if codec else s
