"""Exclusive and dependent units: « Journée » excludes « Matin » and « Après-midi » on the same day,
« Repas » requires « Matin » or « Journée » (UnitRule rows, configured on the staff unit screen).

The rules are plain data here (Rules) with pure questions on them; the grid (day_status), the basket's
swap (basket) and placement under the lock (placement, decide_request) ask them. An exclusion is
symmetric for the engine (never both on one day); in the basket the unit that declares it wins: ticking
« Journée » swaps out « Matin » waiting in the basket, while « Matin » is shown « Incompatible avec
Journée ». Cancelling a required unit while its dependent stays is refused, naming the dependent.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from models import Booking, Unit, UnitRule
from services.core import audit, config_cache
from services.core.errors import InvalidInput
from services.core.transactions import write_transaction

@dataclass(frozen=True)
class _EveryRule:
    """Every rule (unit, other, kind) and, for every unit, (activity, name, start, end, position)."""

    rows: tuple[tuple[int, int, str], ...]
    units: dict[int, tuple]


def _all_rules() -> _EveryRule:
    rows = tuple(UnitRule.select(UnitRule.unit, UnitRule.other, UnitRule.kind).tuples())
    units = {row[0]: row[1:] for row in Unit.select(Unit.id, Unit.activity, Unit.name, Unit.start_time,
                                                     Unit.end_time, Unit.position).tuples()} if rows else {}
    return _EveryRule(rows, units)


# A booking that takes the child's day: a cancellation asked for (cancel_requested) no longer does.
HOLDING = ("requested", "booked", "waiting_list", "held")


@dataclass
class Rules:
    """The rules touching a set of units, with the names and order of every unit they mention."""

    excludes: dict[int, set[int]] = field(default_factory=dict)  # as declared: unit → units it excludes
    requires: dict[int, set[int]] = field(default_factory=dict)  # unit → units it needs one of
    names: dict[int, str] = field(default_factory=dict)
    order: dict[int, tuple] = field(default_factory=dict)

    @classmethod
    def load(cls, unit_ids: Iterable[int], known: dict[int, Unit] | None = None) -> Rules:
        """The rules of these units' activities (configuration cache: no query while it holds)."""
        ids = list(set(unit_ids))
        known = known or {}
        rules = cls()
        if not ids:
            return rules
        # Every rule of their activities: « Repas » requires « Matin » or « Journée » matters to « Matin ».
        every = config_cache.cached("unit_rules", _all_rules)
        activities = {every.units[u][0] for u in ids if u in every.units}
        rows = [row for row in every.rows if every.units.get(row[0], (None,))[0] in activities]
        for unit_id, other_id, kind in rows:
            target = rules.excludes if kind == "excludes" else rules.requires
            target.setdefault(unit_id, set()).add(other_id)
        for unit_id in {r[0] for r in rows} | {r[1] for r in rows}:
            unit = known.get(unit_id)
            if unit is not None:
                rules.names[unit_id] = unit.name
                rules.order[unit_id] = (unit.start_time, unit.end_time, unit.position, unit_id)
            elif unit_id in every.units:
                _, name, start_time, end_time, position = every.units[unit_id]
                rules.names[unit_id] = name
                rules.order[unit_id] = (start_time, end_time, position, unit_id)
        return rules

    @property
    def related_ids(self) -> set[int]:
        """Every unit some rule mentions."""
        return set(self.names)

    def conflicts(self, unit_id: int) -> set[int]:
        """The units that may not share a day with this one (declared on either side)."""
        return set(self.excludes.get(unit_id, ())) | {u for u, others in self.excludes.items() if unit_id in others}

    def declares(self, unit_id: int, other_id: int) -> bool:
        return other_id in self.excludes.get(unit_id, ())

    def required(self, unit_id: int) -> set[int]:
        return set(self.requires.get(unit_id, ()))

    def dependents(self, unit_id: int) -> set[int]:
        return {u for u, needed in self.requires.items() if unit_id in needed}

    def partners(self, unit_id: int) -> set[int]:
        """Units whose cell may change when this one does (same child, same day)."""
        return self.conflicts(unit_id) | self.required(unit_id) | self.dependents(unit_id)

    def sorted(self, ids: Iterable[int]) -> list[int]:
        """In the day's order: start time, then the shorter first (« Matin » before « Journée »)."""
        return sorted(ids, key=lambda u: self.order.get(u, ("", "", 0, u)))

    def listing(self, ids: Iterable[int], word: str = "ou") -> str:
        names = [self.names.get(u, "?") for u in self.sorted(ids)]
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"

    # --- French reasons ----------------------------------------------------------------------

    def incompatible(self, other_id: int) -> str:
        return f"Incompatible avec {self.names.get(other_id, '?')}"

    def hint(self, unit_id: int) -> str:
        return f"avec {self.listing(self.required(unit_id))}"

    def missing(self, unit_id: int) -> str:
        return f"{self.names.get(unit_id, '?')} : réservez aussi {self.listing(self.required(unit_id))}"

    def orphan(self, removed: Iterable[int], dependent_id: int) -> str:
        removed = list(removed)
        return (f"{self.listing(removed, 'et')} ne peut pas être retiré seul : {self.names.get(dependent_id, '?')} "
                f"demande {self.listing(self.required(dependent_id))}. Retirez d'abord {self.names.get(dependent_id, '?')}.")

    # --- questions -----------------------------------------------------------------------------

    def blocking(self, unit_id: int, committed: set[int], adds: set[int]) -> int | None:
        """The unit that makes this cell « Incompatible » (a booking, or a basket line it does not
        declare excluding), or None. `committed` and `adds` are the child's other units that day."""
        for other in self.sorted(self.conflicts(unit_id)):
            if other in committed or (other in adds and not self.declares(unit_id, other)):
                return other
        return None

    def swappable(self, unit_id: int, adds: set[int]) -> list[int]:
        """The basket lines ticking this unit replaces (units it declares excluding)."""
        return [other for other in self.sorted(adds) if self.declares(unit_id, other)]

    def tick(self, unit_id: int, want: bool, committed: set[int], adds: set[int]) -> tuple[str | None, list[int]]:
        """Ticking (want) or unticking a cell, given the child's other units that day: (refusal, basket
        lines to swap out). A refusal is French and names the unit in the way."""
        checked = committed | adds
        swap: list[int] = []
        if want:
            swap = self.swappable(unit_id, adds)
            blocker = self.blocking(unit_id, committed, adds - set(swap))
            if blocker is not None:
                return self.incompatible(blocker), []
            after = (checked - set(swap)) | {unit_id}
            if self.required(unit_id) and not self.required(unit_id) & after:
                return self.missing(unit_id), []
        else:
            after = checked - {unit_id}
        gone = (set(swap) | ({unit_id} if not want else set()))
        for dependent in self.sorted(after):
            needed = self.required(dependent)
            if needed & gone and not needed & after:
                return self.orphan(needed & gone, dependent), []
        return None, swap

    def check_group(self, held: set[int], lines: Sequence[tuple[int, int, str]]) -> dict[int, str]:
        """Placement of one child's day: `held` its booked units, `lines` (index, unit id, add|remove) in
        arrival order. Returns {index: French reason} of the lines to refuse; the others are compatible
        once all placed (the first of two exclusive additions wins)."""
        refused: dict[int, str] = {}
        while True:
            removes = {u for i, u, a in lines if a == "remove" and i not in refused and u in held}
            current = held - removes
            added: list[tuple[int, int]] = []
            found: dict[int, str] = {}
            for index, unit_id, action in lines:
                if action != "add" or index in refused or unit_id in held or unit_id in current:
                    continue
                blocker = next((o for o in self.sorted(self.conflicts(unit_id)) if o in current), None)
                if blocker is not None:
                    found[index] = self.incompatible(blocker)
                else:
                    current.add(unit_id)
                    added.append((index, unit_id))
            for index, unit_id in added:
                needed = self.required(unit_id)
                if needed and not needed & current:
                    found[index] = self.missing(unit_id)
            if not found:
                for index, unit_id, action in lines:
                    if action == "remove" and index not in refused and unit_id in removes:
                        orphaned = [d for d in self.sorted(current) if unit_id in self.required(d)
                                    and not self.required(d) & current]
                        if orphaned:
                            found[index] = self.orphan([unit_id], orphaned[0])
                            break  # one kept booking changes the day: look again
            if not found:
                return refused
            refused.update(found)


