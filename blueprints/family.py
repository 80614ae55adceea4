"""The parent's household file: the sign-up wizard (/mon-dossier), Mon compte, fiche enfant, documents."""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file,
                   url_for)
from flask_login import current_user

from blueprints.access import current_household, owned_or_404, parent_required
from blueprints.family_forms import (AttestationForm, ChildIdentityForm, ChildRecordForm, ContactForm,
                                     DocumentForm, FoyerForm, GuardianForm, attach_errors)
from models import ChangeRequest, Child, FamilyDocument, Guardian, School
from services import accounts, documents
from services import household as rules
from services.errors import DomainError

bp = Blueprint("family", __name__)
bp.record(lambda state: documents.configure(state.app.config["UPLOAD_DIR"]))

STEPS = [("foyer", "Mon foyer"), ("responsables", "Responsables"), ("enfants", "Mes enfants"),
         ("besoins", "Mes besoins")]
SAVED_LATER = "Votre saisie est enregistrée : vous pourrez finir plus tard depuis « Mon espace »."


def _upload_dir() -> str:
    return current_app.config["UPLOAD_DIR"]


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
        attestation = (file.filename, documents.read_upload(file.stream)) if file and file.filename else None
        try:
            rules.save_household_step(household, request.form, current_user, attestation, _upload_dir())
        except rules.FileInvalid as invalid:
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
    except rules.FileInvalid as invalid:
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
        return _render_step("enfants", forms=_child_forms(None, rules.children_of(household)))
    action = request.form.get("action", "")
    entries = _child_entries()
    removed = None
    if action.startswith("remove-"):
        index = rules._int(action[len("remove-"):])
        if index is not None and index < len(entries):
            removed = entries.pop(index)
    try:
        rules.save_children_step(household, entries)
    except rules.FileInvalid as invalid:
        forms = _child_forms(entries, [], blank=0)
        attach_errors({f"{i}-": f for i, f in enumerate(forms)}, invalid.errors)
        return _render_step("enfants", 400, forms=forms)
    if action == "add" or removed is not None:
        forms = _child_forms(None, rules.children_of(household), blank=1 if action == "add" else 0)
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
        except rules.FileInvalid as invalid:
            return _render_step("besoins", 400, choices=choices, selected=selected, error=invalid.message)
        if request.form.get("action") == "later":
            flash(SAVED_LATER, "success")
            return redirect(url_for("portal.home"))
        return redirect(url_for("family.step_besoins"))
    return _render_step("besoins", choices=choices, selected=selected)


# --- Mon compte ---------------------------------------------------------------------------------


def _pending_by_target(household) -> dict:
    """Pending changes grouped by what they change: "household", ("guardian", id), ("child", id), "new"."""
    grouped: dict = {}
    for change in rules.pending_changes(household):
        if change.action in ("add_child", "add_guardian"):
            key = "new"
        elif change.target == "household":
            key = "household"
        else:
            key = (change.target, change.guardian_id or change.child_id)
        grouped.setdefault(key, []).append(change)
    return grouped


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
        children=rules.children_of(household), pending=_pending_by_target(household), recent=list(recent),
        needs=rules.needs_labels(household), missing=documents.missing_required(household),
        rules=rules, editable=household.status in rules.VALIDATED_STATUSES,
        logins={u.guardian_id: u for u in household.users if u.guardian_id})


def _edit_result(result: str):
    if result == "requested":
        flash("Votre modification a été transmise à la mairie : elle apparaît « En attente de validation ».",
              "success")
    elif result == "unchanged":
        flash("Aucune modification : les informations sont identiques.", "info")
    else:
        flash("Vos informations ont été enregistrées.", "success")
    return redirect(url_for("family.account"))


def _require_validated(household):
    if household.status not in rules.VALIDATED_STATUSES:
        flash("Votre dossier est en attente de validation par la mairie : vous pourrez le modifier une fois validé.",
              "warning")
        return redirect(url_for("family.account"))
    return None


