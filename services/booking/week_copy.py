"""« Copier cette semaine pour… »: one child's week copied to the siblings the parent picks, service by
kind — the canteen to the sibling's canteen, the evening garderie to the sibling's evening garderie, even
when the siblings go to different schools — saying what could not be copied and why."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from models import Household, Unit
from services.booking import day_status as engine
from services.booking.basket import GridChange, apply_cells
from services.core import clock, formatting
from services.core.errors import NotFound


@dataclass
class CopyResult:
    change: GridChange = field(default_factory=GridChange)
    skipped: list[str] = field(default_factory=list)  # French, one line per service or day not copied


def counterpart(unit: Unit, units: Sequence[Unit]) -> Unit | None:
    """The sibling's unit matching `unit`: the same unit; else one of an activity of the same kind with
    the same name (« Garderie soir »); else the only unit of that kind. None when nothing matches."""
    if any(u.id == unit.id for u in units):
        return unit
    same_kind = [u for u in units if u.activity.kind == unit.activity.kind]
    named = [u for u in same_kind if u.name.casefold() == unit.name.casefold()]
    if len(named) == 1:
        return named[0]
    return same_kind[0] if len(same_kind) == 1 else None


def enrolled_units(household: Household, child_id: int, start: dt.date, end: dt.date) -> list[Unit]:
    """The units a child of the household is enrolled in over the range (the rows of its week)."""
    context = engine.week_statuses(household, start, end, clock.now())
    child = next((c for c in context.children if c.id == child_id), None)
    if child is None:
        raise NotFound("Cet enfant n'existe pas.")
    return context.bookable_units_for(child)


def copy_week(household: Household, child_id: int, start: dt.date, end: dt.date, *,
              to: Sequence[int] | None = None, now: dt.datetime | None = None) -> CopyResult:
    """Give the siblings `to` (every sibling when None) the source child's ticked days, unit by unit
    through counterpart(); days the engine refuses are reported by apply_cells, the rest here."""
    now = now or clock.now()
    context = engine.week_statuses(household, start, end, now)
    by_id = {c.id: c for c in context.children}
    source = by_id.get(child_id)
    if source is None or any(target not in by_id for target in (to or ())):
        raise NotFound("Cet enfant n'existe pas.")
    siblings = [c for c in context.children if c.id != source.id and (to is None or c.id in to)]
    result = CopyResult()
    wanted: dict[tuple[int, int, dt.date], bool] = {}
    for sibling in siblings:
        sibling_units = context.bookable_units_for(sibling)  # nothing to copy to a unit « sans réservation »
        for unit in context.bookable_units_for(source):
            ticked = {day for day in context.days() if context.status(source, unit, day).checked}
            target_unit = counterpart(unit, sibling_units)
            if target_unit is None:
                if ticked:
                    result.skipped.append(f"{sibling.first_name} : pas d'inscription équivalente à "
                                          f"« {unit.name} » ({unit.activity.name})")
                continue
            for day in context.days():
                target = context.status(sibling, target_unit, day)
                want = day in ticked
                if target.state == "closed":
                    if want:
                        result.skipped.append(f"{formatting.cell_name(sibling, target_unit, day)} : "
                                              f"{target.reason or target.label}")
                elif target.checked != want:
                    wanted[(sibling.id, target_unit.id, day)] = want
    if wanted:
        result.change = apply_cells(household, wanted, now)
    return result
