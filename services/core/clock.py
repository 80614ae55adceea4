"""The one clock of the application: "now" in Europe/Paris, freezable for tests and demos."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

_frozen: dt.datetime | None = None


class FrozenClockRefused(RuntimeError):
    """PORTAIL_NOW was set on a production instance."""


def parse_frozen(value: str) -> dt.datetime:
    """Parse an ISO datetime ("2026-11-19T17:55") as a Europe/Paris time."""
    moment = dt.datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.astimezone(PARIS)


def freeze(moment: dt.datetime | str | None) -> None:
    """Freeze the clock at a moment (naive values are Paris time); None unfreezes it."""
    global _frozen
    if moment is None:
        _frozen = None
    elif isinstance(moment, str):
        _frozen = parse_frozen(moment)
    elif moment.tzinfo is None:
        _frozen = moment.replace(tzinfo=PARIS)
    else:
        _frozen = moment.astimezone(PARIS)


def is_frozen() -> bool:
    return _frozen is not None


def now() -> dt.datetime:
    """The current time, aware, in Europe/Paris."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(PARIS)


def local_now() -> dt.datetime:
    """The current Paris wall-clock time without tzinfo, as stored in the database."""
    return now().replace(tzinfo=None)


def today() -> dt.date:
    return now().date()


def to_local_naive(moment: dt.datetime) -> dt.datetime:
    """An aware datetime as a naive Paris wall-clock time (the storage convention)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(PARIS).replace(tzinfo=None)


def _register_with_models() -> None:
    """Model defaults (created_at…) read this clock; models never import services."""
    from models import base
    base.set_clock(local_now)


_register_with_models()
