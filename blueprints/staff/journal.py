"""Staff: the audit journal (/gestion/journal): who did what and when, filtered by household, person,
kind and dates; health-data reads included. Administrators only (it shows every household)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from wtforms import Form, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from blueprints.form_fields import FrenchDate
from models import Household
from services.core import audit

bp = Blueprint("staff_journal", __name__, url_prefix="/gestion/journal")


class JournalFilters(Form):
    """The filters, read from the query string (a GET form: the filtered page can be bookmarked)."""

    foyer = IntegerField("Foyer (numéro)", validators=[Optional(), NumberRange(min=1, max=2 ** 63 - 1)])
    personne = StringField("Personne (nom ou adresse e-mail)", validators=[Optional()])
    type = SelectField("Type", choices=audit.kind_choices(), validators=[Optional()])
    du = FrenchDate("Du", "Indiquez le premier jour au format jj/mm/aaaa.", validators=[Optional()])
    au = FrenchDate("Au", "Indiquez le dernier jour au format jj/mm/aaaa.", validators=[Optional()])
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=100_000)])


@bp.get("")
def index():
    """The newest entries first, 50 per page; filters that do not parse are shown with their error."""
    filters = JournalFilters(request.args)
    valid = filters.validate()
    values = {name: (field.data if valid or not field.errors else None) for name, field in filters._fields.items()}
    result = audit.journal(household_id=values["foyer"], person=values["personne"] or "",
                           kind=values["type"] or "", start=values["du"], end=values["au"], page=values["page"] or 1)
    household = Household.get_or_none(Household.id == values["foyer"]) if values["foyer"] else None
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("staff/journal/index.html", filters=filters, result=result, household=household,
                           query=query)
