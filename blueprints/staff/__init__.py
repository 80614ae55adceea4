"""Staff back-office (/gestion): dashboard and parent accounts. Other staff areas add blueprints."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired

from blueprints.form_fields import InputForm, Text
from models import Household, User
from services.accounts import users
from services.billing import setup
from services.core.errors import DomainError
from services.family import household_review as review

bp = Blueprint("staff", __name__, url_prefix="/gestion")


class InviteParentForm(FlaskForm):
    first_name = StringField("Prénom du parent", validators=[DataRequired("Indiquez le prénom.")])
    last_name = StringField("Nom du parent", validators=[DataRequired("Indiquez le nom.")])
    email = StringField("Adresse e-mail du parent", validators=[DataRequired("Indiquez l'adresse e-mail.")],
                        render_kw={"type": "email"})
    household = SelectField("Foyer déjà connu", coerce=int)


@bp.get("/")
def dashboard():
    """Counts of what waits for staff; areas contribute their queues through DASHBOARD_QUEUES."""
    queues = [queue() for queue in DASHBOARD_QUEUES]
    checklist = setup.checklist(current_app.config.get("PAYFIP_NUMCLI") or "") if current_user.role == "admin" else []
    return render_template("staff/dashboard.html", queues=[q for q in queues if q], checklist=checklist,
                           ready=bool(checklist) and setup.ready(checklist), fix=SETUP_LINKS)


# Where each item of the setup checklist is fixed: (endpoint, link text).
SETUP_LINKS = {"commune": ("staff_settings.edit", "Paramètres de la commune"),
               "school": ("staff_schools.index", "Écoles"), "activity": ("staff_activities.activities", "Activités"),
               "regie": ("staff_regies.index", "Régies"), "payfip": ("staff_regies.index", "Régies"),
               "mail": ("staff_mails.index", "Courriels")}


@bp.post("/e-mail-de-test")
def test_mail():
    """« M'envoyer un e-mail de test »: queued through the outbox; the checklist shows when it is sent."""
    setup.send_test_mail(current_user)
    flash(f"E-mail de test mis en file d'envoi pour {current_user.email} : le tableau de bord indiquera "
          "« ✓ » dès qu'il sera parti.", "success")
    return redirect(url_for("staff.dashboard"))


# Each staff area appends a callable returning {"label", "count", "endpoint"} (or None).
DASHBOARD_QUEUES: list = []


class HouseholdSearchForm(InputForm):
    """?recherche= of a page whose « Foyer » list offers only the households found."""

    recherche = Text("la recherche", max_length=100)


def household_choices(placeholder: str, selected: int | None) -> tuple[list[tuple[int, str]], str]:
    """The choices of a form's « Foyer » list — the placeholder, the household already chosen
    (`selected`), and those matching the page's « recherche », never every household — and that search."""
    search = HouseholdSearchForm(request.args).recherche.data or ""
    households = review.household_choices(search, selected)
    return [(0, placeholder)] + [(h.id, h.name or f"Foyer n° {h.id}") for h in households], search


@bp.route("/comptes/nouveau", methods=["GET", "POST"])
def invite_parent():
    """Create a parent account for a family the mairie already knows; the parent gets a link."""
    form = InviteParentForm()
    form.household.choices, search = household_choices("— Nouveau foyer —", form.household.data)
    if form.validate_on_submit():
        household = Household.get_or_none(Household.id == form.household.data) if form.household.data else None
        try:
            user = users.invite_parent(
                current_user, form.email.data, form.first_name.data, form.last_name.data, household,
                lambda token: url_for("auth.initialise", token=token, _external=True))
        except DomainError as refusal:
            getattr(form, refusal.field or "email").errors.append(refusal.message)
        else:
            flash(f"Compte créé pour {user.email} : un lien d'initialisation du mot de passe lui a été envoyé.",
                  "success")
            return redirect(url_for("staff.invite_parent"))
    status = 400 if request.method == "POST" else 200
    recent = User.select().where(User.role == "parent").order_by(User.id.desc()).limit(10)
    return render_template("staff/invite_parent.html", form=form, recent=recent, search=search), status
