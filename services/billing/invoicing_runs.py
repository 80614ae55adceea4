"""The monthly invoicing run as a job: requested by staff (or `flask invoice`), done by the worker.

request_run() checks the period (over, or closed), closes it, and writes an InvoicingRun « queued »;
only one run per régie × month is queued or running at a time. execute_run() (the huey task, or the
terminal in the foreground) takes the households with consumptions in id order and issues each one's
invoice in its own write transaction, which also moves the run's counters and cursor: a killed worker
leaves no half-written invoice and exact progress. A failed run, or one whose worker stopped giving
signs of life, is resumed with resume_run(): it goes on after its cursor, and a household already
invoiced (InvoicePeriodLock) is skipped, so there is no duplicate and no gap.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from peewee import IntegrityError

from models import (
    Activity,
    Attendance,
    Booking,
    Child,
    DirectDebitMandate,
    Household,
    Invoice,
    InvoicePeriodLock,
    InvoicingRun,
    Regie,
    Unit,
    User,
)
from models.prepared import prepared
from services.billing import billing_periods, invoicing
from services.billing import invoicing_queries as queries
from services.billing.invoice_numbers import CODE_PATTERN, NumberingError
from services.core import clock, events, formatting
from services.core.errors import DomainError, NotFound
from services.core.transactions import as_datetime, lock_rows, write_transaction

log = logging.getLogger("portail.invoicing")

ACTIVE = ("queued", "running")
STALL_AFTER = dt.timedelta(minutes=2)  # no sign of life for that long: the worker was stopped
SKIP_BATCH = 500  # households already invoiced are recorded this many at a time
READ_AHEAD = 200  # households, children, payers, mandates and addresses are read for this many households at a time


class RunRefused(DomainError):
    """An invoicing run cannot be started or resumed."""


class RunInProgress(RunRefused):
    pass


class _Superseded(Exception):
    """The run was resumed by someone else (a newer attempt): this worker stops."""


@dataclass
class RunProgress:
    """What the pages and the terminal show of a run."""

    run: InvoicingRun
    stalled: bool  # queued or running, but no sign of life for STALL_AFTER

    @property
    def active(self) -> bool:
        return self.run.status in ACTIVE and not self.stalled

    @property
    def can_resume(self) -> bool:
        return self.run.status == "failed" or self.stalled

    @property
    def percent(self) -> int:
        total = self.run.households_total
        return 100 if self.run.status == "done" else (self.run.households_done * 100 // total if total else 0)

    @property
    def status_label(self) -> str:
        if self.stalled:
            return "Interrompue" if self.run.status == "running" else "En attente du travailleur"
        return InvoicingRun.STATUSES.get(self.run.status, self.run.status)

    @property
    def period_label(self) -> str:
        return formatting.month_label(self.run.period_start)


def progress(run: InvoicingRun, now: dt.datetime | None = None) -> RunProgress:
    now = now or clock.local_now()
    seen = run.heartbeat_at or run.requested_at
    return RunProgress(run, run.status in ACTIVE and seen is not None and now - as_datetime(seen) > STALL_AFTER)


def get_run(run_id: int) -> InvoicingRun:
    run = InvoicingRun.get_or_none(InvoicingRun.id == run_id)
    if run is None:
        raise NotFound("Cette facturation n'existe pas.")
    return run


def latest_run(regie: Regie, period_start: dt.date) -> InvoicingRun | None:
    return (InvoicingRun.select().where((InvoicingRun.regie == regie.id) & (InvoicingRun.period_start == period_start))
            .order_by(InvoicingRun.id.desc()).first())


def run_invoices(run: InvoicingRun, limit: int | None = None) -> list[Invoice]:
    query = Invoice.select(Invoice, Household).join(Household).where(Invoice.run == run.id).order_by(Invoice.number)
    return list(query.limit(limit) if limit else query)


# --- Requesting, resuming -------------------------------------------------------------------------


def request_run(regie: Regie, year: int, month: int, user: User | None = None, *, origin: str = "web") -> InvoicingRun:
    """Queue the run of a régie's month (the caller then hands it to the worker); the month gets closed."""
    start, end = billing_periods.month_bounds(year, month)
    if not CODE_PATTERN.fullmatch(regie.code or ""):
        raise NumberingError(f"La régie « {regie.name} » n'a pas de code valide : indiquez-le dans ses réglages de "
                             "facturation avant d'émettre.")
    now = clock.local_now()
    with write_transaction():
        lock_rows(Regie, [regie.id])  # two requests for one régie wait for each other (SQLite: the write lock)
        running = (InvoicingRun.select().where((InvoicingRun.regie == regie.id) & (InvoicingRun.period_start == start)
                                               & InvoicingRun.status.in_(ACTIVE)).first())
        if running is not None:
            raise RunInProgress(f"Une facturation de {formatting.month_label(start)} est déjà en cours pour cette "
                                f"régie ({running.households_done} / {running.households_total} foyers).")
        billing_periods.check_invoiceable(regie, start, end)
        billing_periods.close_period(regie, year, month, user)
        return InvoicingRun.create(regie=regie, period_start=start, requested_by=user, origin=origin,
                                   requested_at=now, heartbeat_at=now, status="queued")


