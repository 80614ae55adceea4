"""Access in one place: who may open a view, what the navigation shows to whom, and the household a
parent acts for."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, redirect, request, url_for
from flask_login import current_user

from models import ActivityStaff, Household

# The kitchen role (read-only, headcounts) and the animateur (attendance of the activities they lead)
# pass only where a view names them.
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


def parent_required(view):
    """Signed-in parent with a household; staff are sent to /gestion."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if current_user.is_staff:
            return redirect(url_for(home_endpoint(current_user)))
        if current_user.household_id is None:
            abort(404)
        return view(*args, **kwargs)
    return wrapper


def staff_required(*roles: str):
    """Signed-in staff member, limited to `roles` (admin always passes); without roles, every staff
    role but the kitchen's."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not current_user.is_staff:
                abort(404)
            if current_user.role not in (roles or DEFAULT_STAFF_ROLES) and current_user.role != "admin":
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorator


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
    ("reservations.week", "Réservations", "parent"),
    ("orders.index", "Commandes", "parent"),
    ("billing.invoices", "Factures", "parent"),
    ("messages.index", "Messages", "parent"),
    ("staff.dashboard", "Tableau de bord", "staff"),
    ("staff_family.households", "Familles", ("agent", "regisseur")),
    ("staff_activities.activities", "Activités", "staff"),
    ("staff_bookings.orders", "Réservations", ("agent",)),
    ("staff_billing.invoicing", "Facturation", ("regisseur",)),
    ("staff_headcounts.day", "Effectifs", ("agent", "cuisine")),
    ("staff_attendance.sheet", "Pointage", ("agent", "animateur")),
    ("staff_mails.index", "Courriels", ("agent",)),
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
