"""What a household's dashboard (/mon-espace) says: the children's days, the next deadlines, unpaid
invoices, unread alerts, documents to send and what waits for the town hall.

Plain facts, one function per block (blueprints/portal.py turns them into blocks with links). Billing is
the top service layer, so it may read bookings, invoices and documents. Each function asks a fixed
number of queries, whatever the number of bookings, invoices or alerts.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from peewee import Select, fn

from models import Activity, Alert, Booking, ChangeRequest, Child, Enrolment, Household, Invoice, Order, Unit
from models.base import count_rows
from models.prepared import prepared
from services.billing import invoicing, listings
from services.booking import day_status, planning, week_deadlines
from services.core import clock, formatting
from services.family import custody, documents

DEADLINE_WEEKS = 6  # weeks scanned for the next deadline (the holiday centre books two weeks ahead)
EXPIRING_DAYS = 30  # a required document valid for less than this is « bientôt expiré »
SHOWN = 5  # lines listed per block (the count says how many there are in all)
PENDING_BOOKINGS = ("requested", "waiting_list", "cancel_requested")


@dataclass
class ChildDay:
    child: Child
    day: dt.date
    items: list[str]  # "Repas (Cantine) : Réservé"


def children_days(household: Household, today: dt.date | None = None,
                  children: Sequence[Child] | None = None) -> list[ChildDay]:
    """Each child's bookings today and tomorrow (what the family still holds): one query, and one for the
    children when not given (custody.household_children: a child in garde alternée too)."""
    today = today or clock.today()
    days = (today, today + dt.timedelta(days=1))
    if children is None:
        children = custody.household_children(household)
    found: dict[tuple[int, dt.date], list[str]] = defaultdict(list)
    for booking in _held_bookings(household.id, list(days)):
        label = day_status.STATE_LABELS.get(booking.status, booking.status)
        found[(booking.child_id, booking.date)].append(
            f"{booking.unit.name} ({planning.activity_label(booking.unit)}) : {label}")
    return [ChildDay(child, day, found.get((child.id, day), [])) for child in children for day in days]


@prepared
def _held_bookings(household, days):
    return (Booking.select(Booking, Unit, Activity).join(Unit).join(Activity)
            .where((Booking.household == household) & Booking.date.in_(days) & Booking.status.in_(day_status.ACTIVE))
            .order_by(Activity.position, Unit.position, Unit.id))


def next_deadlines(household: Household, now: dt.datetime | None = None,
                   activity_ids: Iterable[int] | None = None) -> list[str]:
    """« Cantine : jusqu'à jeudi 18 h pour la semaine du 7 décembre », one line per activity kind and
    rule, for the activities the children are enrolled in (validated: read here when not given). Computed
    once per unit: a fixed number of queries."""
    now = now or clock.now()
    if activity_ids is None:
        activity_ids = [a for (a,) in Enrolment.select(Enrolment.activity).join(Child)
                        .where((Child.household == household.id) & (Enrolment.status == "validated")
                               & (Child.archived == False)).distinct().tuples()]  # noqa: E712
    activity_ids = sorted(activity_ids)
    if not activity_ids:
        return []
    units = week_deadlines.active_units(activity_ids)
    today = clock.to_local_naive(now).date()
    by_unit: dict[int, list[week_deadlines.UnitWeek]] = defaultdict(list)
    for week in week_deadlines.unit_weeks(units, today, DEADLINE_WEEKS, now):
        by_unit[week.unit.id].append(week)
    lines: list[str] = []
    for unit in units:
        text = week_deadlines.next_deadline_text(by_unit.get(unit.id, []), now)
        line = f"{planning.activity_label(unit)} : {text}" if text else None
        if line and line not in lines:
            lines.append(line)
    return lines


def unpaid_invoices(household: Household, today: dt.date | None = None) -> list[tuple[Invoice, str, bool]]:
    """(invoice, status label, payable online now) of every invoice left to pay, oldest due first: one query."""
    today = today or clock.today()
    return [(item, invoicing.status_of(item, today)[1], invoicing.is_payable_online(item, today))
            for item in _unpaid(household.id)]


@prepared
def _unpaid(household):
    return Invoice.select().where((Invoice.household == household) & listings.UNPAID).order_by(Invoice.due_on, Invoice.id)


def newest_unread_alerts(household: Household, limit: int = SHOWN) -> list[Alert]:
    """The newest unread alerts (how many there are is the menu's count, notifications.unread_count): one query."""
    return _newest_unread(household.id, limit)


@prepared
def _newest_unread(household, limit):
    return (Alert.select().where((Alert.household == household) & ~Alert.read)
            .order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit))


