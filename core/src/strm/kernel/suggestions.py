"""Suggestions ("did you mean ...?") for names a user typed: settings, ``-A`` modules and
attributes, URL schemes.

One wording everywhere, so that a typo reads the same whichever name it is in, and one cutoff, so
that a suggestion is offered only when it is likely to be what was meant.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

#: The similarity (difflib's ratio) a candidate needs: "kafak" finds "kafka" (0.8), while "third"
#: does not find "other" (0.6), which would be noise rather than help.
CUTOFF = 0.7


def did_you_mean(word: str, candidates: Iterable[str], *, show: Callable[[str], str] = repr) -> str:
    """``"; did you mean 'x'?"`` (or ``'x' or 'y'``, best first) to append to an error, or ``""``
    when nothing is close enough."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=3, cutoff=CUTOFF)
    if not close:
        return ""
    return f"; did you mean {' or '.join(show(name) for name in close)}?"
