"""Access in one place: who may open a view, what the navigation shows to whom, and the household a
parent acts for."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, g, has_app_context, redirect, request, url_for
from flask_login import current_user

from blueprints.route_access import ACCESS, PARENT, PUBLIC, READERS, SIGNED_IN
from models import ActivityStaff, Household
from services.core import notifications

# Roles of the "staff" menu entries (the kitchen and the animateur see only what names them).
DEFAULT_STAFF_ROLES = ("agent", "regisseur", "admin")
# Roles with their own landing page (the others land on the /gestion dashboard).
HOMES = {"cuisine": "staff_headcounts.day", "animateur": "staff_attendance.sheet"}


def home_endpoint(user) -> str:
    """Where a signed-in user lands: parents on their space, the kitchen on headcounts, an animateur on
    the attendance sheet."""
    if not user.is_staff:
        return "portal.home"
    return HOMES.get(user.role, "staff.dashboard")


def led_activity_ids(user) -> set[int] | None:
    """The activities a staff member may see the children of: every one (None), or for an animateur
    only those they lead (ActivityStaff)."""
    if user.role != "animateur":
        return None
    return {row.activity_id for row in ActivityStaff.select().where(ActivityStaff.user == user.id)}


def activity_or_404(activity_id: int) -> None:
    """A page of another activity than the animateur's own is a page that does not exist for them."""
    led = led_activity_ids(current_user)
    if led is not None and activity_id not in led:
        abort(404)


def check_access():
    """Before every request: the ACCESS rule of the endpoint, for the signed-in user (None lets the view run)."""
    if request.routing_exception is not None:
        return None  # no view will run: Flask answers the 404, 405 or slash redirect itself
    rule = rule_for(request.endpoint, request.method)
    if rule is None:
        abort(404)  # an endpoint missing from ACCESS is closed (tests/test_sweep.py names it)
    if rule == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if rule == SIGNED_IN:
        return None
    if rule == PARENT:
        if current_user.is_staff:
            return redirect(url_for(home_endpoint(current_user)))
        if current_user.household_id is None:
            abort(404)
        return None
    if not current_user.is_staff:
        abort(404)  # a family never learns which staff pages exist
    if current_user.role != "admin" and current_user.role not in rule:
        abort(403)
    return None


def rule_for(endpoint: str | None, method: str):
    """Who may open `endpoint` with `method` (HEAD as GET), or None for an endpoint not in ACCESS."""
    rule = ACCESS.get(endpoint or "")
    if isinstance(rule, dict):
        rule = rule.get("GET" if method == "HEAD" else method, rule.get("GET"))
    return rule


def current_household() -> Household:
    """The household of the signed-in parent (every parent query starts here)."""
    return current_user.household


