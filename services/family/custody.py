"""Garde alternée: a child shared by two households. The child's file stays with its own household;
the other parent's household has the child on odd or even ISO weeks, or on the weeks of a calendar
entered by staff. Each household books, cancels and pays for its own weeks only, and sees the other's
weeks as « Semaine de l'autre parent »."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from peewee import JOIN

from models import Booking, Child, CustodyShare, CustodyWeek, Household, User
from models.prepared import prepared
from services.core import audit
from services.core.errors import InvalidInput, NotFound
from services.core.transactions import as_date, write_transaction

PATTERNS = {
    "odd": "Semaines impaires chez l'autre foyer",
    "even": "Semaines paires chez l'autre foyer",
    "calendar": "Semaines du calendrier chez l'autre foyer",
}
OTHER_PARENT = "Semaine de l'autre parent"
MAX_WEEKS = 60  # a calendar covers a school year at most


@dataclass
class Share:
    """One child's custody, as the engine reads it."""

    child_id: int
    home_id: int  # the household holding the child's file
    other_id: int
    pattern: str
    weeks: set[dt.date] = field(default_factory=set)

    def holder(self, day: dt.date) -> int:
        """The household that has the child during the week of `day`."""
        monday = day - dt.timedelta(days=day.weekday())
        if self.pattern == "calendar":
            other = monday in self.weeks
        else:
            other = (monday.isocalendar()[1] % 2 == 1) == (self.pattern == "odd")
        return self.other_id if other else self.home_id


class CustodyMap:
    """The shares of some children (two queries at most): who has each child on a given day."""

    def __init__(self, children: Iterable[Child]):
        children = list(children)
        homes = {c.id: c.household_id for c in children}
        self.shares: dict[int, Share] = {}
        if not homes:
            return
        if all(hasattr(c, "custody_row") for c in children):  # read with the children (household_children)
            rows = [c.custody_row for c in children if c.custody_row is not None]
        else:
            rows = list(CustodyShare.select().where(CustodyShare.child.in_(list(homes))))
        for row in rows:
            self.shares[row.child_id] = Share(row.child_id, homes[row.child_id], row.household_id, row.pattern)
        calendars = {row.id: row.child_id for row in rows if row.pattern == "calendar"}
        if calendars:
            for week in CustodyWeek.select().where(CustodyWeek.share.in_(list(calendars))):
                self.shares[calendars[week.share_id]].weeks.add(week.monday)

    def has_child(self, household_id: int, child: Child, day: dt.date) -> bool:
        """Whether `household_id` has the child on that day (always, for an unshared child of its own)."""
        share = self.shares.get(child.id)
        if share is None:
            return child.household_id == household_id
        return share.holder(day) == household_id

    def is_shared(self, child: Child) -> bool:
        return child.id in self.shares


def household_children(household: Household) -> list[Child]:
    """The children a household books for: its own (not archived, born), then those shared with it."""
    rows = _with_custody_rows(_household_children(household.id))
    return sorted(rows, key=lambda c: (c.household_id != household.id, c.position, c.id))


@dataclass(frozen=True)
class HouseholdChildren:
    """A household's children read in one query for a page (/mon-espace), then handed to each service."""

    household_id: int
    rows: tuple[Child, ...]  # its own (archived and unborn too) and those shared with it, custody row attached

    @property
    def own(self) -> list[Child]:
        """Its own children in file order, archived ones included (children_in_file(include_archived=True))."""
        return sorted((c for c in self.rows if c.household_id == self.household_id), key=lambda c: (c.position, c.id))

    @property
    def in_file(self) -> list[Child]:
        """Its own children still in the file, in file order (children_in_file())."""
        return [c for c in self.own if not c.archived]

    @property
    def bookable(self) -> list[Child]:
        """The children it books for, as household_children gives them."""
        rows = [c for c in self.rows if not c.archived and (c.household_id != self.household_id or not c.unborn)]
        return sorted(rows, key=lambda c: (c.household_id != self.household_id, c.position, c.id))


def every_child(household: Household) -> HouseholdChildren:
    """Every child a page about the household may name: one query."""
    return HouseholdChildren(household.id, tuple(_with_custody_rows(_own_and_shared(household.id))))


def _with_custody_rows(rows: list[Child]) -> list[Child]:
    """Children read with their custody share in the same query: CustodyMap then reads no more."""
    for child in rows:
        if not hasattr(child, "custody_row"):
            child.custody_row = None
    return rows


def _children_with_custody():
    return Child.select(Child, CustodyShare).join(CustodyShare, JOIN.LEFT_OUTER,
                                                  on=(CustodyShare.child == Child.id), attr="custody_row")


def _own_or_shared_ids(household, own=None):
    """The ids of the household's children (`own` narrows them) and of those shared with it, each part read
    by its index: « household = x OR id IN (shares) » made PostgreSQL read every child of the commune."""
    mine = Child.household == household
    if own is not None:
        mine &= own
    return Child.id.in_(Child.select(Child.id).where(mine)
                        | CustodyShare.select(CustodyShare.child).where(CustodyShare.household == household))


@prepared
def _household_children(household):
    return _children_with_custody().where(_own_or_shared_ids(household, ~Child.unborn) & ~Child.archived)


