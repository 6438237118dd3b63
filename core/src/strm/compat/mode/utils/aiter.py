"""``mode.utils.aiter``: helpers for async iterators, as mode names them."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any, TypeVar, overload

T = TypeVar("T")


async def _from_iterable(items: Iterable[T]) -> AsyncIterator[T]:
    for item in items:
        yield item


def aiter(it: AsyncIterable[T] | Iterable[T]) -> AsyncIterator[T]:
    """An async iterator over ``it``, an async iterable or a plain iterable."""
    if isinstance(it, AsyncIterable):
        return it.__aiter__()
    if isinstance(it, Iterable):
        return _from_iterable(it)
    raise TypeError(f"{it!r} object is not an iterable")


_NO_DEFAULT: Any = object()


@overload
async def anext(it: AsyncIterator[T]) -> T: ...


@overload
async def anext(it: AsyncIterator[T], default: T) -> T: ...


async def anext(it: AsyncIterator[T], default: T = _NO_DEFAULT) -> T:
    """The next item of ``it``; ``default`` when it is exhausted, if given, else
    ``StopAsyncIteration``."""
    try:
        return await it.__anext__()
    except StopAsyncIteration:
        if default is _NO_DEFAULT:
            raise
        return default


async def aenumerate(it: AsyncIterable[T], start: int = 0) -> AsyncIterator[tuple[int, T]]:
    """``enumerate`` for ``async for``."""
    index = start
    async for item in it:
        yield index, item
        index += 1


async def alist(it: AsyncIterable[T]) -> list[T]:
    """Every item of ``it``, in a list."""
    return [item async for item in it]


async def chunks(it: AsyncIterable[T], n: int) -> AsyncIterator[list[T]]:
    """Lists of ``n`` consecutive items of ``it``; the last one may be shorter."""
    if n < 1:
        raise ValueError(f"chunks of {n} items: n must be at least 1")
    chunk: list[T] = []
    async for item in it:
        chunk.append(item)
        if len(chunk) == n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


__all__ = ["aenumerate", "aiter", "alist", "anext", "chunks"]
