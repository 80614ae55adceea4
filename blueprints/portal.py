"""The parent's home after sign-in (/mon-espace): the household's situation in blocks, each linking to its page.

DASHBOARD_BLOCKS is a registry: a callable (household) → Block or None (nothing to say), shown in order.
Another area adds its block by appending to it (e.g. messages: `DASHBOARD_BLOCKS.append(messages_block)`)
without touching this module; the rules stay in its service.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, render_template

from blueprints.access import current_household
from models import Household
from services.billing import dashboard
from services.communication import messaging, news, publications
from services.core import clock, formatting

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


def days_block(household: Household) -> Block | None:
    """Per child, what is booked today and tomorrow."""
    today = clock.today()
    lines = []
    for entry in dashboard.children_days(household, today):
        when = "Aujourd'hui" if entry.day == today else "Demain"
        what = ", ".join(entry.items) if entry.items else "rien de réservé"
        lines.append(Line(f"{entry.child.first_name} – {when} ({formatting.date_medium(entry.day)}) : {what}"))
    if not lines:
        return None
    return Block("jours", "Aujourd'hui et demain", lines, "reservations.week", "Voir les réservations de la semaine")


def deadlines_block(household: Household) -> Block | None:
    lines = [Line(text) for text in dashboard.next_deadlines(household)]
    if not lines:
        return None
    return Block("dates-limites", "Prochaines dates limites", lines, "reservations.week", "Réserver")


def invoices_block(household: Household) -> Block | None:
    rows = dashboard.unpaid_invoices(household)
    if not rows:
        return None
    lines = [Line(f"Facture {item.number} : {formatting.money(item.balance)} à payer – {status}",
                  "billing.invoice", {"invoice_id": item.id}, "Payer" if payable else "Voir")
             for item, status, payable in rows[:dashboard.SHOWN]]
    return Block("factures", "Factures à payer", lines, "billing.invoices", "Toutes mes factures", count=len(rows))


def alerts_block(household: Household) -> Block | None:
    count, newest = dashboard.unread_alerts(household)
    if not count:
        return None
    lines = [Line(f"{alert.title} ({formatting.date_medium(alert.created_at)})") for alert in newest]
    return Block("alertes", "Alertes non lues", lines, "orders.alerts", "Voir mes alertes", count=count)


def documents_block(household: Household) -> Block | None:
    missing, expiring = dashboard.document_issues(household)
    lines = [Line(f"Manquant : {text}") for text in missing] + [Line(f"Bientôt expiré : {text}") for text in expiring]
    if not lines:
        return None
    return Block("documents", "Documents à fournir", lines[:dashboard.SHOWN], "family.documents_page",
                 "Envoyer un document", count=len(lines))


def pending_block(household: Household) -> Block | None:
    waiting = dashboard.pending(household)
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


def messages_block(household: Household) -> Block | None:
    count = messaging.unread_count(household)
    if not count:
        return None
    return Block("messages", "Messages", [Line(f"{count} réponse(s) de la mairie non lue(s)")], "messages.index",
                 "Lire mes messages", count=count)


def news_block(household: Household) -> Block | None:
    unread = news.unread_news(household)
    if not unread:
        return None
    lines = [Line(f"Nouveau : {item.title}", "publications.news_item", {"news_id": item.id}, "Lire")
             for item in unread]
    return Block("actualites", "Actualités", lines, "publications.news_list", "Toutes les actualités",
                 count=news.unread_news_count(household))


def publications_block(household: Household) -> Block | None:
    fresh = publications.new_documents(household, dashboard.SHOWN)
    if not fresh:
        return None
    lines = [Line(f"{document.category.name} : {document.title}", "publications.document_file",
                  {"publication_id": document.id}, "Ouvrir") for document in fresh]
    return Block("publications", "Nouveaux documents de la mairie", lines, "publications.documents",
                 "Tous les documents")


# In the order shown (another area may append its own).
DASHBOARD_BLOCKS: list[Callable[[Household], Block | None]] = [
    days_block, deadlines_block, invoices_block, messages_block, alerts_block, news_block, publications_block,
    documents_block, pending_block,
]


def blocks_for(household: Household) -> list[Block]:
    """Every registered block with something to say, in order."""
    return [block for block in (make(household) for make in DASHBOARD_BLOCKS) if block is not None]


@bp.get("/mon-espace")
def home():
    household = current_household()
    children = household.children_in_file()
    blocks = blocks_for(household) if household.status != "draft" else []
    return render_template("portal/home.html", household=household, children=children, blocks=blocks)
