"""The default extension classes, provided through the same hook a plugin uses to replace one."""

from __future__ import annotations

from strm import records
from strm.codecs.registry import Serializers
from strm.hookspecs import hookimpl
from strm.records import Provision
from strm.worker import Worker


@hookimpl
def strm_extension_classes() -> list[Provision]:
    return [
        records.extension_class("Serializers", Serializers),
        records.extension_class("Worker", Worker),
    ]
