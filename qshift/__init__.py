"""qshift composition root: the ``qshift`` CLI, config loading, logging setup, ``doctor`` and ``demo``.

No domain logic lives here; each domain package (``pqc``, ``qkd``, ``gateway``, ``inventory``) owns its
own sub-app and this package mounts them.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qshift")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
