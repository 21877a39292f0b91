"""User-facing errors of the answering layer; the CLI and the UI show their message, never a traceback."""

from __future__ import annotations


class QAError(Exception):
    """Base class: str(error) is a complete sentence for the user."""


class QuestionError(QAError):
    """The question cannot be searched (empty, only punctuation, ...)."""


class IndexUnavailable(QAError):
    """The index is missing, unreadable, busy, or was built with another model."""
