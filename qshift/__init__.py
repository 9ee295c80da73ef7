"""qshift composition root: the ``qshift`` CLI, config loading, logging setup, ``doctor`` and ``demo``.

Every command lives here (:mod:`qshift.commands`, one module per command group, mounted by
:mod:`qshift.cli`), and all config loading (:mod:`qshift.config`); the domain packages (``pqc``, ``qkd``,
``gateway``, ``inventory``) expose library APIs taking typed config objects and never import ``qshift``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qshift")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