def document_issues(household: Household, today: dt.date | None = None,
                    children: Sequence[Child] | None = None) -> tuple[list[str], list[str]]:
    """(missing, expiring): required documents with none valid today, and valid ones ending within
    EXPIRING_DAYS with no newer one accepted or sent, as French lines. `children`: the household's own,
    archived ones included (read here when not given). Two queries more: documents and required types."""
    today = today or clock.today()
    if children is None:
        children = household.children_in_file(include_archived=True)
    every = documents.documents_of(household)
    types = documents.required_types()
    missing = [f"{doc_type.name}" + (f" ({child.first_name})" if child else "")
               for doc_type, child in documents.missing_among(types, [c for c in children if not c.archived],
                                                              every, today)]
    soon = today + dt.timedelta(days=EXPIRING_DAYS)
    required = {t.id: t for t in types}
    names = {c.id: c.first_name for c in children}
    expiring = []
    for document in every:
        if not (document.doc_type_id in required and documents.is_valid(document, today)
                and document.valid_until and document.valid_until <= soon):
            continue
        newer = any(other.doc_type_id == document.doc_type_id and other.child_id == document.child_id
                    and other.id != document.id and (other.status == "pending" or (
                        other.status == "accepted" and (other.valid_until is None or other.valid_until > soon)))
                    for other in every)
        if not newer:
            who = f" ({names.get(document.child_id, '')})" if document.child_id else ""
            expiring.append(f"{required[document.doc_type_id].name}{who} : valable jusqu'au {formatting.date_long(document.valid_until)}")
    return missing, expiring


@dataclass
class Pending:
    changes: int = 0  # file changes waiting for the town hall
    enrolments: int = 0  # enrolments requested or on a waiting list
    bookings: dict[str, int] | None = None  # status → days waiting (validation, waiting list, cancellation)
    orders_to_pay: int = 0  # prepaid orders awaiting payment

    @property
    def total(self) -> int:
        return self.changes + self.enrolments + sum((self.bookings or {}).values()) + self.orders_to_pay


def pending(household: Household, today: dt.date | None = None) -> Pending:
    """What the household asked for and still waits on: one query (a count per kind)."""
    today = today or clock.today()
    changes, enrolments, orders_to_pay, *bookings = _pending_counts(household.id, today)[0]
    return Pending(changes, enrolments, {status: n for status, n in zip(PENDING_BOOKINGS, bookings) if n},
                   orders_to_pay)


@prepared
def _pending_counts(household, today):
    """(changes, enrolments, orders to pay, then days per PENDING_BOOKINGS status), as one row."""
    counts = [
        ChangeRequest.select(fn.COUNT(ChangeRequest.id))
        .where((ChangeRequest.household == household) & (ChangeRequest.status == "pending")),
        Enrolment.select(fn.COUNT(Enrolment.id)).join(Child)
        .where((Child.household == household) & Enrolment.status.in_(("requested", "waiting_list"))),
        Order.select(fn.COUNT(Order.id))
        .where((Order.household == household) & (Order.payment_status == "awaiting_payment")),
    ] + [Booking.select(count_rows())
         .where((Booking.household == household) & (Booking.date >= today) & (Booking.status == status))
         for status in PENDING_BOOKINGS]
    return Select(columns=counts).tuples()
