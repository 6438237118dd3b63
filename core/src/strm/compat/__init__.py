"""Modules under the names other libraries' users import, implemented with strm.

:mod:`strm.compat.mode` mirrors the parts of :pypi:`mode` that Faust apps use; the optional
distribution ``strm-mode-compat`` installs it as the top-level package ``mode``.
"""
