"""Monthly invoicing per régie: consumptions → preview → issued invoices, credit notes.

Consumptions are the booked days of the régie's units in the period (priced by services.booking.pricing),
plus presences without booking as each unit says. An invoice is issued in one transaction that
also bumps the régie's counter row (locked), so numbers are gapless and chronological
(services.billing.invoice_numbers); a unique row per régie × household × month makes a second or restarted
run skip what is already issued. Issued invoices are never edited: a correction is a credit note
(avoir) with its own number. The run itself, as a background job, is services.billing.invoicing_runs.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from babel.dates import format_date
from peewee import IntegrityError

from models import (
    Activity,
    Attendance,
    Booking,
    Child,
    DirectDebitMandate,
    Guardian,
    Household,
    Invoice,
    InvoiceLine,
    InvoicePeriodLock,
    InvoicingRun,
    Regie,
    TariffBand,
    Unit,
    User,
)
from models.prepared import run_insert
from services.billing import attendance_billing, billing_periods, forfaits, invoice_mail, ledger
from services.billing import invoicing_queries as queries
from services.billing.invoice_numbers import next_number
from services.booking import pricing
from services.core import clock, formatting
from services.core.errors import DomainError
from services.core.transactions import as_date, in_write_transaction, is_sqlite, write_transaction

LOCALE = "fr_FR"


class InvoicingError(DomainError):
    """An invoicing action was refused."""


class AlreadyInvoiced(InvoicingError):
    """This household already has an invoice of this régie for this month."""


class InvalidCredit(InvoicingError):
    pass


# --- Small helpers ------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def day_label(day: dt.date) -> str:
    """'lun. 2 nov.' as on the seed invoices."""
    return format_date(day, "EEE d MMM", locale=LOCALE)


def days_text(days: Iterable[dt.date]) -> str:
    return ", ".join(day_label(day) for day in sorted(days))


def band_label(unit: Unit, bands: list[TariffBand], quotient: int | None, pai: bool) -> str:
    """Which tariff applied, in words, for the invoice and the PDF."""
    if pai:
        return "Tarif PAI (panier repas)"
    if quotient is None:
        return "QF inconnu : tarif de base"
    for band in sorted(bands, key=lambda b: b.qf_min):
        if band.qf_min <= quotient and (band.qf_max is None or quotient < band.qf_max):
            if band.qf_max is None:
                return f"QF à partir de {band.qf_min} €"
            return f"QF de {band.qf_min} à {band.qf_max - 1} €"
    return "Tarif de base"


# --- Consumptions ---------------------------------------------------------------------------------


@dataclass
class DraftLine:
    child: Child
    unit: Unit
    heading: str
    label: str
    band: str
    unit_price: int
    days: list[dt.date] = field(default_factory=list)

    @property
    def quantity(self) -> int:
        return len(self.days)

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity

    @property
    def days_text(self) -> str:
        return days_text(self.days)

    @property
    def summary(self) -> str:
        """'Repas 2,90 € × 17 = 49,30 €'."""
        return (f"{self.label} {formatting.money(self.unit_price)} × {self.quantity} = "
                f"{formatting.money(self.amount)}")


@dataclass
class Draft:
    """What one household would be invoiced for one régie and period."""

    household: Household
    lines: list[DraftLine] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    existing: Invoice | None = None

    @property
    def amount(self) -> int:
        return sum(line.amount for line in self.lines)


class _Catalogue:
    """Units, activities, bands and children loaded once for a whole collect (no query per booking).

    `shared` (a dict kept by a run across its households) keeps units and bands between calls, and
    may hold children and households the run read ahead ("children", "households": id → row)."""

    def __init__(self, unit_ids: Iterable[int], child_ids: Iterable[int], shared: dict | None = None):
        unit_ids, child_ids = set(unit_ids), set(child_ids)
        shared = {} if shared is None else shared
        units, bands = shared.setdefault("units", {}), shared.setdefault("bands", {})
        missing = [i for i in unit_ids if i not in units]
        if missing:
            fresh = {u.id: u for u in Unit.select(Unit, Activity).join(Activity).where(Unit.id.in_(missing))}
            units.update(fresh)
            bands.update(pricing.bands_by_unit(fresh))
        self.units, self.bands = units, bands
        known = shared.get("children", {})
        self.children = {i: known[i] for i in child_ids if i in known}
        missing = [i for i in child_ids if i not in known]
        if missing:
            self.children.update({c.id: c for c in Child.select().where(Child.id.in_(missing))})


def _charge(booking: Booking, unit: Unit, household: Household, child: Child, bands) -> tuple[str, int]:
    """(label, cents) for one booked day, through services.booking.pricing.booking_charge."""
    if booking.price is None:
        booking.price = pricing.unit_price(unit, household, child, late=booking.late, bands=bands)
    booking.unit, booking.household, booking.child = unit, household, child
    amount = pricing.booking_charge(booking)
    if booking.attendance == "absent_justified":
        return f"{unit.name} – absence justifiée (non facturée)", 0
    if booking.attendance == "absent":
        fee = unit.absence_fee or 0
        suffix = f" (pénalité de {formatting.money(fee)} incluse)" if fee else ""
        return f"{unit.name} – absence non justifiée{suffix}", amount
    if booking.late and unit.late_surcharge:
        return f"{unit.name} – réservé hors délai (majoration de {formatting.money(unit.late_surcharge)} incluse)", amount
    return unit.name, amount


def collect(start: dt.date, end: dt.date, *, regie: Regie | None = None,
            households: Iterable[int] | None = None, today: dt.date | None = None,
            shared: dict | None = None) -> dict[int, Draft]:
    """Drafts per household for the booked days (and presences without booking) in [start, end].

    `regie` limits to its activities; `households` to some household ids; `today` (default: the
    clock) decides which past booked days lack a pointage (an anomaly for staff); `shared` caches
    units and bands across calls (see _Catalogue).
    """
    today = today or clock.today()
    if regie is not None and households is not None:  # a run's household: SQL composed once per process
        ids = list(households)
        bookings = queries.booked_of(regie.id, ids, start, end)
        presences = queries.presences_of(regie.id, ids, start, end)
    else:
        query, presences = queries.booked(start, end), queries.presences(start, end)
        if regie is not None:
            query = query.where(Activity.regie == regie)
            presences = presences.where(Activity.regie == regie)
        if households is not None:
            ids = list(households)
            query = query.where(Booking.household.in_(ids))
            presences = presences.where(Attendance.household.in_(ids))
        bookings, presences = list(query.order_by(*queries.BOOKED_ORDER)), list(presences)
    catalogue = _Catalogue({b.unit_id for b in bookings} | {p.unit_id for p in presences},
                           {b.child_id for b in bookings} | {p.child_id for p in presences}, shared)
    household_ids = {b.household_id for b in bookings} | {p.household_id for p in presences}
    known = (shared or {}).get("households", {})
    household_rows = {i: known[i] for i in household_ids if i in known}
    missing = [i for i in household_ids if i not in known]
    if missing:
        household_rows.update({h.id: h for h in Household.select().where(Household.id.in_(missing))})
    # Abonnements with a monthly forfait: their days become one line per child × unit (services/billing/forfaits.py).
    bookings, forfait_lines = forfaits.take_forfait_days(bookings, start, catalogue.units, catalogue.children,
                                                         household_rows, catalogue.bands)

    drafts: dict[int, Draft] = {}
    grouped: dict[tuple, DraftLine] = {}
    unpointed: dict[tuple, list[dt.date]] = defaultdict(list)

    def line_for(household, child, unit, label, price) -> DraftLine:
        key = (household.id, child.id, unit.id, label, price)
        line = grouped.get(key)
        if line is None:
            heading = f"{unit.activity.name}, {formatting.month_label(start)}"
            band = band_label(unit, catalogue.bands.get(unit.id, []), household.quotient_familial,
                              child.has_pai and unit.pai_price is not None)
            line = grouped[key] = DraftLine(child, unit, heading, label, band, price)
            drafts.setdefault(household.id, Draft(household)).lines.append(line)
        return line

    for booking in bookings:
        household = household_rows[booking.household_id]
        unit = catalogue.units[booking.unit_id]
        child = catalogue.children[booking.child_id]
        day = as_date(booking.date)
        label, amount = _charge(booking, unit, household, child, catalogue.bands.get(unit.id, []))
        line_for(household, child, unit, label, amount).days.append(day)
        if day < today and not booking.attendance:
            unpointed[(household.id, child.id, unit.id)].append(day)

    for presence in presences:
        household = household_rows[presence.household_id]
        unit = catalogue.units[presence.unit_id]
        child = catalogue.children[presence.child_id]
        day = as_date(presence.date)
        if unit.attendance_only:  # a unit « sans réservation »: the pointage is the consumption
            if presence.status == "present":
                _bill_attendance(presence, day, unit, child, drafts.setdefault(household.id, Draft(household)),
                                 catalogue.bands.get(unit.id, []), start, line_for)
            continue
        draft = drafts.setdefault(household.id, Draft(household))
        draft.anomalies.append(f"{child.full_name} – {unit.name} : présent(e) sans réservation le {day_label(day)}.")
        policy = unit.unbooked_presence or "late"
        if policy == "free":
            continue
        price = pricing.unit_price(unit, household, child, late=policy == "late",
                                   bands=catalogue.bands.get(unit.id, []))
        line_for(household, child, unit, f"{unit.name} – présence sans réservation", price).days.append(day)

    for household_id, line in forfait_lines:
        drafts.setdefault(household_id, Draft(household_rows[household_id])).lines.append(line)
    for (household_id, child_id, unit_id), days in unpointed.items():
        child, unit = catalogue.children[child_id], catalogue.units[unit_id]
        drafts[household_id].anomalies.append(
            f"{child.full_name} – {unit.name} : {len(days)} jour(s) réservé(s) sans pointage ({days_text(days)}).")
    for draft in drafts.values():
        if draft.household.quotient_familial is None:
            draft.anomalies.append("Quotient familial inconnu : tarif de base appliqué.")
        draft.lines.sort(key=lambda line: (line.child.position, line.child.id, line.unit.activity.position,
                                           line.unit.position, getattr(line, "sort_day", dt.date.min), line.label))
    return drafts


def _bill_attendance(presence: Attendance, day: dt.date, unit: Unit, child: Child, draft: Draft, bands: list,
                     start: dt.date, line_for) -> None:
    """A presence at a unit « sans réservation », priced by services/billing/attendance_billing.py."""
    household = draft.household
    price = pricing.unit_price(unit, household, child, bands=bands)
    attendance_billing.bill(presence, day, unit, child, price, band_label(unit, bands, household.quotient_familial, False),
                            f"{unit.activity.name}, {formatting.month_label(start)}", draft.lines, draft.anomalies,
                            lambda label, amount: line_for(household, child, unit, label, amount))


# --- Preview and issue ------------------------------------------------------------------------------


@dataclass
class RunPreview:
    regie: Regie
    period_start: dt.date
    period_end: dt.date
    drafts: list[Draft]

    @property
    def to_issue(self) -> list[Draft]:
        return [d for d in self.drafts if d.existing is None and d.amount > 0]

    @property
    def total(self) -> int:
        return sum(d.amount for d in self.to_issue)

    @property
    def anomaly_count(self) -> int:
        return sum(len(d.anomalies) for d in self.drafts)


def preview_run(regie: Regie, year: int, month: int, today: dt.date | None = None) -> RunPreview:
    """What a run would issue: households, amounts and anomalies; nothing is written."""
    start, end = billing_periods.month_bounds(year, month)
    drafts = collect(start, end, regie=regie, today=today)
    existing = {lock.household_id: lock.invoice for lock in
                InvoicePeriodLock.select(InvoicePeriodLock, Invoice).join(Invoice)
                .where((InvoicePeriodLock.regie == regie) & (InvoicePeriodLock.period_start == start))}
    for household_id, draft in drafts.items():
        draft.existing = existing.get(household_id)
        if draft.existing is not None and draft.existing.amount != draft.amount:
            # Something changed after the invoice (a pointage, an absence decided late): say it, never hide it.
            draft.anomalies.append(
                f"Écart avec la facture {draft.existing.number} ({formatting.money(draft.existing.amount)}) : "
                f"les consommations de la période font {formatting.money(draft.amount)} ; régularisez par un avoir "
                "ou une facture complémentaire.")
    ordered = sorted(drafts.values(), key=lambda d: (d.household.name.lower(), d.household.id))
    return RunPreview(regie, start, end, ordered)



def _describe_payer(payer: Guardian) -> tuple[str, str]:
    name = f"{payer.civility} {payer.full_name}".strip()
    address = ", ".join(part for part in (payer.address, f"{payer.postal_code} {payer.city}".strip()) if part)
    return name, address


def payers_of(household_ids: list[int]) -> dict[int, tuple[str, str]]:
    """(name, address) of each household's payer (a guardian marked payer first), in one query."""
    result: dict[int, tuple[str, str]] = {}
    if not household_ids:
        return result
    query = (Guardian.select().where(Guardian.household.in_(household_ids))
             .order_by(Guardian.household, Guardian.is_payer.desc(), Guardian.position, Guardian.id))
    for guardian in query:
        result.setdefault(guardian.household_id, _describe_payer(guardian))
    return result