def owned_or_404(model, object_id: int, household_field: str = "household"):
    """Fetch an object by id only if it belongs to the current household; otherwise 404."""
    obj = model.get_or_none((model.id == object_id) & (getattr(model, household_field) == current_user.household_id))
    if obj is None:
        abort(404)
    return obj


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site is allowed as a post-login destination (no scheme, no host, no control
    characters: browsers drop tabs and newlines, so "/\t/evil.example" would become "//evil.example")."""
    if not target or any(ord(c) < 32 or ord(c) == 127 for c in target) or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")



# The navigation: (endpoint, label, who): "parent", "staff" (DEFAULT_STAFF_ROLES) or
# a tuple of roles (admin sees every staff entry). Entries whose endpoint is not registered are
# hidden, so an area appears in the menu as soon as its blueprint exists.
NAVIGATION = [
    ("portal.home", "Accueil", "parent"),
    ("family.account", "Mon compte", "parent"),
    ("enrolments.index", "Inscriptions", "parent"),
    ("early_years.index", "Petite enfance", "parent"),
    ("reservations.week", "Réservations", "parent"),
    ("outings.index", "Sorties et activités", "parent"),
    ("orders.index", "Commandes", "parent"),
    ("orders.alerts", "Alertes", "parent"),
    ("billing.invoices", "Factures", "parent"),
    ("messages.index", "Messages", "parent"),
    ("publications.news_list", "Actualités", "parent"),
    ("publications.documents", "Documents", "parent"),
    ("staff.dashboard", "Tableau de bord", "staff"),
    ("staff_family.households", "Familles", ("agent", "regisseur")),
    ("staff_activities.activities", "Activités", "staff"),
    ("staff_outings.index", "Sorties", "staff"),
    ("staff_bookings.orders", "Réservations", ("agent",)),
    ("staff_early_years.queue", "Petite enfance", ("agent",)),
    ("staff_billing.invoicing", "Facturation", ("regisseur",)),
    ("staff_headcounts.day", "Effectifs", ("agent", "cuisine")),
    ("staff_attendance.sheet", "Pointage", ("agent", "animateur")),
    ("staff_messages.inbox", "Messagerie", READERS),
    ("staff_mails.index", "Courriels", ("agent",)),
    ("staff_news.index", "Actualités", ("agent", "regisseur")),
    ("staff_publications.index", "Publications", ("agent", "regisseur")),
    ("staff_journal.index", "Journal", ("admin",)),
    ("staff_team.index", "Équipe", ("admin",)),
    ("staff_settings.edit", "Paramètres", ("admin",)),
    ("staff_schools.index", "Écoles", ("admin",)),
    ("staff_regies.index", "Régies", ("regisseur",)),
    ("staff_security.index", "Sécurité", ("agent", "regisseur", "admin", "cuisine", "animateur")),
]


def shown_to(user, who) -> bool:
    """Whether a navigation entry is for the signed-in user (see NAVIGATION)."""
    if not user.is_authenticated:
        return False
    if who == "parent":
        return not user.is_staff
    if not user.is_staff:
        return False
    if user.role == "admin":
        return True
    if who == "staff":
        return user.role in DEFAULT_STAFF_ROLES
    return user.role in who


def navigation_for(user, endpoints) -> list[tuple[str, str]]:
    """(endpoint, label) of the menu entries for this user, among the registered endpoints."""
    return [(endpoint, label) for endpoint, label, who in NAVIGATION if endpoint in endpoints and shown_to(user, who)]


# A count shown beside a parent's menu entry (« Alertes 3 »): endpoint → (function(household id) → int,
# the words a screen reader hears after 1, after more). Another area registers its own with one line,
# e.g. "messages.index": (messages.unread_count, "non lu", "non lus").
NAVIGATION_COUNTS = {
    "orders.alerts": (notifications.unread_count, "non lue", "non lues"),
}


def menu_count(endpoint: str, household_id: int | None = None) -> int:
    """A NAVIGATION_COUNTS figure of the signed-in household, counted once per request: the page that
    shows it (« Mes alertes (2 nouvelles) ») and the menu beside it share the query."""
    household_id = current_user.household_id if household_id is None else household_id
    if not has_app_context():  # a block built outside a request (a test, a script): nothing to share
        return NAVIGATION_COUNTS[endpoint][0](household_id)
    cache = g.setdefault("navigation_counts", {})
    if endpoint not in cache:
        cache[endpoint] = NAVIGATION_COUNTS[endpoint][0](household_id)
    return cache[endpoint]


def navigation_count(user, endpoint: str) -> tuple[int, str] | None:
    """(count, words) beside a parent's menu entry, None when there is nothing to count: one query per
    counted entry and request, none for staff or for a page that does not draw the menu."""
    entry = NAVIGATION_COUNTS.get(endpoint)
    if entry is None or not user.is_authenticated or user.is_staff or user.household_id is None:
        return None
    count = menu_count(endpoint, user.household_id)
    return (count, entry[1] if count == 1 else entry[2]) if count else None