def resume_run(run: InvoicingRun) -> InvoicingRun:
    """Queue again a failed run, or one whose worker stopped (the caller hands it to the worker)."""
    with write_transaction():
        fresh = get_run(run.id)
        if not progress(fresh).can_resume:
            raise RunRefused("Cette facturation est en cours ou terminée : il n'y a rien à reprendre.")
        InvoicingRun.update(status="queued", error="", heartbeat_at=clock.local_now(), finished_at=None).where(
            InvoicingRun.id == run.id).execute()
    return get_run(run.id)


# --- Doing it -----------------------------------------------------------------------------------------


def execute_run(run_id: int, on_progress: Callable[[int, int, int], None] | None = None) -> InvoicingRun:
    """Do a queued run (the worker's task): one transaction per household; `on_progress(done, total,
    issued)` after each. A failure is recorded on the run (« Échec », resumable), not raised."""
    attempt = _claim(run_id)
    if attempt is None:  # already taken by another worker, done, or not queued
        return get_run(run_id)
    events.emit("invoicing_run_started", run=run_id, attempt=attempt)
    try:
        _work(get_run(run_id), attempt, on_progress)
    except _Superseded:
        log.info("facturation %s reprise ailleurs : ce travailleur s'arrête", run_id)
    except Exception as error:  # noqa: BLE001 - recorded on the run, which staff can resume
        log.exception("facturation %s en échec", run_id)
        message = error.message if isinstance(error, DomainError) else f"Erreur inattendue : {error}"
        _finish(run_id, attempt, "failed", message)
        events.emit("invoicing_run_failed", run=run_id, attempt=attempt, error=type(error).__name__)
    else:
        run = get_run(run_id)
        events.emit("invoicing_run_finished", run=run_id, status=run.status, invoices=run.invoices_issued,
                    amount=run.amount_issued)
    return get_run(run_id)


def _claim(run_id: int) -> int | None:
    """Move a queued run to running with a new attempt number (None if it is not queued)."""
    now = clock.local_now()
    with write_transaction():
        run = InvoicingRun.get_or_none(InvoicingRun.id == run_id)
        if run is None or run.status != "queued":
            return None
        attempt = run.attempt + 1
        InvoicingRun.update(status="running", attempt=attempt, heartbeat_at=now, error="",
                            started_at=run.started_at or now).where(
            (InvoicingRun.id == run_id) & (InvoicingRun.status == "queued")).execute()
    return attempt


