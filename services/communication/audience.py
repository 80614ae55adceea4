"""Who sees a news item or a published document, and when: the one audience rule both use.

A household sees an item when it is published (not withdrawn, inside its window) and its audience is
everyone, or any of the household's children matches: the school, the activity (a validated
enrolment in an active activity), or the class level (of that school when the item names one).

What the children make a household the audience of (HouseholdAudience) is read once (household_audience)
and can be handed to several queries: the home page's news and documents blocks share one.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from peewee import Expression

from models import Activity, Child, Enrolment, Household, School
from models.prepared import prepared
from services.core.errors import InvalidInput
from services.family.household_fields import CLASS_LEVELS

LEVEL_SEPARATOR = "@"  # between a class level and a school id, in HouseholdAudience.level_schools and in SQL

AUDIENCE_LABELS = {"all": "Toutes les familles", "school": "Une école", "activity": "Une activité",
                   "class": "Une classe"}


@dataclass(frozen=True)
class Audience:
    """The checked audience of an item, as stored on it."""

    audience: str = "all"
    school: School | None = None
    activity: Activity | None = None
    class_level: str = ""


@dataclass(frozen=True)
class HouseholdAudience:
    """What a household's children make it the audience of, as the value lists of audience_condition."""

    schools: tuple[int, ...] = ()
    activities: tuple[int, ...] = ()  # validated enrolments in active activities
    levels: tuple[str, ...] = ()  # the children's class levels
    level_schools: tuple[str, ...] = ()  # "CE2@3": a class level at a school (see audience_condition)

    def values(self) -> tuple[list, list, list, list]:
        """The arguments of audience_condition after the model."""
        return list(self.schools), list(self.activities), list(self.levels), list(self.level_schools)


def household_audience(household: Household, children: Iterable[Child] | None = None) -> HouseholdAudience:
    """The household's audience, from its children in the file (read here when not given): one query more."""
    if children is None:
        children = household.children_in_file()
    children = [child for child in children if child.household_id == household.id and not child.archived]
    activities = [activity for (activity,) in _enrolled_activities([child.id for child in children])] if children else []
    return HouseholdAudience(
        tuple(sorted({child.school_id for child in children if child.school_id})), tuple(sorted(activities)),
        tuple(sorted({child.class_level for child in children if child.class_level})),
        tuple(sorted({f"{child.class_level}{LEVEL_SEPARATOR}{child.school_id}" for child in children
                      if child.class_level and child.school_id})))


@prepared
def _enrolled_activities(children):
    return (Enrolment.select(Enrolment.activity).join(Activity)
            .where(Enrolment.child.in_(children) & (Enrolment.status == "validated") & Activity.active)
            .distinct().tuples())


def visible_to(model, audience: HouseholdAudience, now: dt.datetime) -> Expression:
    """The condition on `model` (NewsItem or PublishedDocument) of the items a household of that audience sees at `now`."""
    return published_at(model, now) & audience_condition(model, *audience.values())


def published_at(model, now: dt.datetime) -> Expression:
    """Not withdrawn, and inside its publication window."""
    return (model.unpublished_at.is_null() & (model.publish_from <= now)
            & (model.publish_until.is_null() | (model.publish_until > now)))


def audience_condition(model, schools, activities, levels, level_schools) -> Expression:
    """Everyone, or one of the household's children matches: its school, its activity, or its class level
    (of that school when the item names one). One shape whatever the household, so that the home page's
    queries can be @prepared (Slots for the lists; an empty list matches nothing)."""
    level_at_school = model.class_level.concat(LEVEL_SEPARATOR).concat(model.school)  # "CE2@3"
    return ((model.audience == "all")
            | ((model.audience == "school") & model.school.in_(schools))
            | ((model.audience == "activity") & model.activity.in_(activities))
            | ((model.audience == "class") & model.school.is_null() & model.class_level.in_(levels))
            | ((model.audience == "class") & level_at_school.in_(level_schools)))


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
