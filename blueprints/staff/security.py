"""« Sécurité » (/gestion/securite, every staff role): two-factor sign-in of one's own account — enable
with a QR code and a first code, recovery codes shown once, renew them, disable. The rules live in
services/accounts/two_factor.py; an administrator the commune requires it of reaches no other /gestion
page until it is enabled (the hook below)."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models import Commune
from services.accounts import two_factor
from services.core.errors import DomainError

bp = Blueprint("staff_security", __name__, url_prefix="/gestion")

CODE_KW = {"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6, "pattern": "[0-9]{6}",
           "spellcheck": "false"}


class CodeForm(FlaskForm):
    code = StringField("Code à 6 chiffres de l'application d'authentification",
                       validators=[DataRequired("Saisissez le code affiché par l'application."),
                                   Length(max=40, message="Saisissez le code affiché par l'application.")],
                       render_kw=CODE_KW)


class DisableForm(FlaskForm):
    password = PasswordField("Mot de passe actuel", validators=[DataRequired("Saisissez votre mot de passe.")],
                             render_kw={"autocomplete": "current-password"})
    code = StringField("Code de l'application ou code de secours",
                       validators=[DataRequired("Saisissez un code de l'application ou un code de secours."),
                                   Length(max=40, message="Saisissez un code de l'application ou un code de secours.")],
                       render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none"})


@bp.before_app_request
def enrolment_first():
    """While the commune requires it, an administrator without it opens only « Sécurité » under /gestion."""
    if not request.path.startswith("/gestion") or request.blueprint == "staff_security":
        return None
    if not (current_user.is_authenticated and current_user.role == "admin"):
        return None
    if "commune" not in g:  # shared with the page's rendering (web.inject_globals): one query
        g.commune = Commune.get_current()
    if not two_factor.must_enrol(current_user, g.commune):
        return None
    flash("La commune rend la double authentification obligatoire pour les administrateurs : activez-la "
          "ci-dessous pour accéder aux pages de gestion.", "warning")
    return redirect(url_for("staff_security.index"))


def _page(status: int = 200, code_form=None, disable_form=None, recovery_form=None):
    user = current_user._get_current_object()
    return render_template(
        "staff/security/index.html", enabled=two_factor.is_enabled(user),
        enrolment=two_factor.pending_enrolment(user), codes_left=two_factor.recovery_codes_left(user),
        required=two_factor.is_required(user, Commune.get_current()),
        code_form=code_form or CodeForm(prefix="activer"), disable_form=disable_form or DisableForm(prefix="off"),
        recovery_form=recovery_form or CodeForm(prefix="secours")), status


def _codes_page(codes: list[str], title: str):
    """The recovery codes, shown this once, with a .txt download that needs no second request."""
    text = ("Codes de secours du portail famille – " + current_user.email + "\n"
            "Chaque code sert une seule fois, à la place du code de l'application.\n\n" + "\n".join(codes) + "\n")
    return render_template("staff/security/codes.html", codes=codes, title=title,
                           download="data:text/plain;charset=utf-8," + quote(text))


def _refused(form: FlaskForm, refusal: DomainError, render):
    """A refusal about a field is shown next to it; another one (required by the commune, locked, wrong
    state) as a message on the page."""
    if refusal.field and hasattr(form, refusal.field):
        getattr(form, refusal.field).errors.append(refusal.message)
        return render()
    flash(refusal.message, "error")
    return redirect(url_for("staff_security.index"))


@bp.get("/securite")
def index():
    return _page()


@bp.post("/securite/activer")
def start():
    """A new secret to scan (again, if an earlier one was never confirmed)."""
    if FlaskForm().validate_on_submit():
        try:
            two_factor.start_enrolment(current_user)
        except DomainError as refusal:
            flash(refusal.message, "error")
    return redirect(url_for("staff_security.index") + "#activation")


@bp.post("/securite/confirmer")
def confirm():
    form = CodeForm(prefix="activer")
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_enrolment(current_user, form.code.data, ip=request.remote_addr or "")
        except DomainError as refusal:
            return _refused(form, refusal, lambda: _page(400, code_form=form))
        return _codes_page(codes, "Double authentification activée")
    return _page(400, code_form=form)


@bp.post("/securite/codes-de-secours")
def renew_codes():
    form = CodeForm(prefix="secours")
    if form.validate_on_submit():
        try:
            codes = two_factor.regenerate_recovery_codes(current_user, form.code.data, ip=request.remote_addr or "")
        except DomainError as refusal:
            return _refused(form, refusal, lambda: _page(400, recovery_form=form))
        return _codes_page(codes, "Nouveaux codes de secours")
    return _page(400, recovery_form=form)


@bp.post("/securite/desactiver")
def disable():
    form = DisableForm(prefix="off")
    if form.validate_on_submit():
        try:
            two_factor.disable(current_user, form.password.data, form.code.data, ip=request.remote_addr or "")
        except DomainError as refusal:
            return _refused(form, refusal, lambda: _page(400, disable_form=form))
        else:
            flash("Double authentification désactivée : la connexion ne demande plus que le mot de passe.",
                  "success")
            return redirect(url_for("staff_security.index"))
    return _page(400, disable_form=form)