def payer_of(household: Household) -> tuple[str, str]:
    """(name, address) printed on the household's invoices and certificates."""
    return payers_of([household.id]).get(household.id, (household.name, ""))


def has_direct_debit(household: Household) -> bool:
    return DirectDebitMandate.select().where((DirectDebitMandate.household == household)
                                             & DirectDebitMandate.active).exists()


def issue_invoice(regie: Regie, household: Household, start: dt.date, end: dt.date,
                  lines: list[DraftLine], user: User | None = None, *, payer: tuple[str, str] | None = None,
                  direct_debit: bool | None = None, emails: list[str] | None = None,
                  run: InvoicingRun | None = None, savepoint: bool = True) -> Invoice:
    """Number and write one invoice with its lines, in one transaction (AlreadyInvoiced if done).
    `payer`, `direct_debit` and `emails` (where its mail goes) may be given by a caller that loaded them
    already; `run` is the run that issues it; `savepoint=False` writes straight in the caller's
    transaction, which a clash (IntegrityError) then spoils: the caller rolls back and looks."""
    now = clock.local_now()
    today = now.date()
    payer_name, payer_address = payer or payer_of(household)
    if direct_debit is None:
        direct_debit = has_direct_debit(household)
    try:
        with write_transaction(savepoint=savepoint):  # no check first: the lock row's unique index refuses a 2nd
            number = next_number(regie, "F", today)
            invoice = Invoice.create(
                regie=regie, household=household, kind="invoice", number=number, period_start=start,
                period_end=end, issued_at=now, issued_on=today,
                payable_from=today + dt.timedelta(days=regie.treasury_days or 0),
                due_on=today + dt.timedelta(days=regie.payment_days or 30),
                amount=sum(line.amount for line in lines), payer_name=payer_name, payer_address=payer_address,
                quotient_familial=household.quotient_familial, direct_debit=direct_debit,
                issued_by=user, run=run)
            run_insert(InvoiceLine.insert_many([  # SQL composed once per process (models/prepared.py)
                dict(invoice=invoice, child=line.child, unit=line.unit, activity_kind=line.unit.activity.kind,
                     child_name=line.child.full_name, heading=line.heading, label=line.label,
                     days=line.days_text, band=line.band, unit_price=line.unit_price, quantity=line.quantity,
                     amount=line.amount, position=position)
                for position, line in enumerate(lines)]))
            InvoicePeriodLock.create(regie=regie, household=household, period_start=start, invoice=invoice)
            ledger.apply_household_credit(household)
            invoice_mail.tell_household(invoice, emails)
    except IntegrityError:
        if not savepoint and in_write_transaction():
            raise  # the caller's transaction is spoilt (PostgreSQL): it rolls back and looks for itself
        # Invoiced already (a concurrent run won the race for this household): our transaction, number
        # included, rolled back. Anything else (a number already taken) is a real fault, not a skip.
        if queries.period_lock.scalar(regie.id, household.id, start) is not None:
            raise AlreadyInvoiced(f"{household.name} a déjà une facture pour {formatting.month_label(start)}.") from None
        raise
    return invoice


