"""``mode`` for Faust apps run on strm: each module re-exports its :mod:`strm.compat.mode`
counterpart, so ``from mode import Service`` and ``import mode.utils.objects`` work unchanged.

Not the real mode package: installing both makes one overwrite the other (see the README).
"""

from strm.compat.mode import *  # noqa: F403
from strm.compat.mode import __all__ as __all__
from strm.compat.mode import __getattr__ as __getattr__
