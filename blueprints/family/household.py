"""The sign-up wizard (/mon-dossier) and Mon compte: foyer, responsables, closure; the fiche enfant is in records."""
from __future__ import annotations

import re

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.access import current_household, owned_or_404
from blueprints.family import bp
from blueprints.family.common import (
    bound,
    edit_result,
    pending_by_target,
    posted,
    require_validated,
    upload_dir,
)
from blueprints.family.forms import (
    AttestationForm,
    ChildIdentityForm,
    CloseForm,
    FoyerForm,
    GuardianEntryForm,
    GuardianForm,
    NeedsForm,
    WizardActionForm,
    attach_errors,
    entry_forms,
    entry_indices,
)
from models import ChangeRequest, Child, Guardian
from services.accounts import franceconnect_accounts, users
from services.booking import school_year
from services.core.errors import DomainError
from services.family import documents
from services.family import household as rules
from services.family import household_changes as changes
from services.family import household_fields as fields
from services.family import household_review as review

STEPS = [("foyer", "Mon foyer"), ("responsables", "Responsables"), ("enfants", "Mes enfants"),
         ("besoins", "Mes besoins")]
SAVED_LATER = "Votre saisie est enregistrée : vous pourrez finir plus tard depuis « Mon espace »."
MAX_CHILDREN = 12  # entries read from one post of the enfants step


def _wizard_only(household):
    """The wizard is for draft files; afterwards the file lives on /mon-compte."""
    if household.status != "draft":
        return redirect(url_for("family.account"))
    return None


def _render_step(step: str, status: int = 200, **context):
    index = [key for key, _ in STEPS].index(step)
    return render_template(f"family/step_{step}.html", steps=STEPS, step=step, step_index=index,
                           household=current_household(), **context), status


def _after_save(step: str, action: str):
    """Where the wizard goes after a save: next step, or home for « Enregistrer et finir plus tard »."""
    if action == "later":
        flash(SAVED_LATER, "success")
        return redirect(url_for("portal.home"))
    keys = [key for key, _ in STEPS]
    return redirect(url_for(f"family.step_{keys[keys.index(step) + 1]}"))


def _all_valid(forms) -> bool:
    """Validate every form (not only up to the first wrong one), so that every error shows at once."""
    return all([form.validate() for form in forms])


@bp.get("/mon-dossier")
def wizard():
    household = current_household()
    return _wizard_only(household) or redirect(url_for("family.step_foyer"))


@bp.route("/mon-dossier/foyer", methods=["GET", "POST"])
def step_foyer():
    household = current_household()
    if (leave := _wizard_only(household)) is not None:
        return leave
    form, upload = bound(FoyerForm, household), AttestationForm(posted())
    if request.method == "POST":
        if not _all_valid([form, upload]):
            return _render_step("foyer", 400, form=form, upload=upload)
        rules.save_household_step(household, form.values(), current_user, upload.attestation.data, upload_dir())
        return _after_save("foyer", WizardActionForm(posted()).action.data)
    return _render_step("foyer", form=form, upload=upload)


def _guardian_forms(guardians: list[Guardian], blank: int = 0) -> list[GuardianEntryForm]:
    """The stored responsables, then blank forms: the first responsable starts from the account's name."""
    forms = [GuardianEntryForm(obj=guardian, prefix=f"g{index}") for index, guardian in enumerate(guardians)]
    while len(forms) < 1 + blank and len(forms) < 2:
        form = GuardianEntryForm(prefix=f"g{len(forms)}")
        if not forms:
            form.email.data, form.first_name.data = current_user.email, current_user.first_name
            form.last_name.data = current_user.last_name
            # Signed up with FranceConnect: civilité, nom and prénoms as it certified them (editable).
            for name, value in franceconnect_accounts.prefill(current_user).items():
                form[name].data = value
        forms.append(form)
    return forms


