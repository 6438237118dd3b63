"""Settings: declarations (:class:`Setting`), types, the kernel catalogue and resolution."""

from strm.kernel.settings.setting import Alias, Setting

__all__ = ["Alias", "Setting"]
