"""Rate limits kept in the database, so they hold across every gunicorn worker and server.

Two kinds: counted events in a sliding window (sign-ups, code guesses, reset requests, failed
sign-ins per client address), and the failed sign-ins of one e-mail address, counted the same way
whether or not an account exists, so that neither the answers nor the lock tell which one does.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from models import LoginThrottle, ThrottleEvent
from models.prepared import prepared
from services.core import clock
from services.core.transactions import lock_name


@dataclass(frozen=True)
class Limit:
    """At most `count` events of `kind` per client address or per e-mail address within `window`."""

    kind: str
    count: int
    window: dt.timedelta
    by: str  # "ip" or "email"


# Failed sign-ins from one client address (any accounts).
LOGIN_PER_IP = Limit("login", 30, dt.timedelta(minutes=15), "ip")
# Sign-up requests and new codes: per address they go to, and per client address.
SIGNUP_PER_EMAIL = Limit("signup", 3, dt.timedelta(hours=1), "email")
SIGNUP_PER_IP = Limit("signup", 10, dt.timedelta(hours=1), "ip")
# Wrong codes typed: per e-mail address (across codes) and per client address.
CODE_PER_EMAIL = Limit("code", 10, dt.timedelta(hours=1), "email")
CODE_PER_IP = Limit("code", 30, dt.timedelta(minutes=15), "ip")
# Reset links asked: per address and per client address (beyond, nothing is sent; same answer).
RESET_PER_EMAIL = Limit("reset", 3, dt.timedelta(hours=1), "email")
RESET_PER_IP = Limit("reset", 10, dt.timedelta(hours=1), "ip")

THROTTLE_AFTER = 5  # failed sign-ins of one address before each attempt must wait
LOCK_AFTER = 10  # failed sign-ins of one address before it locks
LOCK_DURATION = dt.timedelta(minutes=15)


def record(kind: str, ip: str = "", email: str = "") -> None:
    """Count one event (call inside the write transaction of the attempt)."""
    ThrottleEvent.create(kind=kind, ip=(ip or "")[:64], email=(email or "")[:255], at=clock.local_now())


def count(limit: Limit, ip: str = "", email: str = "") -> int:
    """Events of this limit's kind for the client address or e-mail address within its window."""
    key = ip if limit.by == "ip" else email
    if not key:
        return 0
    field = ThrottleEvent.ip if limit.by == "ip" else ThrottleEvent.email
    return (ThrottleEvent.select()
            .where((ThrottleEvent.kind == limit.kind) & (field == key)
                   & (ThrottleEvent.at > clock.local_now() - limit.window)).count())


def since_last(kind: str, reset_kind: str, email: str) -> int:
    """Events of `kind` for an address since its last `reset_kind` event (e.g. guesses since the last code)."""
    last = (ThrottleEvent.select(ThrottleEvent.id).where((ThrottleEvent.kind == reset_kind) & (ThrottleEvent.email == email))
            .order_by(ThrottleEvent.id.desc()).scalar()) or 0
    return ThrottleEvent.select().where((ThrottleEvent.kind == kind) & (ThrottleEvent.email == email)
                                        & (ThrottleEvent.id > last)).count()


def exceeded(limit: Limit, ip: str = "", email: str = "") -> bool:
    return count(limit, ip=ip, email=email) >= limit.count


# --- Failed sign-ins of one e-mail address -------------------------------------------------------


@dataclass(frozen=True)
class LoginState:
    """Where an address stands: locked until, or must wait until (None when free)."""

    locked_until: dt.datetime | None = None
    wait_until: dt.datetime | None = None


def login_state(email: str) -> LoginState:
    """The lock or wait imposed on an address now (same rules for unknown addresses)."""
    row = LoginThrottle.get_or_none(LoginThrottle.email == email) if email else None
    now = clock.local_now()
    if row is None:
        return LoginState()
    if row.locked_until and now < row.locked_until:
        return LoginState(locked_until=row.locked_until)
    delay = wait_after(row.failures)
    if delay and row.last_failure_at and now < row.last_failure_at + delay:
        return LoginState(wait_until=row.last_failure_at + delay)
    return LoginState()


def wait_after(failures: int) -> dt.timedelta:
    """Wait imposed before the next attempt after `failures` failures (2, 4, 8… seconds from the 5th)."""
    if failures < THROTTLE_AFTER:
        return dt.timedelta(0)
    return dt.timedelta(seconds=2 ** (failures - THROTTLE_AFTER + 1))


def login_failed(email: str) -> bool:
    """Count a failed sign-in for an address (inside the write transaction); True when it now locks."""
    now = clock.local_now()
    if not email:
        return False
    lock_name(f"compte:{email}")  # failures sent in parallel are all counted (no lost update)
    LoginThrottle.insert(email=email[:255], failures=0).on_conflict_ignore().execute()
    row = LoginThrottle.get(LoginThrottle.email == email[:255])
    row.failures += 1
    row.last_failure_at = now
    locked = row.failures >= LOCK_AFTER
    if locked:
        row.locked_until, row.failures = now + LOCK_DURATION, 0
    row.save()
    return locked


_clear = prepared(lambda email: LoginThrottle.delete().where(LoginThrottle.email == email))


def login_cleared(email: str) -> None:
    """A successful sign-in or a new password through a link: the address starts afresh."""
    _clear.say(email)  # nobody reads how many rows went: on PostgreSQL, no round trip of its own