@bp.route("/mon-dossier/responsables", methods=["GET", "POST"])
def step_responsables():
    household = current_household()
    if (leave := _wizard_only(household)) is not None:
        return leave
    if request.method == "GET":
        return _render_step("responsables", forms=_guardian_forms(rules.guardians_of(household)))
    action = WizardActionForm(posted()).action.data
    indices = entry_indices(GuardianEntryForm, posted(), "g", 2)
    if action == "remove_spouse":
        indices = indices[:1]
    forms = entry_forms(GuardianEntryForm, posted(), "g", indices)
    if not _all_valid(forms):
        return _render_step("responsables", 400, forms=forms)
    rules.save_guardians_step(household, current_user, [{**form.values(), "id": form.id.data} for form in forms])
    if action in ("add_spouse", "remove_spouse"):
        forms = _guardian_forms(rules.guardians_of(household), blank=1 if action == "add_spouse" else 0)
        flash("Renseignez le conjoint ci-dessous." if action == "add_spouse" else "Le conjoint a été retiré.", "info")
        return _render_step("responsables", forms=forms)
    return _after_save("responsables", action)


def _child_forms(children: list[Child], blank: int = 0) -> list[ChildIdentityForm]:
    """The stored children, then blank forms (one at least) with the family name filled in."""
    forms = [ChildIdentityForm(obj=child, prefix=f"c{index}") for index, child in enumerate(children)]
    guardians = rules.guardians_of(current_household())
    family_name = guardians[0].last_name if guardians else current_user.last_name
    for _ in range(blank if forms else max(blank, 1)):
        form = ChildIdentityForm(prefix=f"c{len(forms)}")
        form.last_name.data = (forms[0].last_name.data if forms else "") or family_name
        forms.append(form)
    return forms


@bp.route("/mon-dossier/enfants", methods=["GET", "POST"])
def step_enfants():
    household = current_household()
    if (leave := _wizard_only(household)) is not None:
        return leave
    if request.method == "GET":
        return _render_step("enfants", forms=_child_forms(household.children_in_file()))
    step = WizardActionForm(posted())
    action = step.action.data or ""
    indices = entry_indices(ChildIdentityForm, posted(), "c", min(step.child_count.data or 0, MAX_CHILDREN))
    removed = None
    if (remove := re.fullmatch(r"remove-([0-9]{1,3})", action)) and int(remove.group(1)) < len(indices):
        removed = indices.pop(int(remove.group(1)))
    forms = entry_forms(ChildIdentityForm, posted(), "c", indices)
    if not _all_valid(forms):
        return _render_step("enfants", 400, forms=forms)
    rules.save_children_step(household, [{**form.values(), "id": form.id.data} for form in forms])
    if action == "add" or removed is not None:
        forms = _child_forms(household.children_in_file(), blank=1 if action == "add" else 0)
        flash("Renseignez l'enfant ajouté ci-dessous." if action == "add" else "L'enfant a été supprimé du dossier.",
              "info")
        return _render_step("enfants", forms=forms)
    return _after_save("enfants", action)


@bp.route("/mon-dossier/besoins", methods=["GET", "POST"])
def step_besoins():
    household = current_household()
    if (leave := _wizard_only(household)) is not None:
        return leave
    choices = rules.needs_choices()
    if request.method == "GET":
        return _render_step("besoins", choices=choices, selected=household.needs.split(","))
    form, action = NeedsForm(posted()), WizardActionForm(posted()).action.data
    form.needs.choices = choices
    if not form.validate():
        return _render_step("besoins", 400, choices=choices, selected=form.needs.data, error=form.needs.errors[0])
    try:
        household = rules.save_needs_step(household, form.needs.data)
        if action == "submit":
            rules.submit_file(household, current_user)
            flash("Votre dossier a été envoyé à la mairie. Vous recevrez un e-mail dès qu'il sera validé.",
                  "success")
            return redirect(url_for("family.account"))
    except rules.FileIncomplete as incomplete:
        return _render_step("besoins", 400, choices=choices, selected=form.needs.data, problems=incomplete.problems)
    if action == "later":
        flash(SAVED_LATER, "success")
        return redirect(url_for("portal.home"))
    return redirect(url_for("family.step_besoins"))


# --- Mon compte ---------------------------------------------------------------------------------


