"""Invoicing periods (régie × month): when a month may be invoiced, and what closing it locks.

A month may be invoiced once it is over, or earlier once staff close it (« Clôturer la période »);
requesting a run closes it too. A closed month locks its days for parents (no booking, no
cancellation, for the activities of that régie): the rules engine shows « Clôturé » and placement
refuses with frozen_days.CLOSED_MESSAGE. Staff at the desk may still book or cancel a day of a closed month for a
household that has no invoice of that régie and month yet (the next run of the period bills it); once
that household's invoice exists, any change is refused (frozen_days.PeriodInvoiced): a day is never booked into an
issued invoice without being billed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from models import Activity, ClosedPeriod, InvoicePeriodLock, InvoicingRun, Regie, Unit, User
from services.core import clock, formatting
from services.core.errors import DomainError
from services.core.transactions import lock_rows, write_transaction

ACTIVE_RUN = ("queued", "running")


class PeriodError(DomainError):
    """A period (régie × month) cannot be closed, reopened or invoiced."""


class InvalidPeriod(PeriodError):
    pass


class PeriodNotOver(PeriodError):
    """The month is not over and not closed: invoicing it now would miss its last days."""


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    """First and last day of a month; a month outside 1…12 or a silly year is refused."""
    if not (1 <= month <= 12) or not (2000 <= year <= 2100):
        raise InvalidPeriod("Choisissez un mois et une année valides.", "month")
    start = dt.date(year, month, 1)
    end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return start, end


def closure_of(regie: Regie, period_start: dt.date) -> ClosedPeriod | None:
    return ClosedPeriod.get_or_none((ClosedPeriod.regie == regie.id) & (ClosedPeriod.period_start == period_start))


def is_over(period_end: dt.date, today: dt.date | None = None) -> bool:
    return (today or clock.today()) > period_end


def check_invoiceable(regie: Regie, start: dt.date, end: dt.date, today: dt.date | None = None) -> None:
    """PeriodNotOver unless the month is over or closed."""
    if not is_over(end, today) and closure_of(regie, start) is None:
        raise PeriodNotOver(f"{formatting.month_label(start).capitalize()} n'est pas terminé (jusqu'au "
                            f"{end:%d/%m/%Y}) : clôturez la période pour le facturer dès maintenant, ou "
                            "attendez la fin du mois.")


def close_period(regie: Regie, year: int, month: int, user: User | None = None) -> ClosedPeriod:
    """Close a started month of a régie for invoicing (idempotent): its days are locked for parents."""
    start, _end = month_bounds(year, month)
    if clock.today() < start:
        raise PeriodError(f"{formatting.month_label(start).capitalize()} n'a pas commencé : on ne clôture qu'un mois commencé.")
    with write_transaction():
        _lock_regie_units(regie)
        existing = closure_of(regie, start)
        if existing is not None:
            return existing
        return ClosedPeriod.create(regie=regie, period_start=start, closed_at=clock.local_now(), closed_by=user)


def reopen_period(regie: Regie, year: int, month: int) -> None:
    """Reopen a closed month, as long as nothing of it is invoiced and no run is under way."""
    start, _end = month_bounds(year, month)
    with write_transaction():
        _lock_regie_units(regie)
        if InvoicingRun.select().where((InvoicingRun.regie == regie.id) & (InvoicingRun.period_start == start)
                                       & InvoicingRun.status.in_(ACTIVE_RUN)).exists():
            raise PeriodError("Une facturation de cette période est en cours : elle ne peut pas être rouverte.")
        if InvoicePeriodLock.select().where((InvoicePeriodLock.regie == regie.id)
                                            & (InvoicePeriodLock.period_start == start)).exists():
            raise PeriodError(f"Des factures de {formatting.month_label(start)} sont émises : la période reste clôturée "
                              "(corrigez par des avoirs).")
        ClosedPeriod.delete().where((ClosedPeriod.regie == regie.id) & (ClosedPeriod.period_start == start)).execute()


def _lock_regie_units(regie: Regie) -> None:
    """On PostgreSQL, wait for bookings being placed on this régie's units (placement locks them too)."""
    lock_rows(Unit, [u.id for u in Unit.select(Unit.id).join(Activity).where(Activity.regie == regie.id)])


@dataclass
class PeriodState:
    """Where a régie's month stands: over, closed, invoiced, a run under way."""

    regie: Regie
    start: dt.date
    end: dt.date
    closure: ClosedPeriod | None
    over: bool
    invoiced: bool  # at least one household has its invoice of this month
    running: bool  # a run is queued or running

    @property
    def label(self) -> str:
        return formatting.month_label(self.start)

    @property
    def invoiceable(self) -> bool:
        return self.over or self.closure is not None

    @property
    def can_close(self) -> bool:
        return self.closure is None and not self.over and clock.today() >= self.start

    @property
    def can_reopen(self) -> bool:
        return self.closure is not None and not self.invoiced and not self.running


def period_state(regie: Regie, year: int, month: int) -> PeriodState:
    start, end = month_bounds(year, month)
    invoiced = InvoicePeriodLock.select().where((InvoicePeriodLock.regie == regie.id)
                                                & (InvoicePeriodLock.period_start == start)).exists()
    running = InvoicingRun.select().where((InvoicingRun.regie == regie.id) & (InvoicingRun.period_start == start)
                                          & InvoicingRun.status.in_(ACTIVE_RUN)).exists()
    return PeriodState(regie, start, end, closure_of(regie, start), is_over(end), invoiced, running)

