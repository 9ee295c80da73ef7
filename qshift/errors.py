"""Errors of the composition root (config loading, CLI wiring)."""


class QshiftError(Exception):
    """Base of errors raised by the ``qshift`` composition root."""


class ConfigError(QshiftError):
    """A config file is missing, is not valid TOML, or does not match its schema.

    The message names the file, the key (dotted path) and what was expected.
    """

    def __init__(self, path: str, message: str, key: str | None = None) -> None:
        self.path = path
        self.key = key
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {message}")
