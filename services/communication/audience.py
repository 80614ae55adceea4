"""Who sees a news item or a published document, and when: the one audience rule both use.

A household sees an item when it is published (not withdrawn, inside its window) and its audience is
everyone, or any of the household's children matches: the school, the activity (a validated
enrolment in an active activity), or the class level (of that school when the item names one).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import Expression

from models import Activity, Child, Enrolment, Household, School
from services.core.errors import InvalidInput
from services.family.household_fields import CLASS_LEVELS

AUDIENCE_LABELS = {"all": "Toutes les familles", "school": "Une école", "activity": "Une activité",
                   "class": "Une classe"}


@dataclass(frozen=True)
class Audience:
    """The checked audience of an item, as stored on it."""

    audience: str = "all"
    school: School | None = None
    activity: Activity | None = None
    class_level: str = ""


def visible_to(model, household: Household, now: dt.datetime) -> Expression:
    """The condition on `model` (NewsItem or PublishedDocument) of the items `household` sees at `now`."""
    return published_at(model, now) & _audience_of(model, household)


def published_at(model, now: dt.datetime) -> Expression:
    """Not withdrawn, and inside its publication window."""
    return (model.unpublished_at.is_null() & (model.publish_from <= now)
            & (model.publish_until.is_null() | (model.publish_until > now)))


def _audience_of(model, household: Household) -> Expression:
    """The audience part of visible_to: everyone, or one of the household's children matches."""
    children = list(Child.select(Child.id, Child.school, Child.class_level)
                    .where((Child.household == household) & (Child.archived == False)))  # noqa: E712
    condition = model.audience == "all"
    schools = {child.school_id for child in children if child.school_id}
    if schools:
        condition |= (model.audience == "school") & model.school.in_(schools)
    activities = [row.activity_id for row in Enrolment.select(Enrolment.activity).join(Activity)
                  .where(Enrolment.child.in_([child.id for child in children]) & (Enrolment.status == "validated")
                         & (Activity.active == True))]  # noqa: E712
    if activities:
        condition |= (model.audience == "activity") & model.activity.in_(activities)
    levels: dict[str, set[int]] = {}
    for child in children:
        if child.class_level:
            levels.setdefault(child.class_level, set()).update({child.school_id} if child.school_id else set())
    for level, level_schools in levels.items():
        same_school = model.school.is_null()
        if level_schools:
            same_school |= model.school.in_(level_schools)
        condition |= (model.audience == "class") & (model.class_level == level) & same_school
    return condition


def check_audience(audience: str, school_id: int | None, activity_id: int | None, class_level: str) -> Audience:
    """The audience chosen on a staff form, checked; only the fields its kind uses are kept."""
    if audience not in AUDIENCE_LABELS:
        raise InvalidInput("Choisissez à qui s'adresse la publication.", field="audience")
    school = School.get_or_none(School.id == school_id) if school_id else None
    if audience == "all":
        return Audience()
    if audience == "school":
        if school is None:
            raise InvalidInput("Choisissez l'école dont les familles verront la publication.", field="school")
        return Audience("school", school=school)
    if audience == "activity":
        activity = Activity.get_or_none(Activity.id == activity_id) if activity_id else None
        if activity is None:
            raise InvalidInput("Choisissez l'activité dont les familles inscrites verront la publication.",
                               field="activity")
        return Audience("activity", activity=activity)
    if class_level not in CLASS_LEVELS:
        raise InvalidInput("Choisissez la classe (de TPS à CM2) dont les familles verront la publication.",
                           field="class_level")
    if school is not None and school.class_list and class_level not in school.class_list:
        raise InvalidInput(f"L'école « {school.name} » n'a pas de classe {class_level} : choisissez une autre "
                           "classe ou « toutes les écoles ».", field="class_level")
    return Audience("class", school=school, class_level=class_level)


def check_window(publish_from: dt.datetime | None, publish_until: dt.datetime | None,
                 now: dt.datetime) -> tuple[dt.datetime, dt.datetime | None]:
    """The publication window: from now when not given; an end, when given, after the start."""
    start = publish_from or now.replace(second=0, microsecond=0)
    if publish_until is not None and publish_until <= start:
        raise InvalidInput("La fin de publication doit venir après son début.", field="publish_until")
    return start, publish_until


def audience_label(item) -> str:
    """« Classe CE2 – École du Phare », « ALSH Mercredi », « Toutes les familles »… for the staff lists."""
    if item.audience == "school" and item.school_id:
        return item.school.name
    if item.audience == "activity" and item.activity_id:
        return item.activity.name
    if item.audience == "class":
        return f"Classe {item.class_level}" + (f" – {item.school.name}" if item.school_id else " (toutes les écoles)")
    if item.audience == "all":
        return AUDIENCE_LABELS["all"]
    return "Personne (école ou activité supprimée)"


def state_of(item, now: dt.datetime) -> str:
    """The staff lists' state: Dépubliée, Programmée, Terminée or En ligne."""
    if item.unpublished_at is not None:
        return "Dépubliée"
    if item.publish_from > now:
        return "Programmée"
    if item.publish_until is not None and item.publish_until <= now:
        return "Terminée"
    return "En ligne"
