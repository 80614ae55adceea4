"""Actualités: what a household reads (newest first, « Nouveau » until the family opens it) and what
staff write (Markdown, audience, window, one image or PDF, « Dépublier»).

Read markers are per household, not per user: the news is about the family's children, both
guardians share one family space, and « Nouveau » says whether the family has seen it.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

from peewee import JOIN, fn

from models import Activity, Child, Enrolment, Household, NewsItem, NewsRead, School, User
from models.prepared import prepared
from services.accounts import mail_preferences
from services.communication import files, publishing
from services.communication.audience import (HouseholdAudience, audience_condition, check_audience, check_window,
                                              household_audience, published_at, visible_to)
from services.core import clock, events, outbox
from services.core.errors import InvalidInput, NotFound
from services.core.transactions import write_transaction

WORDING = publishing.Wording("actualité publiée", "actualité modifiée", "actualité republiée", "actualité dépubliée")

PER_PAGE = 10


@dataclass(frozen=True)
class Draft:
    """What a staff form sends for a news item or a document (parsed by the view, checked here)."""

    title: str
    audience: str = "all"
    school_id: int | None = None
    activity_id: int | None = None
    class_level: str = ""
    publish_from: dt.datetime | None = None
    publish_until: dt.datetime | None = None
    body: str = ""


@dataclass(frozen=True)
class NewsRow:
    item: NewsItem
    new: bool


@dataclass(frozen=True)
class NewsPage:
    rows: list[NewsRow]
    page: int
    pages: int
    total: int


def _visible(household: Household, audience: HouseholdAudience | None = None):
    if audience is None:
        audience = household_audience(household)
    return NewsItem.select().where(visible_to(NewsItem, audience, clock.local_now()))


def news_for(household: Household, page: int = 1, per_page: int = PER_PAGE) -> NewsPage:
    """One page of the household's news, newest first, each marked new or read."""
    query = _visible(household)
    total = query.count()
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    items = list(query.order_by(NewsItem.publish_from.desc(), NewsItem.id.desc()).paginate(page, per_page))
    read = {row.news_id for row in NewsRead.select(NewsRead.news)
            .where((NewsRead.household == household) & NewsRead.news.in_([item.id for item in items]))}
    return NewsPage([NewsRow(item, item.id not in read) for item in items], page, pages, total)


def news_item_for(household: Household, news_id: int) -> NewsItem:
    """A news item the household may read; NotFound for any other (not published, another audience)."""
    item = _visible(household).where(NewsItem.id == news_id).first()
    if item is None:
        raise NotFound("Actualité introuvable.")
    return item


def mark_read(household: Household, item: NewsItem) -> None:
    """The family has opened it: no longer « Nouveau » (a second opening changes nothing)."""
    with write_transaction():
        NewsRead.insert(news=item, household=household, read_at=clock.local_now()) \
            .on_conflict_ignore().execute()


def unread_news(household: Household, limit: int = 3, audience: HouseholdAudience | None = None) -> list[NewsItem]:
    """The household's newest news items not opened yet (for the home page)."""
    return unread_news_and_count(household, limit, audience)[0]


def unread_news_count(household: Household, audience: HouseholdAudience | None = None) -> int:
    """How many news items the household sees and has not opened (for the home page)."""
    read = NewsRead.select(NewsRead.news).where(NewsRead.household == household)
    return _visible(household, audience).where(NewsItem.id.not_in(read)).count()


def unread_news_and_count(household: Household, limit: int = 3,
                          audience: HouseholdAudience | None = None) -> tuple[list[NewsItem], int]:
    """(the newest unread items, how many are unread) in one query, for the home page: the count is a
    window over the rows before the LIMIT."""
    if audience is None:
        audience = household_audience(household)
    items = _unread_with_total(household.id, clock.local_now(), *audience.values(), limit)
    return items, (items[0].unread_total if items else 0)


@prepared
def _unread_with_total(household, now, schools, activities, levels, level_schools, limit):
    read = NewsRead.select(NewsRead.news).where(NewsRead.household == household)
    return (NewsItem.select(NewsItem, fn.COUNT(NewsItem.id).over().alias("unread_total"))
            .where(published_at(NewsItem, now) & audience_condition(NewsItem, schools, activities, levels, level_schools)
                   & NewsItem.id.not_in(read))
            .order_by(NewsItem.publish_from.desc(), NewsItem.id.desc()).limit(limit))


# --- Staff -----------------------------------------------------------------------------------------

def all_news() -> list[NewsItem]:
    """Every news item for the staff list, newest first (scheduled and withdrawn ones included)."""
    return list(NewsItem.select(NewsItem, School, Activity).join(School, JOIN.LEFT_OUTER).switch(NewsItem)
                .join(Activity, JOIN.LEFT_OUTER).order_by(NewsItem.publish_from.desc(), NewsItem.id.desc()))


