"""Staff: the commune's settings (/gestion/parametres, administrators): identity shown on every page,
PDF and e-mail, colour (served as /theme.css by the public blueprint), e-mails' sender, PayFiP, legal
texts, reminders."""
from __future__ import annotations

from email.utils import parseaddr

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import Form, IntegerField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from blueprints.family.form_fields import CheckboxField, EmailAddress, PhoneField, choice, squash
from models import Commune
from services.core import commune as settings
from services.core.errors import InvalidInput

bp = Blueprint("staff_settings", __name__)

ZONES = [("A", "Zone A"), ("B", "Zone B"), ("C", "Zone C")]
PAYFIP_MODES = [("", "Celui du fichier d'environnement"), ("T", "T – test"), ("X", "X – activation"),
                ("W", "W – production")]


def _readable_color(form, field):
    if not settings.is_color(field.data or ""):
        raise StopValidation("Choisissez une couleur au format #rrvvbb (par exemple #1d4f91).")
    if settings.contrast_with_white(field.data) < 4.5:
        raise ValidationError("Cette couleur est trop claire : le texte blanc des boutons serait illisible "
                              "(contraste inférieur à 4,5:1). Choisissez une teinte plus foncée.")


def _sender(form, field):
    if field.data:
        name, address = parseaddr(field.data)
        EmailAddress()(form, type("F", (), {"data": address})())
        field.data = f"{name} <{address.lower()}>" if name else address.lower()


class SettingsForm(Form):
    name = StringField("Nom affiché", filters=[squash(120)],
                       validators=[DataRequired("Indiquez le nom de la commune (par exemple « Mairie de Plounéour »).")])
    address = StringField("Adresse", filters=[squash(200)], validators=[DataRequired("Indiquez l'adresse de la mairie.")])
    postal_code = StringField("Code postal", filters=[squash(5)], render_kw={"inputmode": "numeric", "maxlength": 5},
                              validators=[Regexp(r"^\d{5}$", message="Le code postal a 5 chiffres.")])
    city = StringField("Ville", filters=[squash(120)], validators=[DataRequired("Indiquez la ville.")])
    phone = PhoneField("Téléphone", "Indiquez un numéro de téléphone français (10 chiffres).",
                       validators=[DataRequired("Indiquez le téléphone de la mairie.")])
    email = StringField("Adresse e-mail du service", filters=[squash(254)],
                        validators=[DataRequired("Indiquez l'adresse e-mail du service."), EmailAddress()])
    opening_hours = StringField("Horaires d'ouverture", filters=[squash(200)], validators=[Optional()])
    presentation = TextAreaField("Présentation (page d'accueil)", validators=[Length(max=4000)])
    school_zone = choice("Zone de vacances scolaires", ZONES, "Choisissez la zone A, B ou C.")
    main_color = StringField("Couleur principale", render_kw={"type": "color"}, validators=[_readable_color])
    mail_sender = StringField("Expéditeur des e-mails", filters=[squash(200)], validators=[_sender],
                              description="Par exemple : Mairie de Plounéour <enfance@plouneour.fr>")
    payfip_client = StringField("Numéro client PayFiP", filters=[squash(6)], render_kw={"inputmode": "numeric"},
                                validators=[Optional(), Regexp(r"^\d{6}$", message="Le numéro client PayFiP a 6 chiffres.")])
    payfip_mode = choice("Mode PayFiP", PAYFIP_MODES, "Choisissez le mode T, X ou W.")
    publisher = StringField("Directeur de la publication", filters=[squash(200)], validators=[Optional()])
    host = StringField("Hébergeur", filters=[squash(200)], validators=[Optional()])
    legal_notice = TextAreaField("Mentions légales (texte ajouté)", validators=[Length(max=20000)])
    accessibility_statement = TextAreaField("Déclaration d'accessibilité", validators=[Length(max=20000)])
    reminders_enabled = CheckboxField("Envoyer les rappels de date limite de réservation")
    admin_two_factor_required = CheckboxField("Double authentification obligatoire pour les administrateurs")
    dpo_name = StringField("Délégué à la protection des données (DPO)", filters=[squash(200)], validators=[Optional()])
    dpo_email = StringField("Adresse e-mail du DPO", filters=[squash(254)], validators=[EmailAddress()])
    retention_identity_months = IntegerField(
        "Anonymisation d'un compte fermé après (mois)",
        validators=[InputRequired("Indiquez une durée en mois."),
                    NumberRange(1, 120, "Indiquez une durée entre 1 et 120 mois.")])
    retention_accounting_years = IntegerField(
        "Conservation des factures et règlements (années)",
        validators=[InputRequired("Indiquez une durée en années."),
                    NumberRange(10, 30, "Les pièces comptables se gardent au moins 10 ans (au plus 30).")])


@bp.route("/gestion/parametres", methods=["GET", "POST"])
def edit():
    """The settings form; saved values are shown on every page at once."""
    current = Commune.get_current()
    form = SettingsForm(request.form if request.method == "POST" else None, obj=current)
    if request.method == "POST" and form.validate():
        settings.save_settings(current_user, {name: field.data for name, field in form._fields.items()})
        flash("Paramètres de la commune enregistrés.", "success")
        return redirect(url_for("staff_settings.edit"))
    return _page(form, current, 400 if request.method == "POST" else 200)


def _page(form: SettingsForm, current: Commune, status: int, logo_error: str = ""):
    return render_template("staff/settings/edit.html", form=form, still_demo=settings.still_demo(current),
                           logo_error=logo_error), status


@bp.post("/gestion/parametres/logo")
def save_logo():
    """A new logo (PNG or JPEG checked by content, 500 Ko at most): header, PDFs."""
    upload = request.files.get("logo")
    content = upload.stream.read(settings.LOGO_MAX_BYTES + 1) if upload else b""
    try:
        settings.save_logo(current_user, content, current_app.config["UPLOAD_DIR"])
    except InvalidInput as refusal:
        current = Commune.get_current()
        return _page(SettingsForm(obj=current), current, 400, logo_error=refusal.message)
    flash("Logo enregistré : il figure en haut des pages et sur les factures.", "success")
    return redirect(url_for("staff_settings.edit"))


@bp.post("/gestion/parametres/logo/supprimer")
def remove_logo():
    settings.remove_logo(current_user, current_app.config["UPLOAD_DIR"])
    flash("Logo supprimé : le nom de la commune s'affiche seul.", "success")
    return redirect(url_for("staff_settings.edit"))