def _work(run: InvoicingRun, attempt: int, on_progress) -> None:
    start, end = billing_periods.month_bounds(run.period_start.year, run.period_start.month)
    households = _households_to_invoice(run.regie_id, start, end, after=run.cursor)
    invoiced = _already_invoiced(run.regie_id, start, households)
    done, total, issued = run.households_done, run.households_done + len(households), run.invoices_issued
    _update(run.id, attempt, households_total=total)
    # Read once for the run: the régie's units (locked per household), then units and tariff bands
    # (collect's cache) and, READ_AHEAD at a time, households, children, payers, mandates and addresses.
    shared: dict = {"unit_ids": [u.id for u in Unit.select(Unit.id).join(Activity).where(Activity.regie == run.regie_id)]}
    skips: list[int] = []
    for index, household_id in enumerate(households):
        if index % READ_AHEAD == 0:  # who they are (not what they consumed) read for the next households at once
            _read_ahead(shared, households[index:index + READ_AHEAD])
        if household_id in invoiced:
            skips.append(household_id)  # invoiced before this run: recorded in batches, not one by one
            if len(skips) >= SKIP_BATCH:
                done, skips = done + _record_skips(run.id, attempt, skips), []
            continue
        if skips:
            done, skips = done + _record_skips(run.id, attempt, skips), []
        invoice = _issue_household(run, attempt, household_id, start, end, shared)
        done, issued = done + 1, issued + (invoice is not None)
        if on_progress:
            on_progress(done, total, issued)
    if skips:
        done += _record_skips(run.id, attempt, skips)
    if on_progress:
        on_progress(done, total, issued)
    _finish(run.id, attempt, "done")


def _households_to_invoice(regie_id: int, start: dt.date, end: dt.date, after: int = 0) -> list[int]:
    """Ids (ascending, above `after`) of the households with consumptions of the régie in the period:
    the same rows as invoicing.collect reads."""
    booked = (Booking.select(Booking.household).join(Unit).join(Activity)
              .where((Activity.regie == regie_id) & Booking.date.between(start, end) & (Booking.status == "booked")
                     & (Booking.prepaid == False) & (Booking.household > after))  # noqa: E712
              .distinct().tuples())
    present = (Attendance.select(Attendance.household).join(Unit).join(Activity)
               .where((Activity.regie == regie_id) & Attendance.date.between(start, end) & (Attendance.household > after))
               .distinct().tuples())
    return sorted({row[0] for row in booked} | {row[0] for row in present})


def _read_ahead(shared: dict, households: list[int]) -> None:
    """Households, children, payers, SEPA mandates and e-mail addresses of the next households: a few
    queries, not six per household. Their bookings and pointages are read in each one's own transaction."""
    shared["households"] = {h.id: h for h in Household.select().where(Household.id.in_(households))}
    shared["children"] = {c.id: c for c in Child.select().where(Child.household.in_(households))}
    shared["payers"] = invoicing.payers_of(households)
    shared["debit"] = {row[0] for row in DirectDebitMandate.select(DirectDebitMandate.household)
                       .where(DirectDebitMandate.household.in_(households) & DirectDebitMandate.active).tuples()}
    shared["emails"] = Household.parent_emails_of(households)


def _already_invoiced(regie_id: int, start: dt.date, households: list[int]) -> set[int]:
    rows = (InvoicePeriodLock.select(InvoicePeriodLock.household)
            .where((InvoicePeriodLock.regie == regie_id) & (InvoicePeriodLock.period_start == start)).tuples())
    wanted = set(households)
    return {row[0] for row in rows if row[0] in wanted}


