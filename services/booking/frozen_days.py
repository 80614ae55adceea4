"""Days that billing has frozen, as booking sees them: the closed months of a régie (no change by
parents) and the months already invoiced for a household (no change by anyone: correct with an avoir).
Closing and reopening a month is billing's work (services/billing/billing_periods.py); this leaf only reads.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from models import ClosedPeriod, Invoice, InvoicePeriodLock, Unit
from services.core import config_cache, formatting
from services.core.errors import DomainError
from services.core.transactions import as_date

CLOSED_MESSAGE = "Ce mois est clôturé pour la facturation : contactez la mairie."


class PeriodInvoiced(DomainError):
    """The household already has the invoice of this régie and month: its days can no longer change."""


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def closed_months(regie_ids: Iterable[int | None], start: dt.date, end: dt.date) -> set[tuple[int, dt.date]]:
    """(régie id, first day of month) of the closed months between start and end (configuration cache)."""
    ids = [i for i in set(regie_ids) if i]
    if not ids:
        return set()
    first, wanted = month_start(start), set(ids)
    return {(regie_id, day) for regie_id, day in config_cache.cached("closed_periods", _closed_periods)
            if regie_id in wanted and first <= day <= end}


def _closed_periods() -> list[tuple[int, dt.date]]:
    return [(regie_id, as_date(day)) for regie_id, day
            in ClosedPeriod.select(ClosedPeriod.regie, ClosedPeriod.period_start).tuples()]


def invoice_for(household_id: int, regie_id: int | None, day: dt.date) -> Invoice | None:
    """The household's invoice of this régie for the month of `day`, if issued."""
    if not regie_id:
        return None
    lock = (InvoicePeriodLock.select(InvoicePeriodLock, Invoice).join(Invoice)
            .where((InvoicePeriodLock.household == household_id) & (InvoicePeriodLock.regie == regie_id)
                   & (InvoicePeriodLock.period_start == month_start(day))).first())
    return lock.invoice if lock else None


def check_not_invoiced(household_id: int, unit: Unit, day: dt.date) -> None:
    """PeriodInvoiced if the household's invoice for this unit's régie and month is issued."""
    invoice = invoice_for(household_id, unit.activity.regie_id, day)
    if invoice is not None:
        raise PeriodInvoiced(f"{formatting.month_label(month_start(day)).capitalize()} est déjà facturé pour ce foyer "
                             f"(facture {invoice.number}) : ce jour ne peut plus changer (corrigez par un avoir).")
