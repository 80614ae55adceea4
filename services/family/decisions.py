"""The rule every bulk staff decision shares (files, changes, documents, closures): something ticked
and, to refuse, a reason the family will read. A leaf module: it imports no other module of the area."""
from __future__ import annotations

from services.core.errors import InvalidInput


class ReasonRequired(InvalidInput):
    """A refusal needs a reason the parent will read."""


def check_decision(ids: list[int], accept: bool, reason: str, none_checked: str) -> str:
    """A bulk decision needs at least one object and, to refuse, a reason; returns the cleaned reason."""
    reason = (reason or "").strip()
    if not ids:
        raise InvalidInput(none_checked, field="ids")
    if not accept and not reason:
        raise ReasonRequired("Indiquez le motif du refus : la famille le lira.", field="reason")
    return reason
