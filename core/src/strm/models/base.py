"""``Model``: what every strm model type shares, Faust's ``faust.Model``.

:class:`~strm.models.record.Record` is the one model type strm has (as in Faust); ``Model`` is
its base, so code written against Faust's ``Model``/``ModelT`` (``isinstance(value,
faust.Model)``, ``def f(m: ModelT)``) works with records. It holds what depends only on a model
turning into a representation and back: encoding with a codec and the validation helpers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from strm.codecs.builtin import JsonCodec, std_encode
from strm.codecs.named import get_codec
from strm.kernel.errors import CodecError, ConfigurationError, ValidationError, ValueDecodeError
from strm.kernel.spi import Codec

if TYPE_CHECKING:
    from strm.models.record import ModelOptions

__all__ = ["Model"]


class Model:
    """Base class of strm's models; build records by subclassing :class:`~strm.Record`."""

    _options: ClassVar[ModelOptions]

    @classmethod
    def from_data(cls, data: Any, *, preferred_type: type[Model] | None = None) -> Self:
        """A model built from its decoded representation; model types define how."""
        raise TypeError(f"{cls.__qualname__} is not a concrete model type: subclass strm.Record")

    def to_representation(self) -> dict[str, Any]:
        """The JSON-ready form; model types define it."""
        raise TypeError(f"{type(self).__qualname__} is not a concrete model type")

    def validate(self) -> list[ValidationError]:
        """Every way the field values break the model's declared types; model types define it."""
        raise TypeError(f"{type(self).__qualname__} is not a concrete model type")

    @classmethod
    def loads(
        cls,
        s: bytes,
        serializer: str | Codec | None = None,
        *,
        default_serializer: str | Codec | None = None,
    ) -> Self:
        """Decode bytes with ``serializer`` (else the model's, else ``default_serializer``, else
        JSON), then :meth:`from_data`."""
        codec = cls._options.codec  # the model's own, once resolved (see _codec)
        if codec is None or serializer is not None or default_serializer is not None:
            codec = _codec(cls, serializer, default_serializer)
        try:
            data = codec.loads(s)
        except Exception as exc:
            raise ValueDecodeError(
                f"cannot decode {cls.__qualname__}: {type(exc).__name__}: {exc}"
            ) from exc
        return cls.from_data(data)

    def dumps(self, serializer: str | Codec | None = None) -> bytes:
        """Encode :meth:`to_representation` with ``serializer`` (else the model's, else JSON)."""
        codec = _codec(type(self), serializer, None)
        try:
            if codec.__class__ is JsonCodec:  # the same bytes, without building the dict
                return self._strm_json().encode()
            return codec.dumps(self.to_representation())
        except Exception as exc:
            raise CodecError(
                f"cannot encode {type(self).__qualname__}: {type(exc).__name__}: {exc}"
            ) from exc

    def _strm_json(self) -> str:
        """The built-in JSON codec's text of :meth:`to_representation` (records generate a
        faster one per class)."""
        return std_encode(self.to_representation())

    def __json__(self) -> dict[str, Any]:
        return self.to_representation()

    def is_valid(self) -> bool:
        return not self.validate()

    def validate_or_raise(self) -> None:
        """Raise one :class:`~strm.kernel.errors.ValidationError` listing every invalid field."""
        errors = self.validate()
        if errors:
            count = f"{len(errors)} invalid field{'s' if len(errors) != 1 else ''}"
            reasons = "; ".join(e.reason for e in errors)
            raise ValidationError(f"{type(self).__qualname__}: {count}: {reasons}", errors=errors)

    @property
    def validation_errors(self) -> list[ValidationError]:
        return self.validate()


def _codec(cls: type[Model], spec: str | Codec | None, fallback: str | Codec | None) -> Codec:
    options = cls._options
    # The model's own codec (its serializer, else JSON) is resolved once per class: a name
    # resolves to the same codec for the life of the process (strm.codecs.named caches it).
    own = spec is None and (fallback is None or options.serializer is not None)
    if own and options.codec is not None:
        return options.codec
    if spec is None:
        spec = options.serializer or fallback or "json"
    try:
        codec = get_codec(spec, setting=f"{cls.__qualname__} serializer")
    except ConfigurationError as exc:
        raise ConfigurationError(
            f"{exc}. Models encoding on their own know only the built-in codecs and those given to "
            f"strm.codecs.register(): pass a codec object, register the codec, or encode "
            f"through app.serializers or a strm.Schema"
        ) from None
    if own:
        options.codec = codec
    return codec
