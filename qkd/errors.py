"""Error hierarchy of ``qkd``: every error this package raises derives from :class:`QkdError`."""

from __future__ import annotations

from typing import Any, ClassVar


class QkdError(Exception):
    """Base of all ``qkd`` errors. Messages name the input and the position of the fault.

    ``cause``: the typed cause a link's status, its log line and ``qkd_link_failures_total{cause}`` show when
    this error ends a session or a block (:func:`qkd.runtime.failure_cause`); None lets the runtime derive one
    from the error's kind. An error names its cause in its class statement::

        class StepDeadline(ChannelError, cause="step-deadline"):
            ...
    """

    cause: ClassVar[str | None] = None

    def __init_subclass__(cls, *, cause: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cause is not None:
            cls.cause = cause