@bp.get("/mon-compte")
def account():
    household = current_household()
    if household.status == "draft":
        return redirect(url_for("family.step_foyer"))
    recent = (ChangeRequest.select().where((ChangeRequest.household == household)
                                           & (ChangeRequest.status != "pending"))
              .order_by(ChangeRequest.decided_at.desc()).limit(5))
    return render_template(
        "family/account.html", household=household, guardians=rules.guardians_of(household),
        children=household.children_in_file(), pending=pending_by_target(household), recent=list(recent),
        needs=rules.needs_labels(household), missing=documents.missing_required(household),
        rules=rules, editable=household.status in rules.VALIDATED_STATUSES,
        logins={u.guardian_id: u for u in household.users if u.guardian_id},
        due=school_year.due_by_child(household.children_in_file()), year_label=school_year.year_label)


@bp.route("/mon-compte/foyer", methods=["GET", "POST"])
def edit_foyer():
    household = current_household()
    if (leave := require_validated(household)) is not None:
        return leave
    form = bound(FoyerForm, household)
    if request.method == "POST":
        error = ""
        if form.validate():
            try:
                return edit_result(changes.change_household(household, current_user, form.values()))
            except fields.FileInvalid as invalid:
                error = " ".join(attach_errors([form], invalid.errors))
        return render_template("family/edit_foyer.html", form=form, error=error), 400
    return render_template("family/edit_foyer.html", form=form)


@bp.route("/mon-compte/responsables/<int:guardian_id>", methods=["GET", "POST"])
@bp.route("/mon-compte/responsables/nouveau", methods=["GET", "POST"], defaults={"guardian_id": None})
def edit_guardian(guardian_id):
    household = current_household()
    guardian = owned_or_404(Guardian, guardian_id) if guardian_id else None
    if (leave := require_validated(household)) is not None:
        return leave
    if guardian is None and len(rules.guardians_of(household)) >= 2:
        flash("Le foyer compte déjà deux responsables.", "warning")
        return redirect(url_for("family.account"))
    form = bound(GuardianForm, guardian)
    if request.method == "POST":
        error = ""
        if form.validate():
            try:
                return edit_result(changes.change_guardian(household, current_user, guardian, form.values()))
            except fields.FileInvalid as invalid:
                error = " ".join(attach_errors([form], invalid.errors))
            except DomainError as refusal:
                error = refusal.message
        return render_template("family/edit_guardian.html", form=form, guardian=guardian, error=error), 400
    return render_template("family/edit_guardian.html", form=form, guardian=guardian)


@bp.post("/mon-compte/responsables/<int:guardian_id>/acces")
def invite_guardian(guardian_id):
    """Give the conjoint their own login to the same household."""
    household = current_household()
    guardian = owned_or_404(Guardian, guardian_id)
    try:
        user = users.invite_parent(
            current_user, guardian.email, guardian.first_name, guardian.last_name, household,
            lambda token: url_for("auth.initialise", token=token, _external=True),
            commune_name=g.commune.name if "commune" in g else "la commune")
    except DomainError as refusal:
        flash(refusal.message, "error")
    else:
        user.guardian = guardian
        user.save()
        flash(f"Un e-mail a été envoyé à {guardian.email} pour créer son mot de passe.", "success")
    return redirect(url_for("family.account"))


@bp.post("/mon-compte/modifications/<int:request_id>/annuler")
def withdraw_change(request_id):
    change = owned_or_404(ChangeRequest, request_id)
    try:
        changes.withdraw_change(current_household(), change)
    except DomainError as refusal:
        flash(refusal.message, "error")
    else:
        flash("Votre demande de modification a été annulée.", "success")
    return redirect(url_for("family.account"))


@bp.route("/mon-compte/suppression", methods=["GET", "POST"])
def close_account():
    """« Supprimer mon compte »: asks the mairie; invoices and payments are kept."""
    household = current_household()
    if request.method == "POST":
        form = CloseForm(posted())
        if not form.validate():
            return render_template("family/close.html", household=household, error=form.confirm.errors[0]), 400
        try:
            review.request_closure(household, current_user)
        except DomainError as refusal:
            flash(refusal.message, "warning")
        else:
            flash("Votre demande de suppression du compte a été transmise à la mairie.", "success")
        return redirect(url_for("portal.home"))
    return render_template("family/close.html", household=household)