def approval_refusal(booking: Booking, accept: bool) -> str | None:
    """Why staff may not take this decision on a request (None when the child's day stays coherent)."""
    if booking.status == "requested":
        keeps = accept
    elif booking.status == "cancel_requested":
        keeps = not accept  # refusing a cancellation keeps the day booked
    else:
        return None
    rules = Rules.load([booking.unit_id])
    if booking.unit_id not in rules.related_ids:
        return None
    held = {b.unit_id for b in Booking.select(Booking.unit).where(
        (Booking.child == booking.child_id) & (Booking.date == booking.date) & (Booking.id != booking.id)
        & Booking.status.in_(HOLDING))}
    name = booking.child.first_name
    if keeps:
        blocker = next((o for o in rules.sorted(rules.conflicts(booking.unit_id)) if o in held), None)
        if blocker is not None:
            return (f"{rules.incompatible(blocker)} (aussi demandé ou réservé pour {name} ce jour-là) : "
                    "refusez l'une des deux demandes.")
        needed = rules.required(booking.unit_id)
        if needed and not needed & held:
            return (f"{rules.names[booking.unit_id]} demande {rules.listing(needed)}, que {name} n'a pas ce "
                    "jour-là : refusez la demande.")
    elif booking.status == "requested":  # a cancellation asked for was checked when the family asked
        orphaned = [d for d in rules.sorted(held) if booking.unit_id in rules.required(d)
                    and not rules.required(d) & held]
        if orphaned:
            return rules.orphan([booking.unit_id], orphaned[0])
    return None


