"""Staff: the commune's régies (/gestion/regies, administrators and régisseurs): list, « Nouvelle
régie », edit. The rules live in services/billing/regies.py; these views read forms and show answers."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import Field

from blueprints.form_fields import Checked, Flag, InputForm, Text, WholeNumber
from models import Payment, Regie
from services.billing import invoice_numbers, regies
from services.core.errors import DomainError, NotFound

bp = Blueprint("staff_regies", __name__, url_prefix="/gestion/regies")



class Keys(Field):
    """Ticked boxes sharing one name: their values as sent (the service keeps the known ones or refuses)."""

    def process_formdata(self, valuelist) -> None:
        self.data = [value for value in valuelist if isinstance(value, str) and len(value) <= 40]

    def process_data(self, value) -> None:
        self.data = list(value or [])

    def _value(self) -> list[str]:
        return list(self.data or [])


class RegieForm(InputForm):
    name = Text("le nom de la régie", required=True, max_length=120)
    code = Checked(invoice_numbers.normalise_code)
    payfip_client = Text("le numéro client PayFiP", max_length=20)
    payment_modes = Keys()
    payment_days = WholeNumber("le délai de paiement (en jours)", required=True, minimum=1, maximum=365)
    treasury_days = WholeNumber("le délai avant paiement en ligne (en jours)", required=True, maximum=365)
    prepayment = Flag()
    # The SEPA creditor of the régie's prélèvements: checked by services.billing.direct_debit.clean_creditor.
    sepa_creditor_name = Text("le nom du créancier", max_length=200)
    sepa_creditor_id = Text("l'ICS", max_length=200)
    sepa_iban = Text("l'IBAN", max_length=200)
    sepa_bic = Text("le BIC", max_length=200)
    CREDITOR = ("sepa_creditor_name", "sepa_creditor_id", "sepa_iban", "sepa_bic")
    STORED = ("name", "code", "payfip_client", "payment_days", "treasury_days", "prepayment", *CREDITOR)

    @classmethod
    def new(cls) -> RegieForm:
        return cls(data={"payment_days": 30, "treasury_days": 0, "payment_modes": list(Payment.MODES)})

    @classmethod
    def of(cls, regie: Regie) -> RegieForm:
        return cls(data={**{name: getattr(regie, name) for name in cls.STORED}, "payment_modes": regie.mode_list})

    def settings(self) -> dict:
        """The keyword arguments of services.billing.regies.save_regie (the creditor fields the page
        sent: a form without them leaves the stored ones as they are)."""
        return {"name": self.name.data, "code": self.code.data, "payfip_client": self.payfip_client.data,
                "payment_modes": self.payment_modes.data, "payment_days": self.payment_days.data,
                "treasury_days": self.treasury_days.data, "prepayment": self.prepayment.data,
                "creditor": {name: self[name].data for name in self.CREDITOR if self[name].raw_data}}


def _saved(form: RegieForm, regie: Regie | None = None):
    """The saved régie, or the refusal to show (nothing is then saved)."""
    try:
        form.check()
        return regies.save_regie(current_user, regie, **form.settings()), None
    except DomainError as refusal:
        return None, refusal


def _page(template: str, form: RegieForm, status: int, **context):
    return render_template(template, form=form.shown(), modes=Payment.MODES, **context), status


@bp.route("", methods=["GET", "POST"])
def index():
    """The régies and « Nouvelle régie »."""
    error = None
    if request.method == "POST":
        form = RegieForm(request.form)
        regie, error = _saved(form)
        if regie is not None:
            flash(f"Régie « {regie.name} » créée : rattachez-lui ses activités (page de chaque activité).", "success")
            return redirect(url_for("staff_regies.index"))
    else:
        form = RegieForm.new()
    return _page("staff/regies/index.html", form, 400 if error else 200, rows=regies.regie_rows(), error=error)


@bp.route("/<int:regie_id>", methods=["GET", "POST"])
def edit(regie_id: int):
    """A régie's settings (shared by every activity attached to it)."""
    try:
        regie = regies.get_regie(regie_id)
    except NotFound:
        abort(404)
    error = None
    if request.method == "POST":
        form = RegieForm(request.form)
        saved, error = _saved(form, regie)
        if saved is not None:
            flash(f"Régie « {saved.name} » enregistrée.", "success")
            return redirect(url_for("staff_regies.index"))
    else:
        form = RegieForm.of(regie)
    return _page("staff/regies/edit.html", form, 400 if error else 200, regie=regie, error=error,
                 code_locked=regies.code_locked(regie))
