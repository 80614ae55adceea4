"""The household file (dossier famille): reading it, and the draft filled in steps and submitted to the mairie.

Choices and labels live in services.family.household_fields, changes to a validated file in
services.family.household_changes, staff decisions, edits and search in services.family.household_review.
Every function is plain Python taking clean values: views parse (with their forms), call, render.
"""
from __future__ import annotations

import datetime as dt
import json

from models import ChangeRequest, Child, ChildContact, Diet, Guardian, Household, School, User
from services.core import clock, outbox
from services.core.errors import DomainError
from services.core.transactions import write_transaction
from services.family import documents
from services.family.household_fields import (
    BOOL_FIELDS,
    CHILD_IDENTITY_FIELDS,
    CONTACT_KINDS,
    GUARDIAN_FIELDS,
    SEXES,
)

EDITABLE_STATUSES = ("draft",)  # the parent edits directly; otherwise changes go to the mairie
VALIDATED_STATUSES = ("validated", "closing_requested")


class FileIncomplete(DomainError):
    """The file cannot be submitted yet: `problems` lists (step, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("Votre dossier n'est pas complet : " + " ".join(m for _, m in problems))
        self.problems = problems


class NotEditable(DomainError):
    """The file is waiting for the mairie or closed: it cannot be changed now."""


# --- Choices shown in forms -----------------------------------------------------------------


def needs_choices() -> list[tuple[str, str]]:
    """The services a family may tick: those the commune runs (its activities), else the usual ones.

    Keys are stable across school years: "cantine-<school id>", an activity kind, or "activite-<id>".
    """
    import models

    choices = [(f"cantine-{school.id}", f"Restauration scolaire – {school.name}")
               for school in School.select().order_by(School.name)]
    choices += [("garderie", "Accueil périscolaire (garderie du matin et du soir)"),
                ("alsh_mercredi", "Accueil de loisirs du mercredi"),
                ("alsh_vacances", "Accueil de loisirs des vacances")]
    activity = getattr(models, "Activity", None)
    if activity is None:
        return choices
    rows = list(activity.select().where(activity.active == True).order_by(activity.position, activity.name))  # noqa: E712
    if not rows:
        return choices
    offered: set[str] = set()
    extra = []
    for row in rows:
        if row.kind == "cantine":
            offered.update([f"cantine-{row.school_id}"] if row.school_id else
                           [key for key, _ in choices if key.startswith("cantine-")])
        elif row.kind in ("garderie", "alsh_mercredi", "alsh_vacances"):
            offered.add(row.kind)
        elif (f"activite-{row.name}", row.name) not in extra:
            extra.append((f"activite-{row.id}", row.name))
    return [choice for choice in choices if choice[0] in offered] + extra


def needs_labels(household: Household) -> list[str]:
    labels = dict(needs_choices())
    return [labels.get(key, key) for key in household.needs.split(",") if key]


def active_diets() -> list[Diet]:
    return list(Diet.select().where(Diet.active == True).order_by(Diet.position, Diet.name))  # noqa: E712


# --- Reading the file, writing clean values back ---------------------------------------------


def guardians_of(household: Household) -> list[Guardian]:
    return list(Guardian.select().where(Guardian.household == household).order_by(Guardian.position, Guardian.id))


def contacts_of(child: Child) -> list[ChildContact]:
    return list(ChildContact.select().where(ChildContact.child == child).order_by(ChildContact.kind, ChildContact.id))


def pending_changes(household: Household) -> list[ChangeRequest]:
    return list(ChangeRequest.select().where((ChangeRequest.household == household)
                                             & (ChangeRequest.status == "pending")).order_by(ChangeRequest.id))


def current_values(obj, fields: dict) -> dict:
    """The stored values of an object for the given fields, in the representation of clean values."""
    values = {}
    for name in fields:
        if name == "contacts":
            values[name] = [{"kind": c.kind, "name": c.name, "relation": c.relation, "phone": c.phone}
                            for c in contacts_of(obj)]
        elif name in ("school", "diet"):
            values[name] = getattr(obj, f"{name}_id")
        else:
            values[name] = getattr(obj, name)
    return values


def display_value(name: str, value) -> str:
    """How a value reads in French in a change request and on the staff screen."""
    if value is None or value == "" or value == []:
        return "—"
    if name in BOOL_FIELDS:
        return "Oui" if value else "Non"
    if name == "sex":
        return SEXES.get(value, value)
    if name in ("birth_date", "expected_date"):
        date = dt.date.fromisoformat(value) if isinstance(value, str) else value
        return date.strftime("%d/%m/%Y")
    if name == "school":
        school = School.get_or_none(School.id == value)
        return school.name if school else "—"
    if name == "diet":
        diet = Diet.get_or_none(Diet.id == value)
        return diet.name if diet else "—"
    if name == "quotient_familial":
        return f"{value} €"
    if name == "contacts":
        return " ; ".join(f"{c['name']} ({CONTACT_KINDS[c['kind']].split(' ')[0].lower()}"
                          f"{', ' + c['relation'] if c['relation'] else ''}) {c['phone']}" for c in value)
    return str(value)


def _jsonable(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def diff(obj, fields: dict, new: dict) -> list[dict]:
    """The fields whose value changes, as change lines (field, label, old, new, value)."""
    old = current_values(obj, {name: fields[name] for name in new if name in fields}) if obj else {}
    lines = []
    for name, value in new.items():
        before = old.get(name) if obj else None
        if obj is not None and _jsonable(before) == _jsonable(value):
            continue
        if obj is None and value in (None, "", False, []):
            continue
        lines.append({"field": name, "label": fields[name], "old": display_value(name, before) if obj else "—",
                      "new": display_value(name, value), "value": _jsonable(value)})
    return lines


def change_lines(request: ChangeRequest) -> list[dict]:
    return json.loads(request.changes or "[]")


def describe_request(request: ChangeRequest) -> str:
    """A short French title: « Mon foyer », « Responsable : Claire Martin », « Nouvel enfant »…"""
    if request.action == "add_guardian":
        return "ajout d'un conjoint"
    if request.action == "add_child":
        return "ajout d'un enfant"
    if request.action == "remove_child":
        return f"retrait de l'enfant {request.child.full_name}" if request.child else "retrait d'un enfant"
    if request.target == "household":
        return "informations du foyer"
    if request.target == "guardian":
        return f"responsable {request.guardian.full_name}" if request.guardian else "responsable"
    return f"fiche de {request.child.full_name}" if request.child else "fiche enfant"


def apply_values(obj, values: dict) -> None:
    """Write clean (or JSON-decoded) values onto an object, contacts included."""
    for name, value in values.items():
        if name == "contacts":
            ChildContact.delete().where(ChildContact.child == obj).execute()
            for row in value:
                ChildContact.create(child=obj, **row)
        elif name in ("school", "diet"):
            setattr(obj, f"{name}_id", value)
        elif name in ("birth_date", "expected_date"):
            setattr(obj, name, dt.date.fromisoformat(value) if isinstance(value, str) else value)
        else:
            setattr(obj, name, value)
    obj.save()


# --- Completeness: what must be filled before submitting ------------------------------------


def household_problems(household: Household) -> list[str]:
    problems = []
    if not household.organisme:
        problems.append("Indiquez l'organisme (CAF, MSA ou autre).")
    if not household.allocataire_number and not household.no_allocataire_number:
        problems.append("Indiquez le numéro d'allocataire ou cochez « Je n'ai pas de numéro d'allocataire ».")
    if not household.family_situation:
        problems.append("Indiquez la situation familiale.")
    return problems


def guardian_problems(values: dict, label: str = "Responsable") -> dict[str, str]:
    """Missing fields of one responsable: {field: message}."""
    required = ("quality", "civility", "last_name", "first_name", "address", "postal_code", "city", "email")
    problems = {name: f"{label} : indiquez {GUARDIAN_FIELDS[name].lower()}." for name in required
                if not values.get(name)}
    if not values.get("phone_mobile") and not values.get("phone_home"):
        problems["phone_mobile"] = f"{label} : indiquez au moins un téléphone (portable ou fixe)."
    return problems


def child_problems(values: dict, label: str = "Enfant") -> dict[str, str]:
    problems = {}
    if not values.get("last_name"):
        problems["last_name"] = f"{label} : indiquez le nom."
    if values.get("unborn"):
        if not values.get("expected_date"):
            problems["expected_date"] = f"{label} : indiquez la date de naissance prévue."
    else:
        if not values.get("first_name"):
            problems["first_name"] = f"{label} : indiquez le prénom."
        if not values.get("sex"):
            problems["sex"] = f"{label} : indiquez le sexe."
        if not values.get("birth_date"):
            problems["birth_date"] = f"{label} : indiquez la date de naissance."
    return problems


def file_problems(household: Household) -> list[tuple[str, str]]:
    """Everything missing before the file can be submitted, as (step, message)."""
    problems = [("foyer", message) for message in household_problems(household)]
    guardians = guardians_of(household)
    if not guardians:
        problems.append(("responsables", "Renseignez au moins un responsable."))
    for index, guardian in enumerate(guardians):
        label = "Responsable" if index == 0 else "Conjoint"
        problems += [("responsables", m) for m in guardian_problems(current_values(guardian, GUARDIAN_FIELDS),
                                                                      label).values()]
    children = household.children_in_file()
    if not children:
        problems.append(("enfants", "Ajoutez au moins un enfant."))
    for index, child in enumerate(children, start=1):
        values = current_values(child, CHILD_IDENTITY_FIELDS)
        problems += [("enfants", m) for m in child_problems(values, f"Enfant {index}").values()]
    if not household.needs:
        problems.append(("besoins", "Cochez au moins un service dont vous aurez besoin."))
    return problems


# --- Draft steps (direct saves) ---------------------------------------------------------------


def _require_draft(household: Household) -> None:
    if household.status not in EDITABLE_STATUSES:
        raise NotEditable("Votre dossier a déjà été envoyé à la mairie : il ne peut plus être modifié ici.")


def save_household_step(household: Household, values: dict, user: User | None = None,
                        attestation: tuple[str, bytes] | None = None, upload_dir: str = "") -> Household:
    """Foyer step of a draft file, with the optional attestation de quotient familial (name, content).

    Both are saved in one transaction: a refused file leaves the foyer unchanged too.
    """
    _require_draft(household)
    with write_transaction():
        Household.update(**values).where(Household.id == household.id).execute()
        if attestation is not None:
            doc_type = documents.qf_type()
            documents.upload(user, household, doc_type.id, None, attestation[0], attestation[1], upload_dir)
    return Household.get_by_id(household.id)


def save_guardians_step(household: Household, user: User, entries: list[dict]) -> list[Guardian]:
    """Responsables step: the main responsable and an optional conjoint, in order.

    `entries` are dicts of clean values, each with the "id" of an existing guardian or None.
    """
    _require_draft(household)
    existing = {g.id: g for g in guardians_of(household)}
    with write_transaction():
        kept = []
        for index, entry in enumerate(entries):
            values = {name: value for name, value in entry.items() if name != "id"}
            guardian = existing.pop(entry.get("id"), None) or Guardian(household=household)
            for name, value in values.items():
                setattr(guardian, name, value)
            guardian.position = index
            guardian.is_payer = index == 0
            guardian.save()
            kept.append(guardian)
        for guardian in existing.values():
            guardian.delete_instance()
        if kept and kept[0].last_name:
            Household.update(name=f"Famille {kept[0].last_name.upper()}").where(Household.id == household.id).execute()
        if kept and user.guardian_id is None:
            User.update(guardian=kept[0]).where(User.id == user.id).execute()
    return kept


def save_children_step(household: Household, entries: list[dict]) -> list[Child]:
    """Enfants step of a draft file: entries are dicts of clean values with the "id" of an existing child
    or None (a new child); the household's children left out are removed."""
    _require_draft(household)
    existing = {c.id: c for c in household.children_in_file()}
    with write_transaction():
        kept = []
        for index, entry in enumerate(entries):
            values = {name: value for name, value in entry.items() if name != "id"}
            child = existing.pop(entry.get("id"), None) or Child(household=household)
            for name, value in values.items():
                setattr(child, name, value)
            child.position = index + 1
            child.save()
            kept.append(child)
        for child in existing.values():
            child.delete_instance(recursive=True)
    return kept


def save_needs_step(household: Household, selected: list[str]) -> Household:
    """Besoins step: the services ticked (keys of needs_choices()), stored in the order of the list."""
    _require_draft(household)
    needs = ",".join(key for key, _ in needs_choices() if key in selected)
    with write_transaction():
        Household.update(needs=needs).where(Household.id == household.id).execute()
    return Household.get_by_id(household.id)


def submit_file(household: Household, user: User) -> Household:
    """« Valider mon compte »: a complete draft goes to the mairie."""
    _require_draft(household)
    problems = file_problems(household)
    if problems:
        raise FileIncomplete(problems)
    with write_transaction():
        Household.update(status="submitted", submitted_at=clock.local_now(), refusal_reason="").where(
            Household.id == household.id).execute()
        outbox.send(user.email, "Votre dossier famille a bien été envoyé",
                    "Bonjour,\n\nVotre dossier famille a bien été transmis à la mairie. Vous recevrez un e-mail dès "
                    "qu'il aura été étudié.\n")
    return Household.get_by_id(household.id)
