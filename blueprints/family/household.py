"""The sign-up wizard (/mon-dossier) and Mon compte: foyer, responsables, closure; the fiche enfant is in records."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.access import current_household, owned_or_404, parent_required
from blueprints.family import bp
from blueprints.family.common import edit_result, pending_by_target, require_validated, upload_dir
from blueprints.family.forms import AttestationForm, ChildIdentityForm, FoyerForm, GuardianForm, attach_errors
from models import ChangeRequest, Child, Guardian
from services.accounts import users
from services.core.errors import DomainError
from services.family import documents
from services.family import household as rules
from services.family import household_changes as changes
from services.family import household_fields as fields
from services.family import household_review as review
from services.family import uploads

STEPS = [("foyer", "Mon foyer"), ("responsables", "Responsables"), ("enfants", "Mes enfants"),
         ("besoins", "Mes besoins")]
SAVED_LATER = "Votre saisie est enregistrée : vous pourrez finir plus tard depuis « Mon espace »."


def _wizard_only(household):
    """The wizard is for draft files; afterwards the file lives on /mon-compte."""
    if household.status != "draft":
        return redirect(url_for("family.account"))
    return None


def _render_step(step: str, status: int = 200, **context):
    index = [key for key, _ in STEPS].index(step)
    return render_template(f"family/step_{step}.html", steps=STEPS, step=step, step_index=index,
                           household=current_household(), **context), status


def _after_save(step: str):
    """Where the wizard goes after a save: next step, or home for « Enregistrer et finir plus tard »."""
    if request.form.get("action") == "later":
        flash(SAVED_LATER, "success")
        return redirect(url_for("portal.home"))
    keys = [key for key, _ in STEPS]
    return redirect(url_for(f"family.step_{keys[keys.index(step) + 1]}"))


@bp.get("/mon-dossier")
@parent_required
def wizard():
    household = current_household()
    return _wizard_only(household) or redirect(url_for("family.step_foyer"))


@bp.route("/mon-dossier/foyer", methods=["GET", "POST"])
@parent_required
def step_foyer():
    household = current_household()
    if (leave := _wizard_only(household)) is not None:
        return leave
    form = FoyerForm(request.form if request.method == "POST" else None, obj=household)
    upload = AttestationForm()
    if request.method == "GET" and household.quotient_familial is not None:
        form.quotient_familial.data = str(household.quotient_familial)
    if request.method == "POST":
        file = request.files.get("attestation")
        attestation = (file.filename, uploads.read_upload(file.stream)) if file and file.filename else None
        try:
            rules.save_household_step(household, request.form, current_user, attestation, upload_dir())
        except fields.FileInvalid as invalid:
            attach_errors({"": form}, {k: v for k, v in invalid.errors.items() if k != "attestation"})
            if "attestation" in invalid.errors:
                upload.attestation.errors = [invalid.errors["attestation"]]
            return _render_step("foyer", 400, form=form, upload=upload)
        return _after_save("foyer")
    return _render_step("foyer", form=form, upload=upload)


def _guardian_entries() -> list[dict]:
    """The responsable forms posted (g0-…, g1-…), blank new ones left out."""
    entries = []
    for index in range(2):
        prefix = f"g{index}-"
        if f"{prefix}present" not in request.form:
            continue
        entry = {key[len(prefix):]: value for key, value in request.form.items() if key.startswith(prefix)}
        entry.pop("present", None)
        if entry.get("id") or any(v.strip() for k, v in entry.items() if k != "id"):
            entries.append(entry)
    return entries


def _guardian_forms(entries: list[dict] | None, guardians: list[Guardian], blank: int = 0) -> list[GuardianForm]:
    if entries is None:
        forms = [GuardianForm(obj=g, prefix=f"g{i}") for i, g in enumerate(guardians)]
        for form, guardian in zip(forms, guardians):
            form.id.data = str(guardian.id)
    else:
        from werkzeug.datastructures import MultiDict
        forms = [GuardianForm(MultiDict({f"g{i}-{k}": v for k, v in e.items()}), prefix=f"g{i}")
                 for i, e in enumerate(entries)]
    while len(forms) < 1 + blank and len(forms) < 2:
        form = GuardianForm(prefix=f"g{len(forms)}")
        if not forms:  # the first responsable starts from the account's name and e-mail
            form.email.data, form.first_name.data = current_user.email, current_user.first_name
            form.last_name.data = current_user.last_name
        forms.append(form)
    return forms


@bp.route("/mon-dossier/responsables", methods=["GET", "POST"])
@parent_required
def step_responsables():
    household = current_household()
    if (leave := _wizard_only(household)) is not None:
        return leave
    if request.method == "GET":
        return _render_step("responsables", forms=_guardian_forms(None, rules.guardians_of(household)))
    action = request.form.get("action", "")
    entries = _guardian_entries()
    if action == "remove_spouse":
        entries = entries[:1]
    try:
        rules.save_guardians_step(household, current_user, entries)
    except fields.FileInvalid as invalid:
        forms = _guardian_forms(entries, [])
        attach_errors({f"{i}-": f for i, f in enumerate(forms)}, invalid.errors)
        return _render_step("responsables", 400, forms=forms)
    if action in ("add_spouse", "remove_spouse"):
        forms = _guardian_forms(None, rules.guardians_of(household), blank=1 if action == "add_spouse" else 0)
        flash("Renseignez le conjoint ci-dessous." if action == "add_spouse" else "Le conjoint a été retiré.", "info")
        return _render_step("responsables", forms=forms)
    return _after_save("responsables")


def _child_entries() -> list[dict]:
    count = rules._int(request.form.get("child_count")) or 0
    entries = []
    for index in range(min(count, 12)):
        prefix = f"c{index}-"
        entry = {key[len(prefix):]: value for key, value in request.form.items() if key.startswith(prefix)}
        if entry.get("id") or any(v.strip() for k, v in entry.items() if k != "id"):
            entries.append(entry)
    return entries


def _child_forms(entries: list[dict] | None, children: list[Child], blank: int = 0) -> list[ChildIdentityForm]:
    from werkzeug.datastructures import MultiDict
    if entries is None:
        forms = []
        for index, child in enumerate(children):
            form = ChildIdentityForm(obj=child, prefix=f"c{index}")
            form.id.data = str(child.id)
            form.birth_date.data = child.birth_date.isoformat() if child.birth_date else ""
            form.expected_date.data = child.expected_date.isoformat() if child.expected_date else ""
            forms.append(form)
    else:
        forms = [ChildIdentityForm(MultiDict({f"c{i}-{k}": v for k, v in e.items()}), prefix=f"c{i}")
                 for i, e in enumerate(entries)]
    guardians = rules.guardians_of(current_household())
    family_name = guardians[0].last_name if guardians else current_user.last_name
    for _ in range(blank if forms else max(blank, 1)):
        form = ChildIdentityForm(prefix=f"c{len(forms)}")
        form.last_name.data = (forms[0].last_name.data if forms else "") or family_name
        forms.append(form)
    return forms


@bp.route("/mon-dossier/enfants", methods=["GET", "POST"])
@parent_required
def step_enfants():
    household = current_household()
    if (leave := _wizard_only(household)) is not None:
        return leave
    if request.method == "GET":
        return _render_step("enfants", forms=_child_forms(None, household.children_in_file()))
    action = request.form.get("action", "")
    entries = _child_entries()
    removed = None
    if action.startswith("remove-"):
        index = rules._int(action[len("remove-"):])
        if index is not None and index < len(entries):
            removed = entries.pop(index)
    try:
        rules.save_children_step(household, entries)
    except fields.FileInvalid as invalid:
        forms = _child_forms(entries, [], blank=0)
        attach_errors({f"{i}-": f for i, f in enumerate(forms)}, invalid.errors)
        return _render_step("enfants", 400, forms=forms)
    if action == "add" or removed is not None:
        forms = _child_forms(None, household.children_in_file(), blank=1 if action == "add" else 0)
        flash("Renseignez l'enfant ajouté ci-dessous." if action == "add" else "L'enfant a été supprimé du dossier.",
              "info")
        return _render_step("enfants", forms=forms)
    return _after_save("enfants")


@bp.route("/mon-dossier/besoins", methods=["GET", "POST"])
@parent_required
def step_besoins():
    household = current_household()
    if (leave := _wizard_only(household)) is not None:
        return leave
    choices = rules.needs_choices()
    selected = request.form.getlist("needs") if request.method == "POST" else household.needs.split(",")
    if request.method == "POST":
        try:
            household = rules.save_needs_step(household, selected)
            if request.form.get("action") == "submit":
                rules.submit_file(household, current_user)
                flash("Votre dossier a été envoyé à la mairie. Vous recevrez un e-mail dès qu'il sera validé.",
                      "success")
                return redirect(url_for("family.account"))
        except rules.FileIncomplete as incomplete:
            return _render_step("besoins", 400, choices=choices, selected=selected, problems=incomplete.problems)
        except fields.FileInvalid as invalid:
            return _render_step("besoins", 400, choices=choices, selected=selected, error=invalid.message)
        if request.form.get("action") == "later":
            flash(SAVED_LATER, "success")
            return redirect(url_for("portal.home"))
        return redirect(url_for("family.step_besoins"))
    return _render_step("besoins", choices=choices, selected=selected)


# --- Mon compte ---------------------------------------------------------------------------------


@bp.get("/mon-compte")
@parent_required
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
        logins={u.guardian_id: u for u in household.users if u.guardian_id})


@bp.route("/mon-compte/foyer", methods=["GET", "POST"])
@parent_required
def edit_foyer():
    household = current_household()
    if (leave := require_validated(household)) is not None:
        return leave
    form = FoyerForm(request.form if request.method == "POST" else None, obj=household)
    if request.method == "POST":
        try:
            return edit_result(changes.change_household(household, current_user, request.form))
        except fields.FileInvalid as invalid:
            extra = attach_errors({"": form}, invalid.errors)
            return render_template("family/edit_foyer.html", form=form, error=" ".join(extra)), 400
    if household.quotient_familial is not None:
        form.quotient_familial.data = str(household.quotient_familial)
    return render_template("family/edit_foyer.html", form=form)


@bp.route("/mon-compte/responsables/<int:guardian_id>", methods=["GET", "POST"])
@bp.route("/mon-compte/responsables/nouveau", methods=["GET", "POST"], defaults={"guardian_id": None})
@parent_required
def edit_guardian(guardian_id):
    household = current_household()
    guardian = owned_or_404(Guardian, guardian_id) if guardian_id else None
    if (leave := require_validated(household)) is not None:
        return leave
    if guardian is None and len(rules.guardians_of(household)) >= 2:
        flash("Le foyer compte déjà deux responsables.", "warning")
        return redirect(url_for("family.account"))
    form = GuardianForm(request.form if request.method == "POST" else None, obj=guardian)
    if request.method == "POST":
        try:
            return edit_result(changes.change_guardian(household, current_user, guardian, request.form))
        except fields.FileInvalid as invalid:
            extra = attach_errors({"": form}, invalid.errors)
            return render_template("family/edit_guardian.html", form=form, guardian=guardian,
                                   error=" ".join(extra)), 400
        except DomainError as refusal:
            return render_template("family/edit_guardian.html", form=form, guardian=guardian,
                                   error=refusal.message), 400
    return render_template("family/edit_guardian.html", form=form, guardian=guardian)


@bp.post("/mon-compte/responsables/<int:guardian_id>/acces")
@parent_required
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
@parent_required
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
@parent_required
def close_account():
    """« Supprimer mon compte »: asks the mairie; invoices and payments are kept."""
    household = current_household()
    if request.method == "POST":
        if request.form.get("confirm") != "y":
            return render_template("family/close.html", household=household,
                                   error="Cochez la case pour confirmer votre demande."), 400
        try:
            review.request_closure(household, current_user)
        except DomainError as refusal:
            flash(refusal.message, "warning")
        else:
            flash("Votre demande de suppression du compte a été transmise à la mairie.", "success")
        return redirect(url_for("portal.home"))
    return render_template("family/close.html", household=household)