def _issue_household(run: InvoicingRun, attempt: int, household_id: int, start: dt.date, end: dt.date,
                     shared: dict) -> Invoice | None:
    """One household: its draft read and its invoice written in one transaction with the run's counters
    (read inside, so a day booked at the desk a moment ago is on the invoice, or waits for the next run)."""
    try:
        with write_transaction():
            # PostgreSQL: the régie's units, as placement and staff decisions lock them, so a booking being
            # made for this family is either committed and read here, or made after and sees the invoice.
            lock_rows(Unit, shared["unit_ids"])
            invoice = None
            drafts = invoicing.collect(start, end, regie=run.regie, households=[household_id], shared=shared)
            draft = drafts.get(household_id)
            if draft is not None and draft.amount > 0:
                payer = shared["payers"].get(household_id, (draft.household.name, ""))
                # No savepoint (two round trips less on PostgreSQL): a clash undoes this whole transaction.
                invoice = invoicing.issue_invoice(run.regie, draft.household, start, end, draft.lines, run.requested_by,
                                                  payer=payer, direct_debit=household_id in shared["debit"],
                                                  emails=shared["emails"].get(household_id), run=run, savepoint=False)
            _count_household(run.id, attempt, household_id, invoice)
    except IntegrityError:
        if queries.period_lock.scalar(run.regie_id, household_id, start) is None:
            raise  # not the household's invoice issued meanwhile: a real fault
        with write_transaction():  # issued by someone else since the run started: skipped
            _count_household(run.id, attempt, household_id, None)
        return None
    return invoice


def _count_household(run_id: int, attempt: int, household_id: int, invoice: Invoice | None) -> None:
    """_update() for one household done, its invoice or a skip."""
    if not _one_more_household.execute(run_id, attempt, household_id, int(invoice is not None),
                                       invoice.amount if invoice else 0, int(invoice is None), clock.local_now()):
        raise _Superseded()


@prepared
def _one_more_household(run, attempt, household, issued, amount, skipped, now):
    """_update() of one household done (every household of a run moves it: composed once per process)."""
    return (InvoicingRun.update(households_done=InvoicingRun.households_done + 1, cursor=household,
                                invoices_issued=InvoicingRun.invoices_issued + issued,
                                amount_issued=InvoicingRun.amount_issued + amount,
                                skipped=InvoicingRun.skipped + skipped, heartbeat_at=now)
            .where(_owned_by(run, attempt)))


def _record_skips(run_id: int, attempt: int, households: list[int]) -> int:
    with write_transaction():
        _update(run_id, attempt, households_done=InvoicingRun.households_done + len(households),
                skipped=InvoicingRun.skipped + len(households), cursor=max(households))
    return len(households)


def _update(run_id: int, attempt: int, **values) -> None:
    """Move the run's counters, if this attempt still owns it (else _Superseded: the transaction rolls back)."""
    values["heartbeat_at"] = clock.local_now()
    if not InvoicingRun.update(**values).where(_owned_by(run_id, attempt)).execute():
        raise _Superseded()


def _owned_by(run_id, attempt):
    """The run's row, while this attempt still owns it."""
    return (InvoicingRun.id == run_id) & (InvoicingRun.attempt == attempt) & (InvoicingRun.status == "running")


def _finish(run_id: int, attempt: int, status: str, error: str = "") -> None:
    now = clock.local_now()
    with write_transaction():
        InvoicingRun.update(status=status, error=error[:2000], finished_at=now, heartbeat_at=now).where(
            _owned_by(run_id, attempt)).execute()


# --- In the foreground (terminal, demo, benchmark) ----------------------------------------------------


@dataclass
class RunResult:
    run: InvoicingRun
    issued: list[Invoice]
    skipped: int  # households already invoiced, or with nothing to invoice


def issue_run(regie: Regie, year: int, month: int, user: User | None = None, *, close: bool = False,
              origin: str = "terminal", on_progress=None) -> RunResult:
    """Do a run now, in this process: resumes the period's failed or stopped run, else requests one.
    `close` closes the period first (to invoice a month before its end)."""
    start, _end = billing_periods.month_bounds(year, month)
    if close:
        billing_periods.close_period(regie, year, month, user)
    previous = latest_run(regie, start)
    if previous is not None and progress(previous).can_resume:
        run = resume_run(previous)
    else:
        run = request_run(regie, year, month, user, origin=origin)
    run = execute_run(run.id, on_progress)
    if run.status == "failed":
        raise RunRefused(run.error or "La facturation a échoué.")
    return RunResult(run, run_invoices(run), run.skipped)

