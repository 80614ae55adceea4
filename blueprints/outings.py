"""Parents' outings and youth activities (/activites): upcoming events by age group, the detail of one
and the registration of several children of the household in one step (services/booking/outings.py)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.access import current_household
from blueprints.form_fields import Ids, InputForm
from models import Order
from services.booking import outings
from services.core import clock
from services.core.errors import DomainError, NotFound

bp = Blueprint("outings", __name__, url_prefix="/activites")


class RegistrationForm(InputForm):
    """The ticked children (ids; the service checks they are the household's)."""

    child_ids = Ids()


@bp.get("/")
def index():
    household = current_household()
    return render_template("outings/index.html", groups=outings.by_age_group(outings.upcoming(household)),
                           kinds=outings.KIND_LABELS)


def _card_or_404(household, outing_id: int) -> outings.OutingCard:
    try:
        outing = outings.get_outing(outing_id)
    except NotFound:
        abort(404)
    return outings.cards(household, [outing])[0]


def _render_detail(card: outings.OutingCard, error=None, ticked=(), status: int = 200):
    household = current_household()
    children = outings.household_children(household)
    facts = outings.document_status({household.id}, card.outing)
    documents = {c.id: outings.child_documents(facts, c, card.outing) for c in children}
    return render_template("outings/detail.html", card=card, outing=card.outing, children=children, error=error,
                           reasons={c.id: outings.ineligibility(c, card.outing) for c in children},
                           documents=documents, types={t.id: t for t in card.documents}, ticked=set(ticked),
                           kinds=outings.KIND_LABELS, age_label=outings.age_label(card.outing),
                           document_labels=outings.DOCUMENT_LABELS, today=clock.today()), status


@bp.get("/<int:outing_id>")
def detail(outing_id: int):
    return _render_detail(_card_or_404(current_household(), outing_id))


@bp.post("/<int:outing_id>/inscription")
def register(outing_id: int):
    """Register the ticked children in one step; a refusal registers nobody and says why."""
    household = current_household()
    card = _card_or_404(household, outing_id)
    form = RegistrationForm(request.form)
    form.validate()
    try:
        validation = outings.register(current_user._get_current_object(), household, card.outing,
                                      form.child_ids.data)
    except NotFound:
        abort(404)
    except DomainError as refusal:
        return _render_detail(card, refusal.message, form.child_ids.data, 400)
    order: Order = validation.order
    summary = " ; ".join(f"{r.child.first_name} : {outings.REGISTRATION_LABELS.get(r.outcome, r.outcome_label)}"
                         + (f" (position {r.waiting_position})" if r.waiting_position else "")
                         for r in validation.placed)
    flash(f"Commande n° {order.number} enregistrée – {summary}.", "success")
    if order.payment_status == "awaiting_payment":
        return redirect(url_for("orders.detail", order_id=order.id))
    return redirect(url_for("outings.detail", outing_id=outing_id))
