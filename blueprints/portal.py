"""The parent's home after sign-in (/mon-espace): the household's situation in blocks, each linking to its page.

DASHBOARD_BLOCKS is a registry: a callable (Home) → Block or None (nothing to say), shown in order.
Another area adds its block by appending to it (e.g. messages: `DASHBOARD_BLOCKS.append(messages_block)`)
without touching this module; the rules stay in its service.

Every parent lands here after signing in (the Thursday rush), so what several blocks need is read once
per request in Home (the children, the household's audience) and handed to the services; the unread
alerts are the menu's count. tests/test_parent_query_counts.py holds the page to its statement count.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from flask import Blueprint, render_template

from blueprints.access import current_household, menu_count
from models import Household
from services.billing import dashboard
from services.communication import messaging, news, publications
from services.communication.audience import HouseholdAudience, household_audience
from services.core import clock, formatting
from services.family import custody

bp = Blueprint("portal", __name__)


@dataclass
class Line:
    """One line of a block; with an endpoint, an action link (« Payer ») named after the line for screen readers."""

    text: str
    endpoint: str | None = None
    params: dict = field(default_factory=dict)
    action: str = ""


@dataclass
class Block:
    key: str  # DOM id: bloc-<key>
    title: str
    lines: list[Line]
    endpoint: str  # the page the block summarises
    link_label: str
    count: int | None = None  # shown next to the title when given
    empty: str = ""  # said when there are no lines
    params: dict = field(default_factory=dict)


class Home:
    """What the blocks share, read once per request: the household's children (one query) and its audience."""

    def __init__(self, household: Household):
        self.household = household
        self.children = custody.every_child(household)

    @cached_property
    def audience(self) -> HouseholdAudience:
        """Schools, class levels and activities of the children: the news, documents and deadlines blocks."""
        return household_audience(self.household, self.children.in_file)


def days_block(home: Home) -> Block | None:
    """Per child, what is booked today and tomorrow."""
    today = clock.today()
    lines = []
    for entry in dashboard.children_days(home.household, today, home.children.bookable):
        when = "Aujourd'hui" if entry.day == today else "Demain"
        what = ", ".join(entry.items) if entry.items else "rien de réservé"
        lines.append(Line(f"{entry.child.first_name} – {when} ({formatting.date_medium(entry.day)}) : {what}"))
    if not lines:
        return None
    return Block("jours", "Aujourd'hui et demain", lines, "reservations.week", "Voir les réservations de la semaine")


def deadlines_block(home: Home) -> Block | None:
    lines = [Line(text) for text in dashboard.next_deadlines(home.household, activity_ids=home.audience.activities)]
    if not lines:
        return None
    return Block("dates-limites", "Prochaines dates limites", lines, "reservations.week", "Réserver")


def invoices_block(home: Home) -> Block | None:
    rows = dashboard.unpaid_invoices(home.household)
    if not rows:
        return None
    lines = [Line(f"Facture {item.number} : {formatting.money(item.balance)} à payer – {status}",
                  "billing.invoice", {"invoice_id": item.id}, "Payer" if payable else "Voir")
             for item, status, payable in rows[:dashboard.SHOWN]]
    return Block("factures", "Factures à payer", lines, "billing.invoices", "Toutes mes factures", count=len(rows))


def alerts_block(home: Home) -> Block | None:
    count = menu_count("orders.alerts", home.household.id)  # the menu shows it too: one COUNT for both
    if not count:
        return None
    lines = [Line(f"{alert.title} ({formatting.date_medium(alert.created_at)})")
             for alert in dashboard.newest_unread_alerts(home.household)]
    return Block("alertes", "Alertes non lues", lines, "orders.alerts", "Voir mes alertes", count=count)


def documents_block(home: Home) -> Block | None:
    missing, expiring = dashboard.document_issues(home.household, children=home.children.own)
    lines = [Line(f"Manquant : {text}") for text in missing] + [Line(f"Bientôt expiré : {text}") for text in expiring]
    if not lines:
        return None
    return Block("documents", "Documents à fournir", lines[:dashboard.SHOWN], "family.documents_page",
                 "Envoyer un document", count=len(lines))


def pending_block(home: Home) -> Block | None:
    waiting = dashboard.pending(home.household)
    if not waiting.total:
        return None
    lines, endpoint = [], "orders.index"
    if waiting.orders_to_pay:
        lines.append(Line(f"{waiting.orders_to_pay} commande(s) en attente de paiement", "orders.index", {}, "Payer"))
    labels = {"requested": "jour(s) en attente de validation", "waiting_list": "jour(s) sur liste d'attente",
              "cancel_requested": "demande(s) d'annulation en attente"}
    for status, label in labels.items():
        if (waiting.bookings or {}).get(status):
            lines.append(Line(f"{waiting.bookings[status]} {label}", "orders.index", {}, "Voir"))
    if waiting.enrolments:
        lines.append(Line(f"{waiting.enrolments} inscription(s) en attente", "enrolments.index", {}, "Voir"))
    if waiting.changes:
        lines.append(Line(f"{waiting.changes} modification(s) de mon dossier en attente", "family.account", {}, "Voir"))
    return Block("en-attente", "En attente de la mairie", lines, endpoint, "Mes commandes", count=waiting.total)


def messages_block(home: Home) -> Block | None:
    count = messaging.unread_count(home.household)
    if not count:
        return None
    return Block("messages", "Messages", [Line(f"{count} réponse(s) de la mairie non lue(s)")], "messages.index",
                 "Lire mes messages", count=count)


def news_block(home: Home) -> Block | None:
    unread, count = news.unread_news_and_count(home.household, audience=home.audience)
    if not unread:
        return None
    lines = [Line(f"Nouveau : {item.title}", "publications.news_item", {"news_id": item.id}, "Lire")
             for item in unread]
    return Block("actualites", "Actualités", lines, "publications.news_list", "Toutes les actualités",
                 count=count)


def publications_block(home: Home) -> Block | None:
    fresh = publications.new_documents(home.household, dashboard.SHOWN, home.audience)
    if not fresh:
        return None
    lines = [Line(f"{document.category.name} : {document.title}", "publications.document_file",
                  {"publication_id": document.id}, "Ouvrir") for document in fresh]
    return Block("publications", "Nouveaux documents de la mairie", lines, "publications.documents",
                 "Tous les documents")


# In the order shown (another area may append its own).
DASHBOARD_BLOCKS: list[Callable[[Home], Block | None]] = [
    days_block, deadlines_block, invoices_block, messages_block, alerts_block, news_block, publications_block,
    documents_block, pending_block,
]


def blocks_for(household: Household, home: Home | None = None) -> list[Block]:
    """Every registered block with something to say, in order."""
    home = home or Home(household)
    return [block for block in (make(home) for make in DASHBOARD_BLOCKS) if block is not None]


@bp.get("/mon-espace")
def home():
    household = current_household()
    shared = Home(household)
    blocks = blocks_for(household, shared) if household.status != "draft" else []
    return render_template("portal/home.html", household=household, children=shared.children.in_file, blocks=blocks)