@bp.route("/mon-compte/foyer", methods=["GET", "POST"])
@parent_required
def edit_foyer():
    household = current_household()
    if (leave := _require_validated(household)) is not None:
        return leave
    form = FoyerForm(request.form if request.method == "POST" else None, obj=household)
    if request.method == "POST":
        try:
            return _edit_result(rules.change_household(household, current_user, request.form))
        except rules.FileInvalid as invalid:
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
    if (leave := _require_validated(household)) is not None:
        return leave
    if guardian is None and len(rules.guardians_of(household)) >= 2:
        flash("Le foyer compte déjà deux responsables.", "warning")
        return redirect(url_for("family.account"))
    form = GuardianForm(request.form if request.method == "POST" else None, obj=guardian)
    if request.method == "POST":
        try:
            return _edit_result(rules.change_guardian(household, current_user, guardian, request.form))
        except rules.FileInvalid as invalid:
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
        user = accounts.invite_parent(
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


def _record_forms(child: Child | None, with_post: bool):
    data = request.form if with_post else None
    identity = ChildIdentityForm(data, obj=child)
    record = ChildRecordForm(data, obj=child)
    record.set_choices(School.select().order_by(School.name), rules.active_diets())
    if not with_post and child is not None:
        identity.birth_date.data = child.birth_date.isoformat() if child.birth_date else ""
        identity.expected_date.data = child.expected_date.isoformat() if child.expected_date else ""
        record.school.data = str(child.school_id or "")
        record.diet.data = str(child.diet_id or "")
    existing = rules.contacts_of(child) if child is not None and not with_post else []
    contacts = []
    for index in range(rules.MAX_CONTACTS):
        form = ContactForm(data, obj=existing[index] if index < len(existing) else None, prefix=f"contact-{index}")
        if index >= len(existing) and not with_post and index >= max(2, len(existing) + 1):
            continue
        contacts.append(form)
    if with_post:
        contacts = [c for i, c in enumerate(contacts)
                    if i < 2 or any((request.form.get(f"contact-{i}-{n}") or "").strip() for n in ("name", "phone"))]
    return identity, record, contacts


def _contact_rows() -> list[dict]:
    return [{name: request.form.get(f"contact-{i}-{name}", "") for name in ("kind", "name", "relation", "phone")}
            for i in range(rules.MAX_CONTACTS)]


@bp.get("/mon-compte/enfants/<int:child_id>")
@parent_required
def child(child_id):
    record = owned_or_404(Child, child_id)
    if record.archived:
        abort(404)
    household = current_household()
    return render_template("family/child.html", child=record, household=household,
                           contacts=rules.contacts_of(record), pending=_pending_by_target(household),
                           rules=rules, editable=household.status in rules.VALIDATED_STATUSES,
                           documents=[d for d in documents.documents_of(household) if d.child_id == record.id])


@bp.route("/mon-compte/enfants/<int:child_id>/modifier", methods=["GET", "POST"])
@bp.route("/mon-compte/enfants/nouveau", methods=["GET", "POST"], defaults={"child_id": None})
@parent_required
def edit_child(child_id):
    household = current_household()
    record = owned_or_404(Child, child_id) if child_id else None
    if record is not None and record.archived:
        abort(404)
    if (leave := _require_validated(household)) is not None:
        return leave
    identity, fiche, contacts = _record_forms(record, request.method == "POST")
    if request.method == "POST":
        try:
            return _edit_result(rules.change_child(household, current_user, record, request.form, request.form,
                                                   _contact_rows()))
        except rules.FileInvalid as invalid:
            extra = attach_errors({"": identity}, {k: v for k, v in invalid.errors.items()
                                                   if k in identity._fields})
            extra += attach_errors({"": fiche}, {k: v for k, v in invalid.errors.items() if k in fiche._fields})
            extra += attach_errors({f"contact-{i}-": c for i, c in enumerate(contacts)},
                                   {k: v for k, v in invalid.errors.items() if k.startswith("contact")})
            return render_template("family/edit_child.html", child=record, identity=identity, fiche=fiche,
                                   contacts=contacts, error=" ".join(extra)), 400
    return render_template("family/edit_child.html", child=record, identity=identity, fiche=fiche,
                           contacts=contacts)


@bp.post("/mon-compte/enfants/<int:child_id>/certifier")
@parent_required
def certify_child(child_id):
    record = owned_or_404(Child, child_id)
    if record.archived:
        abort(404)
    rules.certify_child(current_household(), current_user, record)
    flash(f"Merci : vous avez certifié exactes les informations de {record.first_name or 'votre enfant'}.",
          "success")
    return redirect(url_for("family.child", child_id=record.id))


@bp.post("/mon-compte/enfants/<int:child_id>/supprimer")
@parent_required
def remove_child(child_id):
    record = owned_or_404(Child, child_id)
    try:
        result = rules.request_child_removal(current_household(), current_user, record)
    except DomainError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("family.account"))
    return _edit_result(result)


