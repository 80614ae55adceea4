"""L'équipe (/gestion/equipe, administrators only): staff accounts, their roles, invitations,
deactivation. The rules live in services/accounts/team.py; these views read forms and show answers."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from models import Activity
from services.accounts import team, two_factor
from services.core.errors import DomainError, NotFound

bp = Blueprint("staff_team", __name__, url_prefix="/gestion")

ROLE_CHOICES = list(team.ROLE_LABELS.items())


class RoleField(SelectField):
    """The role list, refusing any other value in French."""

    def pre_validate(self, form) -> None:
        if self.data not in team.ROLE_LABELS:
            raise ValidationError("Choisissez un rôle dans la liste.")


class MemberForm(FlaskForm):
    first_name = StringField("Prénom", validators=[DataRequired("Indiquez le prénom."),
                                                   Length(max=80, message="Le prénom : 80 caractères au plus.")])
    last_name = StringField("Nom", validators=[DataRequired("Indiquez le nom."),
                                               Length(max=80, message="Le nom : 80 caractères au plus.")])
    role = RoleField("Rôle", choices=ROLE_CHOICES)


class ActivityBoxes(SelectMultipleField):
    """Tick boxes of activities (ids); anything else is refused in French."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_formdata(self, valuelist) -> None:
        self.data = [int(v) for v in valuelist if v.isdigit() and len(v) < 19]
        if len(self.data) != len(valuelist):
            self.data = []
            raise ValueError("Choisissez des activités dans la liste.")

    def pre_validate(self, form) -> None:
        known = {value for value, _ in self.choices}
        if any(value not in known for value in self.data or ()):
            raise ValidationError("Choisissez des activités dans la liste.")


class EditMemberForm(MemberForm):
    activities = ActivityBoxes("Activités animées (rôle Animateur : pointage et listes de ces activités seulement)",
                               coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.activities.choices = [(a.id, f"{a.name} ({a.year_label})") for a in Activity.select().order_by(
            Activity.school_year.desc(), Activity.position, Activity.name)]


class NewMemberForm(MemberForm):
    email = StringField("Adresse e-mail", validators=[DataRequired("Indiquez l'adresse e-mail.")],
                        render_kw={"type": "email", "autocomplete": "off"})


def _set_password_link(token: str) -> str:
    return url_for("auth.initialise", token=token, _external=True)


def _member_or_404(member_id: int):
    try:
        return team.member(member_id)
    except NotFound:
        abort(404)


def _refused(form: FlaskForm, refusal: DomainError) -> None:
    """A service refusal shown next to the field it is about (the role by default)."""
    getattr(form, refusal.field or "role", form.role).errors.append(refusal.message)


@bp.get("/equipe")
def index():
    return render_template("staff/team/index.html", members=team.members(), team=team, two_factor=two_factor)


@bp.route("/equipe/nouveau", methods=["GET", "POST"])
def new():
    form = NewMemberForm()
    if form.validate_on_submit():
        try:
            created = team.invite_member(current_user, form.email.data, form.first_name.data, form.last_name.data,
                                         form.role.data,
                                         lambda token: url_for("auth.initialise", token=token, _external=True))
        except DomainError as refusal:
            _refused(form, refusal)
        else:
            flash(f"Compte créé pour {created.display_name} ({created.email}) : une invitation avec un lien "
                  "pour définir son mot de passe lui a été envoyée.", "success")
            return redirect(url_for("staff_team.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/team/new.html", form=form), status


@bp.route("/equipe/<int:member_id>", methods=["GET", "POST"])
def edit(member_id: int):
    member = _member_or_404(member_id)
    form = EditMemberForm(obj=member, activities=[a.id for a in team.led_activities(member)])
    if form.validate_on_submit():
        try:
            member = team.update_member(current_user, member.id, form.first_name.data, form.last_name.data,
                                        form.role.data, form.activities.data)
        except DomainError as refusal:
            _refused(form, refusal)
        else:
            flash(f"Compte de {member.display_name} enregistré.", "success")
            return redirect(url_for("staff_team.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/team/edit.html", form=form, member=member, team=team), status


def _switch(member_id: int, change, done: str):
    _member_or_404(member_id)
    try:
        member = change(current_user, member_id)
    except NotFound:
        abort(404)
    except DomainError as refusal:
        flash(refusal.message, "error")
    else:
        flash(done.format(name=member.display_name), "success")
    return redirect(url_for("staff_team.index"))


@bp.post("/equipe/<int:member_id>/desactiver")
def deactivate(member_id: int):
    return _switch(member_id, team.deactivate, "Compte de {name} désactivé : ses sessions sont fermées.")


@bp.post("/equipe/<int:member_id>/reactiver")
def reactivate(member_id: int):
    return _switch(member_id, team.reactivate, "Compte de {name} réactivé.")


@bp.post("/equipe/<int:member_id>/renvoyer-invitation")
def resend_invitation(member_id: int):
    """« Renvoyer l'invitation »: a new link to set the password, the earlier one voided."""
    return _switch(member_id, lambda admin, target: team.resend_invitation(admin, target, _set_password_link),
                   "Nouvelle invitation envoyée à {name} : le lien précédent ne fonctionne plus.")


@bp.post("/equipe/<int:member_id>/reinitialiser-double-authentification")
def reset_two_factor(member_id: int):
    """A colleague lost their phone and recovery codes: they sign in with the password and enrol again."""
    return _switch(member_id, two_factor.reset_for,
                   "Double authentification de {name} réinitialisée : à sa prochaine connexion, le mot de passe "
                   "suffit ; elle ou il pourra l'activer de nouveau sur la page « Sécurité ».")
