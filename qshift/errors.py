"""Errors of the composition root (config loading, CLI wiring, command inputs and outputs)."""


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


class InputError(QshiftError):
    """A command's input (an option value, an input file) is not usable; the message names the option
    and the file or value."""


class OutputError(QshiftError):
    """A command's output cannot be written where asked (missing directory, a directory where a file was
    asked for, wrong file kind, an existing key or CA without ``--force``); the message names the option
    and the path."""