@bp.post("/mon-compte/modifications/<int:request_id>/annuler")
@parent_required
def withdraw_change(request_id):
    change = owned_or_404(ChangeRequest, request_id)
    try:
        rules.withdraw_change(current_household(), change)
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
            rules.request_closure(household, current_user)
        except DomainError as refusal:
            flash(refusal.message, "warning")
        else:
            flash("Votre demande de suppression du compte a été transmise à la mairie.", "success")
        return redirect(url_for("portal.home"))
    return render_template("family/close.html", household=household)


# --- Documents (« Suivi de document ») ---------------------------------------------------------


def _document_form(data=None) -> DocumentForm:
    form = DocumentForm(data)
    form.set_choices(documents.active_types(), rules.children_of(current_household()))
    return form


def _documents_page(form: DocumentForm, status: int = 200, error: str = ""):
    household = current_household()
    return render_template("family/documents.html", form=form, household=household, error=error,
                           documents=documents.documents_of(household), today=documents.clock.today(),
                           missing=documents.missing_required(household), labels=documents.STATUS_LABELS,
                           types=documents.active_types()), status


@bp.route("/mon-compte/documents", methods=["GET", "POST"])
@parent_required
def documents_page():
    if request.method == "GET":
        form = _document_form()
        form.doc_type.data = request.args.get("type", "")
        form.child.data = request.args.get("enfant", "")
        return _documents_page(form)
    form = _document_form(request.form)
    file = request.files.get("file")
    if file is None or not file.filename:
        form.file.errors = ["Choisissez le fichier à envoyer."]
        return _documents_page(form, 400)
    try:
        documents.upload(current_user, current_household(), request.form.get("doc_type"),
                         request.form.get("child"), file.filename, documents.read_upload(file.stream), _upload_dir())
    except DomainError as refusal:
        extra = attach_errors({"": form}, {refusal.field or "file": refusal.message})
        return _documents_page(form, 400, error=" ".join(extra))
    flash("Votre document a été envoyé : il est « En attente » de vérification par la mairie.", "success")
    return redirect(url_for("family.documents_page"))


def send_document(document: FamilyDocument, path):
    """A stored file as an attachment, never rendered inline by the browser."""
    response = send_file(path, mimetype=document.content_type, as_attachment=True,
                         download_name=document.original_name or "document")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/mon-compte/documents/<int:document_id>/fichier")
@parent_required
def download(document_id):
    document = owned_or_404(FamilyDocument, document_id)
    try:
        path = documents.file_path(current_user, document, _upload_dir())
    except DomainError:
        abort(404)
    return send_document(document, path)


@bp.post("/mon-compte/documents/<int:document_id>/supprimer")
@parent_required
def delete_document(document_id):
    document = owned_or_404(FamilyDocument, document_id)
    try:
        documents.delete_pending(current_household(), document, _upload_dir())
    except DomainError as refusal:
        flash(refusal.message, "error")
    else:
        flash("Le document a été retiré.", "success")
    return redirect(url_for("family.documents_page"))
