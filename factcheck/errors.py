"""Errors in a few honest families. Each carries a one-line message and, where it helps, a hint of what to do."""

from __future__ import annotations

from typing import Any


class FactcheckError(Exception):
    """Base of every error factcheck raises on purpose; the CLI prints it as one line, without a traceback."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UserError(FactcheckError):
    """A mistake of the user or of the configuration: a bad path, a bad flag, a missing setting."""


class DocumentError(UserError):
    """A source document that cannot be read as text."""


class CaseError(UserError):
    """A case folder that is missing, locked or damaged."""


class ModelAPIError(FactcheckError):
    """The LLM server failed, permanently or past the retry budget."""

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.attempts = attempts


class UnexpectedModelBehavior(FactcheckError):
    """The model kept answering with something unusable (invalid JSON, schema violations, cut-off replies)."""

    def __init__(
        self,
        message: str,
        *,
        attempts: int,
        last_completion: str | None = None,
        details: Any = None,
        hint: str | None = "try a larger model, or raise FACTCHECK_MAX_TOKENS if replies were cut",
    ) -> None:
        super().__init__(message, hint=hint)
        self.attempts = attempts
        self.last_completion = last_completion
        self.details = details


class ReplayMiss(UserError):
    """A replay was asked for a request that no saved exchange answers."""