# --- Configuration (the staff unit screen) ---------------------------------------------------


def save_rules(staff, unit: Unit, excludes: Iterable[int], requires: Iterable[int]) -> None:
    """Replace the exclusions and requirements a unit declares (units of its activity, never itself,
    never both excluded and required); InvalidInput in French otherwise, nothing changed."""
    excludes, requires = set(excludes), set(requires)
    siblings = {u.id: u for u in Unit.select().where((Unit.activity == unit.activity_id) & (Unit.id != unit.id))}
    if unit.id in excludes | requires:
        raise InvalidInput("Une prestation ne peut pas s'exclure ni se requérir elle-même.", "excludes")
    if (excludes | requires) - set(siblings):
        raise InvalidInput("Choisissez des prestations de la même activité.", "excludes")
    both = excludes & requires
    if both:
        raise InvalidInput(f"« {siblings[min(both)].name} » ne peut pas être à la fois exclue et requise.", "requires")
    theirs = Rules.load([unit.id])
    for other in sorted(requires):
        if theirs.declares(other, unit.id):
            raise InvalidInput(f"« {siblings[other].name} » exclut déjà cette prestation : elle ne peut pas la "
                               "requérir.", "requires")
    for other in sorted(excludes):
        if unit.id in theirs.required(other):
            raise InvalidInput(f"« {siblings[other].name} » requiert cette prestation : elle ne peut pas l'exclure.",
                               "excludes")
    with write_transaction():
        UnitRule.delete().where(UnitRule.unit == unit.id).execute()
        for kind, ids in (("excludes", excludes), ("requires", requires)):
            for other in sorted(ids):
                UnitRule.create(unit=unit, other=other, kind=kind)
        names = lambda ids: ", ".join(siblings[i].name for i in sorted(ids)) or "aucune"  # noqa: E731
        audit.record(staff, "unit.rules", unit, f"exclut : {names(excludes)} ; requiert : {names(requires)}")


def day_units(rules: Rules, basket: dict, bookings: dict, child_id: int, day: dt.date,
              but: int | None = None) -> tuple[set[int], set[int]]:
    """A child's ruled units on a day, from a status context's basket lines and bookings:
    (booked and not being cancelled, added in the basket)."""
    committed, adds = set(), set()
    for unit_id in rules.related_ids - {but}:
        line = basket.get((child_id, unit_id, day))
        booking = bookings.get((child_id, unit_id, day))
        if line is not None and line.action == "add":
            adds.add(unit_id)
        elif line is None and booking is not None and booking.status in HOLDING:
            committed.add(unit_id)
    return committed, adds


def ruled_status(rules: Rules, unit: Unit, status, committed: set[int], adds: set[int]):
    """A cell's status (day_status.DayStatus) with the day's rules applied: an available cell another unit
    excludes is « Incompatible avec Journée »; a dependent one says what it needs (« avec Matin ou
    Journée »); a basket line that can no longer go through says why."""
    needed = rules.required(unit.id)
    missing = bool(needed) and not needed & (committed | adds)
    if status.state == "basket_add":
        blocker = next((o for o in rules.sorted(rules.conflicts(unit.id)) if o in committed), None)
        if blocker is not None or missing:
            reason = rules.incompatible(blocker) if blocker is not None else rules.missing(unit.id)
            return replace(status, reason=reason, can_book=False)
        return status
    blocker = rules.blocking(unit.id, committed, adds)
    if blocker is not None:
        text = rules.incompatible(blocker)
        return replace(status, state="excluded", label=text, can_book=False,
                       reason=f"{text} : décochez {rules.names[blocker]} pour choisir {unit.name}")
    swap = rules.swappable(unit.id, adds)
    extra = ([f"remplace {rules.listing(swap, 'et')} du panier"] if swap else []) + \
        ([rules.hint(unit.id)] if missing else [])
    return replace(status, reason=" · ".join([status.reason, *extra])) if extra else status