def issue_credit_note(invoice: Invoice, amount: int, reason: str, user: User | None = None) -> Invoice:
    """An avoir on an issued invoice: its own number (A…), lowering what is left to pay."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidCredit("Indiquez le motif de l'avoir.", "reason")
    if invoice.kind != "invoice":
        raise InvalidCredit("Un avoir ne peut corriger qu'une facture.")
    now = clock.local_now()
    with write_transaction():
        fresh = Invoice.select().where(Invoice.id == invoice.id)
        fresh = fresh.get() if is_sqlite() else fresh.for_update().get()
        room = fresh.amount - fresh.credited
        if amount <= 0 or amount > room:
            raise InvalidCredit(f"Le montant de l'avoir doit être compris entre 0,01 € et {formatting.money(room)}.",
                                "amount")
        number = next_number(fresh.regie, "A", now.date())
        credit = Invoice.create(
            regie=fresh.regie, household=fresh.household, kind="credit", number=number,
            period_start=fresh.period_start, period_end=fresh.period_end, issued_at=now, issued_on=now.date(),
            payable_from=now.date(), due_on=now.date(), amount=amount, corrects=fresh, reason=reason,
            payer_name=fresh.payer_name, payer_address=fresh.payer_address,
            quotient_familial=fresh.quotient_familial, issued_by=user)
        InvoiceLine.create(invoice=credit, heading=f"Avoir sur la facture {fresh.number}", label=reason,
                           unit_price=amount, quantity=1, amount=amount)
        Invoice.update(credited=Invoice.credited + amount).where(Invoice.id == fresh.id).execute()
        _release_overpayment(fresh.id)
        ledger.apply_household_credit(fresh.household)
    refreshed = Invoice.get_by_id(invoice.id)
    invoice.credited, invoice.paid = refreshed.credited, refreshed.paid
    return credit


def _release_overpayment(invoice_id: int) -> None:
    """When an avoir makes paid + credited exceed the amount, the surplus of the payments goes back
    to the household's avoir (newest allocations first), to be used on other invoices."""
    invoice = Invoice.get_by_id(invoice_id)
    surplus = invoice.paid + invoice.credited - invoice.amount
    if surplus <= 0:
        return
    from models import PaymentAllocation
    for allocation in (PaymentAllocation.select().where(PaymentAllocation.invoice == invoice_id)
                       .order_by(PaymentAllocation.id.desc())):
        if surplus <= 0:
            break
        give_back = min(allocation.amount, surplus)
        if give_back == allocation.amount:
            allocation.delete_instance()
        else:
            PaymentAllocation.update(amount=PaymentAllocation.amount - give_back).where(
                PaymentAllocation.id == allocation.id).execute()
        Invoice.update(paid=Invoice.paid - give_back).where(Invoice.id == invoice_id).execute()
        surplus -= give_back


