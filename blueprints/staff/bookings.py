"""Staff side of reservations (/gestion/reservations): requests to accept or refuse (per line or
per order, with places left), waiting lists (give a freed place) and declared absences."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from blueprints.staff import DASHBOARD_QUEUES
from blueprints.staff.booking_forms import DecisionForm
from models import AbsenceDeclaration, Booking
from services.booking import absences, orders
from services.core import audit
from services.core.errors import DomainError, NotFound

bp = Blueprint("staff_bookings", __name__, url_prefix="/gestion/reservations")


@bp.get("/")
def orders_queue():
    """Requests waiting for a decision, grouped by order, with live places left."""
    requests = orders.pending_requests()
    groups: dict = {}
    for item in requests:
        key = item.order_line.order.id if item.order_line else f"b{item.booking.id}"
        groups.setdefault(key, []).append(item)
    return render_template("staff/bookings/index.html", groups=list(groups.values()),
                           waiting=orders.waiting_lists(), absences=absences.pending_absences())


# The navigation's reserved endpoint.
bp.add_url_rule("/", endpoint="orders", view_func=orders_queue, methods=["GET"])


def _decision() -> tuple[bool, str]:
    form = DecisionForm(request.form)
    if not form.validate():
        abort(400)
    return form.decision.data == "accepter", form.reason.data or ""


def _decide(action, success) -> object:
    """Run a staff decision: 404 for an unknown object, the rule's message on refusal."""
    try:
        result = action()
    except NotFound:
        abort(404)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(success(result), "success")
    return redirect(url_for("staff_bookings.orders"))


def _staff():
    return current_user._get_current_object()


@bp.post("/lignes/<int:booking_id>")
def decide_line(booking_id: int):
    accept, reason = _decision()
    return _decide(lambda: orders.decide(booking_id, accept, reason, _staff()),
                   lambda b: f"Décision enregistrée ({'acceptée' if accept else 'refusée'}) : {b.child.first_name}, "
                             f"{b.unit.name}, {b.date.strftime('%d/%m/%Y')}. La famille est prévenue.")


@bp.post("/commandes/<int:order_id>")
def decide_order(order_id: int):
    accept, reason = _decision()
    return _decide(lambda: orders.decide_order(order_id, accept, reason, _staff()),
                   lambda n: f"{n} ligne(s) {'acceptée(s)' if accept else 'refusée(s)'}. La famille est prévenue.")


@bp.post("/attente/<int:booking_id>")
def confirm_waiting(booking_id: int):
    return _decide(lambda: orders.confirm_waiting(booking_id, _staff()),
                   lambda b: f"Place attribuée à {b.child.first_name} ; la famille est prévenue.")


@bp.post("/absences/<int:declaration_id>")
def decide_absence(declaration_id: int):
    accept, reason = _decision()
    return _decide(lambda: absences.decide_absence(declaration_id, accept, reason, _staff(),
                                                 current_app.config["UPLOAD_DIR"]),
                   lambda _d: "Décision enregistrée ; la famille est prévenue.")


@bp.get("/absences/<int:declaration_id>/justificatif")
def absence_certificate(declaration_id: int):
    """The certificate sent with a declaration, as an attachment; every read is in the audit log."""
    try:
        declaration, path = absences.absence_certificate(declaration_id, current_app.config["UPLOAD_DIR"])
    except NotFound:
        abort(404)
    audit.record(current_user, "lecture d'un justificatif d'absence", declaration, detail=declaration.document_name)
    response = send_file(path, as_attachment=True, download_name=declaration.document_name or "justificatif")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _requests_queue():
    count = Booking.select().where(Booking.status.in_(("requested", "cancel_requested"))).count()
    return {"label": "Réservations à valider", "count": count, "endpoint": "staff_bookings.orders"} if count else None


def _absences_queue():
    count = AbsenceDeclaration.select().where(AbsenceDeclaration.status == "pending").count()
    return {"label": "Absences déclarées", "count": count, "endpoint": "staff_bookings.orders"} if count else None


DASHBOARD_QUEUES.extend([_requests_queue, _absences_queue])
