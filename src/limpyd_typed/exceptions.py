"""Every error limpyd_typed raises derives from LimpydError."""

from __future__ import annotations


def shown(value: object, limit: int = 80) -> str:
    """A value as error messages quote it: its repr, cut short (an int of 5,000 digits has none)."""
    try:
        text = repr(value)
    except ValueError:
        text = f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class LimpydError(Exception):
    """Base of every error raised by limpyd_typed."""


class ImplementationError(LimpydError):
    """A model or field is declared in a way that cannot work; the message says how to fix it."""


class DoesNotExist(LimpydError):
    """The instance (or stored collection) asked for is not in the database."""


class UniquenessError(LimpydError):
    """A write would give a unique field a value another instance already holds; nothing was written."""


class BulkCreateError(UniquenessError):
    """Some rows of ``bulk_create`` were refused by the server; ``created`` holds the pks written."""

    def __init__(self, message: str, created: list[object]) -> None:
        super().__init__(message)
        self.created = created


class ProtectedError(LimpydError):
    """A delete refused: a relation with ``on_delete="protect"`` points to the instance, which was
    not deleted, nor anything of its cascade. ``deleted``: how many other instances a bulk delete
    (``Collection.delete()``) did delete before raising; ``reason``: why the instance was kept."""

    def __init__(self, reason: str, deleted: int = 0, others: str = "") -> None:
        # others: what the deleted ones were ("matching instance(s)"), said when a bulk delete raises
        super().__init__(f"{reason}; {deleted} other {others} were deleted" if others else reason)
        self.reason = reason
        self.deleted = deleted


class InvalidValue(LimpydError, TypeError, ValueError):
    """A value does not fit its field's type; raised before anything reaches Redis."""


class CommandError(LimpydError):
    """Redis refused a command (LSET out of range, an increment overflowing...); nothing was written."""


class QueryError(LimpydError):
    """A collection asks for something the indexes cannot answer."""


class MultipleObjectsReturned(LimpydError):
    """``Model.get(**filters)`` matched more than one instance."""


class PipelineError(LimpydError):
    """A pipeline was used in a way that cannot work (a method needing two round trips, a value
    read before the pipeline ran, a pipeline used from another thread...); nothing was sent for it."""


class TransactionError(LimpydError):
    """A transaction gave up: its watched keys kept changing through every retry."""