# --- Reading -----------------------------------------------------------------------------------------


def status_of(invoice: Invoice, today: dt.date | None = None) -> tuple[str, str]:
    """(code, French label) of an invoice, as parents and staff see it."""
    today = today or clock.today()
    if invoice.kind == "credit":
        return "credit", "Avoir"
    if invoice.balance == 0:
        return "paid", "Payée"
    if invoice.direct_debit:
        return "direct_debit", "En prélèvement"
    if today < invoice.payable_from:
        return "pending", f"En cours de validation (disponible le {formatting.date_short(invoice.payable_from)})"
    if today > invoice.due_on:
        return "overdue", f"En retard : à payer avant le {formatting.date_short(invoice.due_on)}"
    return "due", f"À payer avant le {formatting.date_short(invoice.due_on)}"


def is_payable_online(invoice: Invoice, today: dt.date | None = None) -> bool:
    return status_of(invoice, today)[0] in ("due", "overdue")


def running_consumptions(household: Household, today: dt.date | None = None) -> tuple[dt.date, dt.date, list[DraftLine]]:
    """The current month's consumptions not yet invoiced ("Consommations à facturer")."""
    today = today or clock.today()
    start, end = billing_periods.month_bounds(today.year, today.month)
    draft = collect(start, end, households=[household.id], today=today).get(household.id)
    lines = draft.lines if draft else []
    invoiced = {(lock.regie_id) for lock in InvoicePeriodLock.select().where(
        (InvoicePeriodLock.household == household) & (InvoicePeriodLock.period_start == start))}
    lines = [line for line in lines if line.unit.activity.regie_id not in invoiced]
    return start, end, lines


def unpaid_invoices(household: Household | None = None) -> list[Invoice]:
    """Invoices with something left to pay, oldest first, with their régie and household (one query)."""
    query = (Invoice.select(Invoice, Regie, Household).join(Regie).switch(Invoice).join(Household)
             .where((Invoice.kind == "invoice") & (Invoice.amount > Invoice.paid + Invoice.credited)))
    if household is not None:
        query = query.where(Invoice.household == household)
    return list(query.order_by(Invoice.issued_on, Invoice.id))
