"""Typed event models: :class:`~strm.models.record.Record` (a :class:`~strm.models.base.Model`),
its field descriptors and the namespace registry that picks a payload's class."""

from strm.models.base import Model
from strm.models.fields import (
    BooleanField,
    BytesField,
    CharField,
    DatetimeField,
    DecimalField,
    FieldDescriptor,
    FloatField,
    IntegerField,
    NumberField,
    StringField,
    field_for_type,
)
from strm.models.namespaces import FAUST_METADATA_KEY, METADATA_KEY, registry
from strm.models.record import ModelOptions, Record

__all__ = [
    "FAUST_METADATA_KEY",
    "METADATA_KEY",
    "BooleanField",
    "BytesField",
    "CharField",
    "DatetimeField",
    "DecimalField",
    "FieldDescriptor",
    "FloatField",
    "IntegerField",
    "Model",
    "ModelOptions",
    "NumberField",
    "Record",
    "StringField",
    "field_for_type",
    "registry",
]