def get_news(news_id: int) -> NewsItem:
    item = NewsItem.get_or_none(NewsItem.id == news_id)
    if item is None:
        raise NotFound("Actualité introuvable.")
    return item


def save_news(staff: User, draft: Draft, upload_dir: str | Path,
              attachment: tuple[str, bytes] | None = None, remove_attachment: bool = False,
              item: NewsItem | None = None) -> NewsItem:
    """Create or update a news item (audience and window checked); a new file replaces the old one,
    which is deleted once the change is committed."""
    if not draft.title.strip():
        raise InvalidInput("Donnez un titre à l'actualité.", field="title")
    if not draft.body.strip():
        raise InvalidInput("Écrivez le texte de l'actualité.", field="body")
    audience = check_audience(draft.audience, draft.school_id, draft.activity_id, draft.class_level)
    now = clock.local_now()
    start, until = check_window(draft.publish_from, draft.publish_until, now)
    stored = files.store(upload_dir, *attachment) if attachment else None
    old_file = ""
    values = dict(title=draft.title.strip(), body=draft.body, audience=audience.audience, school=audience.school,
                  activity=audience.activity, class_level=audience.class_level, publish_from=start,
                  publish_until=until, updated_at=now)
    if item is not None and (stored or remove_attachment):
        old_file = item.attachment_stored
        values.update(attachment_stored="", attachment_name="", attachment_mime="")
    if stored:
        values.update(attachment_stored=stored[0], attachment_name=stored[1], attachment_mime=stored[2])
    return publishing.save(staff, NewsItem, item, values, upload_dir, stored, old_file, WORDING)


def set_published(staff: User, item: NewsItem, published: bool) -> NewsItem:
    """« Dépublier » takes it off the parents' pages at once; « Republier » puts it back in its window."""
    return publishing.set_published(staff, NewsItem, item, published, WORDING)


def attachment_path(item: NewsItem, upload_dir: str | Path) -> Path:
    """The attached file of a news item; NotFound when it has none."""
    if not item.attachment_stored:
        raise NotFound("Cette actualité n'a pas de pièce jointe.")
    return files.path_of(upload_dir, item.attachment_stored)


# --- E-mail to the audience (the worker) -------------------------------------------------------------


def audience_households(item: NewsItem) -> list[int]:
    """The households that see `item` (open ones): the audience rule read the other way round."""
    children = Child.select(Child.household).where(Child.archived == False)  # noqa: E712
    if item.audience == "school":
        children = children.where(Child.school == item.school_id)
    elif item.audience == "activity":
        children = children.join(Enrolment, on=(Enrolment.child == Child.id)).join(Activity).where(
            (Enrolment.activity == item.activity_id) & (Enrolment.status == "validated") & (Activity.active == True))  # noqa: E712
    elif item.audience == "class":
        children = children.where(Child.class_level == item.class_level)
        if item.school_id:
            children = children.where(Child.school == item.school_id)
    households = Household.select(Household.id).where((Household.status != "closed") & Household.anonymised_at.is_null())
    if item.audience != "all":
        households = households.where(Household.id.in_(children))
    return [row.id for row in households.order_by(Household.id)]


def mail_published_news(now: dt.datetime | None = None, base_url: str = "") -> int:
    """Every news item that went live and was not e-mailed yet goes, once, to the parents of its audience
    who kept « Actualités de la commune » (/mon-compte/courriels). Returns how many items were sent."""
    now = now or clock.local_now()
    due = list(NewsItem.select().where(published_at(NewsItem, now) & NewsItem.mailed_at.is_null()).order_by(NewsItem.id))
    sent = 0
    for item in due:
        link = f"{base_url.rstrip('/')}/actualites/{item.id}" if base_url else "la rubrique « Actualités » du portail famille"
        with write_transaction():
            fresh = NewsItem.get_or_none((NewsItem.id == item.id) & NewsItem.mailed_at.is_null())
            if fresh is None:
                continue  # another run sent it
            addresses = mail_preferences.addresses_wanting(audience_households(fresh), mail_preferences.NEWS)
            outbox.send_many([(address, f"Actualité : {fresh.title}",
                               f"Bonjour,\n\nLa mairie a publié une actualité : « {fresh.title} ».\n"
                               f"Lisez-la sur le portail famille : {link}\n\n"
                               "Pour ne plus recevoir ces e-mails : Mon compte, « Préférences de courriels ».\n")
                              for household_addresses in addresses.values() for address in household_addresses])
            NewsItem.update(mailed_at=now).where(NewsItem.id == fresh.id).execute()
        sent += 1
        events.emit("news.mailed", news=item.id, households=len(addresses))
    return sent
