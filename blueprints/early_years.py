"""Parents' crèche requests (/petite-enfance, « Demandes d'accueil »): file one, follow them, withdraw one."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.access import current_household, owned_or_404
from blueprints.form_fields import Day, Identifier, InputForm, Text
from blueprints.portal import DASHBOARD_BLOCKS, Block, Home, Line
from models import Child, EarlyYearsRequest, EarlyYearsStructure
from services.core.errors import DomainError, NotFound
from services.family import early_years

bp = Blueprint("early_years", __name__, url_prefix="/petite-enfance")


class CareRequestForm(InputForm):
    """A request as posted: the child, the structure, the start date, the hours of each weekday, the situation."""

    child_id = Identifier()
    structure_id = Identifier()
    start_date = Day("la date d'entrée souhaitée", required=True)
    from_0, to_0 = Text("l'arrivée le lundi", max_length=5), Text("le départ le lundi", max_length=5)
    from_1, to_1 = Text("l'arrivée le mardi", max_length=5), Text("le départ le mardi", max_length=5)
    from_2, to_2 = Text("l'arrivée le mercredi", max_length=5), Text("le départ le mercredi", max_length=5)
    from_3, to_3 = Text("l'arrivée le jeudi", max_length=5), Text("le départ le jeudi", max_length=5)
    from_4, to_4 = Text("l'arrivée le vendredi", max_length=5), Text("le départ le vendredi", max_length=5)
    situation = Text("votre situation", required=True, empty="Choisissez votre situation dans la liste.")
    comment = Text("le commentaire", max_length=1000)

    def hours(self) -> dict[int, tuple[str, str]]:
        return {day: (self[f"from_{day}"].data or "", self[f"to_{day}"].data or "")
                for day in range(len(early_years.WEEKDAYS))}


def _page(template: str, status: int = 200, **context):
    household = current_household()
    return render_template(template, requests=early_years.requests_of(household),
                           children=early_years.children_for(household), structures=early_years.structures(),
                           labels=early_years.STATUS_LABELS, icons=early_years.STATUS_ICONS, kinds=early_years.KINDS,
                           rules=early_years, **context), status


@bp.get("")
def index():
    """The household's requests with their state and the commune's answer."""
    return _page("early_years/index.html")


@bp.route("/nouvelle", methods=["GET", "POST"])
def new():
    """« Nouvelle demande d'accueil »: refused input is shown again with a French message, nothing saved."""
    form = CareRequestForm(request.form if request.method == "POST" else None)
    if request.method == "GET":
        return _page("early_years/new.html", form=form, shown=form.shown(), error=None)
    household = current_household()
    try:
        form.check()
        child = Child.get_or_none((Child.id == (form.child_id.data or 0)) & (Child.household == household.id)
                                  & ~Child.archived)
        if child is None:
            abort(404)
        structure = EarlyYearsStructure.get_or_none(EarlyYearsStructure.id == (form.structure_id.data or 0))
        slots = early_years.parse_schedule(form.hours())
        early_years.file_request(current_user, household, child, structure, form.start_date.data, slots,
                                 form.situation.data, form.comment.data)
    except DomainError as refusal:
        return _page("early_years/new.html", 400, form=form, shown=form.shown(), error=refusal)
    flash(f"Votre demande d'accueil pour {child.first_name or 'votre enfant à naître'} est envoyée : "
          "vous serez prévenu par e-mail de la décision de la commission.", "success")
    return redirect(url_for("early_years.index"))


@bp.post("/<int:care_request_id>/retirer")
def withdraw(care_request_id: int):
    """Withdraw a request not yet decided (another household's request: 404)."""
    care_request = owned_or_404(EarlyYearsRequest, care_request_id)
    try:
        early_years.withdraw(current_user, current_household(), care_request)
    except NotFound:
        abort(404)
    except DomainError as refusal:
        flash(refusal.message, "error")
    else:
        flash("Votre demande a été retirée.", "success")
    return redirect(url_for("early_years.index"))


def early_years_block(home: Home) -> Block | None:
    """On the parent's home: the requests still followed (not withdrawn), with the commune's answer."""
    rows = [r for r in early_years.requests_of(home.household) if r.status != "withdrawn"][:3]
    if not rows:
        return None
    lines = [Line(f"{r.child.first_name or 'Enfant à naître'} – {r.structure.name} : "
                  f"{early_years.STATUS_LABELS[r.status]}") for r in rows]
    return Block("petite-enfance", "Demandes d'accueil petite enfance", lines, "early_years.index",
                 "Voir mes demandes d'accueil")


DASHBOARD_BLOCKS.append(early_years_block)