@prepared
def _own_and_shared(household):
    return _children_with_custody().where(_own_or_shared_ids(household))


@prepared
def _own_or_shared(household, children):
    return _children_with_custody().where(Child.id.in_(children) & _own_or_shared_ids(household))


def child_of(household: Household, child_id: int) -> Child | None:
    """The household's own child, or a child shared with it; None otherwise."""
    rows = _with_custody_rows(_own_or_shared(household.id, [child_id]))
    return rows[0] if rows else None


def children_of(household: Household, child_ids: Iterable[int]) -> list[Child]:
    """The children among `child_ids` the household may book for (own or shared)."""
    ids = list(set(child_ids))
    if not ids:
        return []
    return _with_custody_rows(_own_or_shared(household.id, ids))


def share_of(child: Child) -> CustodyShare | None:
    return CustodyShare.get_or_none(CustodyShare.child == child.id)


def calendar_weeks(share: CustodyShare | None) -> list[dt.date]:
    if share is None or share.pattern != "calendar":
        return []
    return [w.monday for w in CustodyWeek.select().where(CustodyWeek.share == share.id).order_by(CustodyWeek.monday)]


_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.I)
_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_weeks(text: str) -> list[dt.date]:
    """Weeks typed by staff, one per line or separated by commas: « 2026-W50 » or any day of the week
    (« 07/12/2026 » or « 2026-12-07 »); returns their Mondays, sorted, without repeats."""
    mondays: set[dt.date] = set()
    for token in re.split(r"[\s,;]+", text.strip()):
        if not token:
            continue
        day = None
        try:
            if match := _WEEK.match(token):
                day = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
            elif match := _DATE.match(token):
                day = dt.date(int(match[3]), int(match[2]), int(match[1]))
            else:
                day = dt.date.fromisoformat(token)
        except ValueError:
            day = None
        if day is None:
            raise InvalidInput(f"Semaine non reconnue : « {token[:20]} » (exemples : 2026-W50 ou 07/12/2026).",
                               "weeks")
        mondays.add(day - dt.timedelta(days=day.weekday()))
    if len(mondays) > MAX_WEEKS:
        raise InvalidInput(f"Au plus {MAX_WEEKS} semaines dans le calendrier.", "weeks")
    return sorted(mondays)


def find_household(reference: str) -> Household:
    """The other household, by its number (« 12 » or « Foyer n° 12 ») or a responsable's sign-in e-mail."""
    reference = reference.strip()
    household = None
    if "@" in reference:
        user = User.get_or_none((User.email == reference.lower()) & User.household.is_null(False))
        household = user.household if user else None
    elif match := re.search(r"(\d+)\s*$", reference):
        household = Household.get_or_none(Household.id == int(match[1]))
    if household is None:
        raise InvalidInput("Foyer introuvable : indiquez son numéro ou l'e-mail d'un de ses responsables.",
                           "other")
    return household


def misplaced_bookings(child: Child, today: dt.date) -> int:
    """Future bookings of the child held by the household that does not have it that week (made before
    the weeks were shared out): staff cancel them at the desk or leave them."""
    share = CustodyMap([child]).shares.get(child.id)
    if share is None:
        return 0
    rows = (Booking.select(Booking.household, Booking.date)
            .where((Booking.child == child.id) & (Booking.date >= today) & Booking.status.in_(Booking.OCCUPYING + ("waiting_list",)))
            .tuples())
    return sum(1 for household_id, day in rows if share.holder(as_date(day)) != household_id)


def set_custody(child: Child, other: Household, pattern: str, weeks: list[dt.date], by: User) -> CustodyShare:
    """Share the child with the other household (or change the pattern), in one transaction."""
    if pattern not in PATTERNS:
        raise InvalidInput("Choisissez un rythme de garde.", "pattern")
    if other.id == child.household_id:
        raise InvalidInput("L'autre foyer doit être différent du foyer de l'enfant.", "other")
    if other.closed_at is not None:
        raise InvalidInput("Ce foyer est fermé.", "other")
    if pattern == "calendar" and not weeks:
        raise InvalidInput("Indiquez au moins une semaine chez l'autre foyer.", "weeks")
    with write_transaction():
        share = CustodyShare.get_or_none(CustodyShare.child == child.id)
        if share is None:
            share = CustodyShare.create(child=child, household=other, pattern=pattern)
        else:
            share.household, share.pattern = other, pattern
            share.save()
            CustodyWeek.delete().where(CustodyWeek.share == share.id).execute()
        if pattern == "calendar":
            CustodyWeek.insert_many([{"share": share.id, "monday": monday} for monday in weeks]).execute()
        audit.record(by, "garde alternée enregistrée", child,
                     f"{child.full_name} : {PATTERNS[pattern].lower()} (foyer n° {other.id})")
    return share


def end_custody(child: Child, by: User) -> None:
    """The child is no longer shared: the other household keeps its past bookings, books no more."""
    with write_transaction():
        share = CustodyShare.get_or_none(CustodyShare.child == child.id)
        if share is None:
            raise NotFound("Cet enfant n'est pas en garde alternée.")
        share.delete_instance(recursive=True)
        audit.record(by, "garde alternée terminée", child, child.full_name)
