"""The household file (dossier famille): foyer, responsables, enfants, fiche enfant, besoins.

A draft file is filled in steps and submitted; staff validate or refuse it. Once validated,
a parent's change becomes a ChangeRequest (old value → new value) that staff accept or refuse.
Every function here is plain Python: views parse, call, render.
"""
from __future__ import annotations

import datetime as dt
import json
import re

from models import (
    ChangeRequest,
    Child,
    ChildContact,
    Diet,
    Guardian,
    Household,
    School,
    User,
    db,
)
from services import clock, mail
from services.accounts import EMAIL_RE, audit
from services.errors import DomainError, InvalidInput, NotFound

ORGANISMES = ["CAF", "MSA", "Autre"]
SITUATIONS = ["Marié(e)", "Pacsé(e)", "Vie maritale", "Célibataire", "Divorcé(e)", "Séparé(e)", "Veuf ou veuve"]
QUALITIES = ["Mère", "Père", "Tuteur ou tutrice", "Autre"]
CIVILITIES = ["Madame", "Monsieur"]
OCCUPATIONS = [
    "Agriculteur exploitant",
    "Artisan, commerçant, chef d'entreprise",
    "Cadre, profession intellectuelle supérieure",
    "Profession intermédiaire",
    "Employé",
    "Ouvrier",
    "Retraité",
    "Sans activité professionnelle",
]
SEXES = {"F": "Fille", "M": "Garçon"}
CLASS_LEVELS = ["TPS", "PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"]
CONTACT_KINDS = {"urgence": "Contact d'urgence", "sortie": "Personne autorisée à venir chercher l'enfant"}
EDITABLE_STATUSES = ("draft",)  # the parent edits directly; otherwise changes go to the mairie
VALIDATED_STATUSES = ("validated", "closing_requested")
MAX_CONTACTS = 6

# Field labels, used for error messages and for "old value → new value" in change requests.
HOUSEHOLD_FIELDS = {
    "organisme": "Organisme",
    "allocataire_number": "Numéro d'allocataire",
    "no_allocataire_number": "Je n'ai pas de numéro d'allocataire",
    "family_situation": "Situation familiale",
    "quotient_familial": "Quotient familial",
}
GUARDIAN_FIELDS = {
    "quality": "Qualité",
    "civility": "Civilité",
    "last_name": "Nom",
    "first_name": "Prénom",
    "address": "Adresse",
    "postal_code": "Code postal",
    "city": "Ville",
    "email": "Adresse e-mail",
    "phone_home": "Téléphone fixe",
    "phone_mobile": "Téléphone portable",
    "phone_work": "Téléphone travail",
    "occupation_category": "Catégorie socio-professionnelle",
}
CHILD_IDENTITY_FIELDS = {
    "unborn": "Enfant à naître",
    "sex": "Sexe",
    "last_name": "Nom",
    "first_name": "Prénom",
    "birth_date": "Date de naissance",
    "expected_date": "Date de naissance prévue",
}
CHILD_RECORD_FIELDS = {
    "school": "École",
    "class_level": "Classe",
    "diet": "Régime alimentaire",
    "allergies": "Allergies",
    "has_pai": "Projet d'accueil individualisé (PAI)",
    "pai_details": "Précisions sur le PAI",
    "doctor_name": "Médecin traitant",
    "doctor_phone": "Téléphone du médecin",
    "photo_allowed": "Autorisation photo",
    "leave_alone_allowed": "Autorisation de sortie seul",
    "emergency_care_allowed": "Autorisation de soins d'urgence",
    "contacts": "Contacts d'urgence et personnes autorisées",
}
CHILD_FIELDS = {**CHILD_IDENTITY_FIELDS, **CHILD_RECORD_FIELDS}
HEALTH_FIELDS = ("allergies", "has_pai", "pai_details", "doctor_name", "doctor_phone")
BOOL_FIELDS = {"no_allocataire_number", "unborn", "has_pai", "photo_allowed", "leave_alone_allowed",
               "emergency_care_allowed"}

POSTAL_RE = re.compile(r"^\d{5}$")
PHONE_RE = re.compile(r"^(?:0|\+33|0033)[1-9]\d{8}$")
ALLOCATAIRE_RE = re.compile(r"^[0-9A-Za-z]{1,15}$")


class FileInvalid(InvalidInput):
    """Some fields are wrong: `errors` maps each field name to its French message."""

    def __init__(self, errors: dict[str, str]):
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field)
        self.errors = errors


class FileIncomplete(DomainError):
    """The file cannot be submitted yet: `problems` lists (step, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("Votre dossier n'est pas complet : " + " ".join(m for _, m in problems))
        self.problems = problems


class NotEditable(DomainError):
    """The file is waiting for the mairie or closed: it cannot be changed now."""


class AlreadyDecided(DomainError):
    """A request was already accepted or refused."""


class ReasonRequired(InvalidInput):
    """A refusal needs a reason the parent will read."""


# --- Cleaning: typed values from form strings, or FileInvalid ----------------------------


def _text(data: dict, name: str, limit: int = 120) -> str:
    return " ".join(str(data.get(name) or "").split())[:limit]


def _flag(data: dict, name: str) -> bool:
    value = data.get(name)
    return value in (True, "y", "on", "1", "true", "oui")


def normalize_phone(value: str) -> str:
    """'06.12.34.56.78' → '06 12 34 56 78'; raises ValueError when it is not a French number."""
    compact = re.sub(r"[\s.\-()]", "", value or "")
    if not compact:
        return ""
    if not PHONE_RE.match(compact):
        raise ValueError(value)
    if compact.startswith("+33"):
        compact = "0" + compact[3:]
    elif compact.startswith("0033"):
        compact = "0" + compact[4:]
    return " ".join(compact[i:i + 2] for i in range(0, 10, 2))


def parse_date(value) -> dt.date | None:
    """A date from 'aaaa-mm-jj' (date input) or 'jj/mm/aaaa'; None when empty; ValueError when wrong."""
    if isinstance(value, dt.date):
        return value
    value = (value or "").strip()
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(value)


def clean_household(data: dict) -> dict:
    """The foyer step: organisme, numéro d'allocataire, situation familiale, quotient familial."""
    errors: dict[str, str] = {}
    values = {
        "organisme": _text(data, "organisme"),
        "no_allocataire_number": _flag(data, "no_allocataire_number"),
        "allocataire_number": re.sub(r"\s", "", str(data.get("allocataire_number") or "")),
        "family_situation": _text(data, "family_situation"),
        "quotient_familial": None,
    }
    if values["organisme"] and values["organisme"] not in ORGANISMES:
        errors["organisme"] = "Choisissez l'organisme dans la liste (CAF, MSA ou autre)."
    if values["no_allocataire_number"]:
        values["allocataire_number"] = ""
    elif values["allocataire_number"] and not ALLOCATAIRE_RE.match(values["allocataire_number"]):
        errors["allocataire_number"] = ("Numéro d'allocataire invalide : chiffres et lettres seulement, "
                                        "15 caractères au plus.")
    if values["family_situation"] and values["family_situation"] not in SITUATIONS:
        errors["family_situation"] = "Choisissez la situation familiale dans la liste."
    qf = str(data.get("quotient_familial") or "").strip().replace(" ", "").replace("€", "")
    if qf:
        if not qf.isdigit() or int(qf) > 99999:
            errors["quotient_familial"] = ("Quotient familial invalide : un nombre entier d'euros, "
                                           "tel qu'il figure sur l'attestation (par exemple 850).")
        else:
            values["quotient_familial"] = int(qf)
    if errors:
        raise FileInvalid(errors)
    return values


def clean_guardian(data: dict) -> dict:
    """One responsable: identity, address, e-mail, phones, catégorie socio-professionnelle."""
    errors: dict[str, str] = {}
    values = {name: _text(data, name) for name in GUARDIAN_FIELDS}
    values["address"] = _text(data, "address", 200)
    values["email"] = values["email"].lower()
    if values["quality"] and values["quality"] not in QUALITIES:
        errors["quality"] = "Choisissez la qualité dans la liste."
    if values["civility"] and values["civility"] not in CIVILITIES:
        errors["civility"] = "Choisissez la civilité dans la liste."
    if values["postal_code"] and not POSTAL_RE.match(values["postal_code"]):
        errors["postal_code"] = "Code postal invalide : 5 chiffres, par exemple 29999."
    if values["email"] and (len(values["email"]) > 254 or not EMAIL_RE.match(values["email"])):
        errors["email"] = "Adresse e-mail invalide : vérifiez qu'elle a la forme nom@domaine.fr."
    for name in ("phone_home", "phone_mobile", "phone_work"):
        try:
            values[name] = normalize_phone(values[name])
        except ValueError:
            errors[name] = (f"{GUARDIAN_FIELDS[name]} invalide : 10 chiffres commençant par 0, "
                            "par exemple 06 12 34 56 78.")
    if values["occupation_category"] and values["occupation_category"] not in OCCUPATIONS:
        errors["occupation_category"] = "Choisissez la catégorie dans la liste."
    if errors:
        raise FileInvalid(errors)
    return values


def clean_child_identity(data: dict, today: dt.date | None = None) -> dict:
    """Enfant (à naître), sexe, nom, prénom, date de naissance (or expected date)."""
    today = today or clock.today()
    errors: dict[str, str] = {}
    values = {
        "unborn": _flag(data, "unborn"),
        "sex": _text(data, "sex"),
        "last_name": _text(data, "last_name"),
        "first_name": _text(data, "first_name"),
        "birth_date": None,
        "expected_date": None,
    }
    if values["sex"] and values["sex"] not in SEXES:
        errors["sex"] = "Choisissez fille ou garçon."
    for name in ("birth_date", "expected_date"):
        try:
            values[name] = parse_date(data.get(name))
        except ValueError:
            errors[name] = f"{CHILD_IDENTITY_FIELDS[name]} invalide : utilisez le format jj/mm/aaaa."
    if values["unborn"]:
        values["birth_date"] = None
        expected = values["expected_date"]
        if expected and not (today - dt.timedelta(days=31) <= expected <= today + dt.timedelta(days=300)):
            errors["expected_date"] = "La date de naissance prévue doit se situer dans les dix prochains mois."
    else:
        values["expected_date"] = None
        born = values["birth_date"]
        if born and born > today:
            errors["birth_date"] = ("La date de naissance ne peut pas être dans le futur : pour un enfant "
                                    "à naître, cochez « Enfant à naître ».")
        elif born and born < today.replace(year=today.year - 21):
            errors["birth_date"] = "Date de naissance trop ancienne : le portail concerne les enfants de moins de 21 ans."
    if errors:
        raise FileInvalid(errors)
    return values


def clean_contacts(rows: list[dict]) -> list[dict]:
    """Contacts d'urgence / de sortie: empty rows are ignored; each kept row needs a name and a phone."""
    errors: dict[str, str] = {}
    contacts = []
    for index, row in enumerate(rows):
        name, relation, phone = _text(row, "name"), _text(row, "relation"), _text(row, "phone")
        kind = _text(row, "kind") or "urgence"
        if not (name or relation or phone):
            continue
        if kind not in CONTACT_KINDS:
            errors[f"contact-{index}-kind"] = "Choisissez le type de contact dans la liste."
        if not name:
            errors[f"contact-{index}-name"] = "Indiquez le nom et le prénom du contact."
        try:
            phone = normalize_phone(phone)
        except ValueError:
            errors[f"contact-{index}-phone"] = "Téléphone invalide : 10 chiffres commençant par 0."
        else:
            if not phone:
                errors[f"contact-{index}-phone"] = "Indiquez le téléphone du contact."
        contacts.append({"kind": kind, "name": name, "relation": relation, "phone": phone})
    if len(contacts) > MAX_CONTACTS:
        errors["contacts"] = f"{MAX_CONTACTS} contacts au plus par enfant."
    if errors:
        raise FileInvalid(errors)
    return contacts


def clean_child_record(data: dict, contact_rows: list[dict] | None = None) -> dict:
    """Fiche enfant: école et classe, régime, allergies et PAI, médecin, autorisations, contacts."""
    errors: dict[str, str] = {}
    values: dict = {
        "school": None,
        "class_level": _text(data, "class_level"),
        "diet": None,
        "allergies": _text(data, "allergies", 1000),
        "has_pai": _flag(data, "has_pai"),
        "pai_details": _text(data, "pai_details", 1000),
        "doctor_name": _text(data, "doctor_name"),
        "doctor_phone": _text(data, "doctor_phone"),
        "photo_allowed": _flag(data, "photo_allowed"),
        "leave_alone_allowed": _flag(data, "leave_alone_allowed"),
        "emergency_care_allowed": _flag(data, "emergency_care_allowed"),
    }
    school = str(data.get("school") or "").strip()
    if school and school != "0":
        found = School.get_or_none(School.id == int(school)) if school.isdigit() else None
        if found is None:
            errors["school"] = "Choisissez l'école dans la liste."
        else:
            values["school"] = found.id
    diet = str(data.get("diet") or "").strip()
    if diet and diet != "0":
        found = Diet.get_or_none((Diet.id == int(diet)) & (Diet.active == True)) if diet.isdigit() else None  # noqa: E712
        if found is None:
            errors["diet"] = "Choisissez le régime alimentaire dans la liste."
        else:
            values["diet"] = found.id
    if values["class_level"] and values["class_level"] not in CLASS_LEVELS:
        errors["class_level"] = "Choisissez la classe dans la liste."
    if not values["has_pai"]:
        values["pai_details"] = ""
    try:
        values["doctor_phone"] = normalize_phone(values["doctor_phone"])
    except ValueError:
        errors["doctor_phone"] = "Téléphone du médecin invalide : 10 chiffres commençant par 0."
    if contact_rows is not None:
        try:
            values["contacts"] = clean_contacts(contact_rows)
        except FileInvalid as invalid:
            errors.update(invalid.errors)
    if errors:
        raise FileInvalid(errors)
    return values


def clean_needs(selected: list[str], choices: list[tuple[str, str]]) -> str:
    known = {key for key, _ in choices}
    wrong = [value for value in selected if value not in known]
    if wrong:
        raise FileInvalid({"needs": "Choisissez les services dans la liste."})
    return ",".join(key for key, _ in choices if key in selected)


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


# --- Reading the file -------------------------------------------------------------------------


def guardians_of(household: Household) -> list[Guardian]:
    return list(Guardian.select().where(Guardian.household == household).order_by(Guardian.position, Guardian.id))


def children_of(household: Household, include_archived: bool = False) -> list[Child]:
    query = Child.select().where(Child.household == household)
    if not include_archived:
        query = query.where(Child.archived == False)  # noqa: E712
    return list(query.order_by(Child.position, Child.id))


def contacts_of(child: Child) -> list[ChildContact]:
    return list(ChildContact.select().where(ChildContact.child == child).order_by(ChildContact.kind, ChildContact.id))


def pending_changes(household: Household) -> list[ChangeRequest]:
    return list(ChangeRequest.select().where((ChangeRequest.household == household)
                                             & (ChangeRequest.status == "pending")).order_by(ChangeRequest.id))


def current_values(obj, fields: dict) -> dict:
    """The stored values of an object for the given fields, in the cleaned representation."""
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
        date = parse_date(value) if isinstance(value, str) else value
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
    children = children_of(household)
    if not children:
        problems.append(("enfants", "Ajoutez au moins un enfant."))
    for index, child in enumerate(children, start=1):
        values = current_values(child, CHILD_IDENTITY_FIELDS)
        problems += [("enfants", m) for m in child_problems(values, f"Enfant {index}").values()]
    if not household.needs:
        problems.append(("besoins", "Cochez au moins un service dont vous aurez besoin."))
    return problems


def _refuse_incomplete(problems: dict[str, str]) -> None:
    if problems:
        raise FileInvalid(problems)


# --- Draft steps (direct saves) ---------------------------------------------------------------


def _require_draft(household: Household) -> None:
    if household.status not in EDITABLE_STATUSES:
        raise NotEditable("Votre dossier a déjà été envoyé à la mairie : il ne peut plus être modifié ici.")


def save_household_step(household: Household, data: dict, user: User | None = None,
                        attestation: tuple[str, bytes] | None = None, upload_dir: str = "") -> Household:
    """Foyer step of a draft file, with the optional attestation de quotient familial.

    Both are checked before anything is saved: a bad file leaves the foyer unchanged too.
    """
    from services import documents

    _require_draft(household)
    errors: dict[str, str] = {}
    try:
        values = clean_household(data)
    except FileInvalid as invalid:
        errors.update(invalid.errors)
    if attestation is not None:
        try:
            documents.check_content(attestation[1])
        except documents.FileRefused as refusal:
            errors["attestation"] = refusal.message
    if errors:
        raise FileInvalid(errors)
    with db.atomic():
        Household.update(**values).where(Household.id == household.id).execute()
        if attestation is not None:
            doc_type = documents.qf_type()
            documents.upload(user, household, doc_type.id, None, attestation[0], attestation[1], upload_dir)
    return Household.get_by_id(household.id)


def save_guardians_step(household: Household, user: User, entries: list[dict]) -> list[Guardian]:
    """Responsables step: the main responsable and an optional conjoint, in order.

    `entries` are dicts of form values, each with an optional "id" of an existing guardian.
    Errors are keyed "<index>-<field>" so the view can put them next to the right field.
    """
    _require_draft(household)
    errors: dict[str, str] = {}
    cleaned = []
    for index, entry in enumerate(entries):
        try:
            cleaned.append(clean_guardian(entry))
        except FileInvalid as invalid:
            errors.update({f"{index}-{name}": message for name, message in invalid.errors.items()})
            cleaned.append(None)
    if errors:
        raise FileInvalid(errors)
    existing = {g.id: g for g in guardians_of(household)}
    with db.atomic():
        kept = []
        for index, (entry, values) in enumerate(zip(entries, cleaned)):
            guardian = existing.pop(_int(entry.get("id")), None) or Guardian(household=household)
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
    """Enfants step of a draft file; entries without an id are new children, missing ids are removed."""
    _require_draft(household)
    errors: dict[str, str] = {}
    cleaned = []
    for index, entry in enumerate(entries):
        try:
            cleaned.append(clean_child_identity(entry))
        except FileInvalid as invalid:
            errors.update({f"{index}-{name}": message for name, message in invalid.errors.items()})
            cleaned.append(None)
    if errors:
        raise FileInvalid(errors)
    existing = {c.id: c for c in children_of(household)}
    with db.atomic():
        kept = []
        for index, (entry, values) in enumerate(zip(entries, cleaned)):
            child = existing.pop(_int(entry.get("id")), None) or Child(household=household)
            for name, value in values.items():
                setattr(child, name, value)
            child.position = index + 1
            child.save()
            kept.append(child)
        for child in existing.values():
            child.delete_instance(recursive=True)
    return kept


def save_needs_step(household: Household, selected: list[str]) -> Household:
    _require_draft(household)
    needs = clean_needs(selected, needs_choices())
    with db.atomic():
        Household.update(needs=needs).where(Household.id == household.id).execute()
    return Household.get_by_id(household.id)


def _int(value) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() else None


def submit_file(household: Household, user: User) -> Household:
    """« Valider mon compte »: a complete draft goes to the mairie."""
    _require_draft(household)
    problems = file_problems(household)
    if problems:
        raise FileIncomplete(problems)
    with db.atomic():
        Household.update(status="submitted", submitted_at=clock.local_now(), refusal_reason="").where(
            Household.id == household.id).execute()
    mail.send(user.email, "Votre dossier famille a bien été envoyé",
              "Bonjour,\n\nVotre dossier famille a bien été transmis à la mairie. Vous recevrez un e-mail dès "
              "qu'il aura été étudié.\n")
    return Household.get_by_id(household.id)


# --- Staff decisions on submitted files -------------------------------------------------------


def check_decision(ids: list[int], accept: bool, reason: str, none_checked: str) -> str:
    """A bulk decision needs at least one object and, to refuse, a reason; returns the cleaned reason."""
    reason = (reason or "").strip()
    if not ids:
        raise InvalidInput(none_checked, field="ids")
    if not accept and not reason:
        raise ReasonRequired("Indiquez le motif du refus : la famille le lira.", field="reason")
    return reason


def _emails(household: Household) -> list[str]:
    return [u.email for u in User.select().where((User.household == household) & (User.role == "parent"))]


def _notify(household: Household, subject: str, body: str) -> None:
    for email in _emails(household):
        mail.send(email, subject, "Bonjour,\n\n" + body + "\n\nConnectez-vous au portail famille pour le consulter.\n")


def decide_files(staff: User, household_ids: list[int], accept: bool, reason: str = "") -> int:
    """Validate or refuse submitted files (one or several); refused files go back to draft with the reason."""
    reason = check_decision(household_ids, accept, reason, "Cochez au moins un dossier.")
    decided = []
    with db.atomic():
        for household in Household.select().where(Household.id.in_(household_ids) & (Household.status == "submitted")):
            if accept:
                household.status, household.validated_at, household.refusal_reason = "validated", clock.local_now(), ""
            else:
                household.status, household.refusal_reason = "draft", reason
            household.save()
            audit(staff, "dossier famille validé" if accept else "dossier famille refusé", household, detail=reason)
            decided.append(household)
    for household in decided:
        if accept:
            _notify(household, "Votre dossier famille est validé",
                    "La mairie a validé votre dossier famille : vous pouvez inscrire vos enfants aux services.")
        else:
            _notify(household, "Votre dossier famille est à compléter",
                    f"La mairie n'a pas pu valider votre dossier famille. Motif : {reason}")
    return len(decided)


# --- Changes to a validated file --------------------------------------------------------------


def _request_or_apply(household: Household, user: User, target: str, obj, fields: dict, values: dict,
                      action: str = "update") -> str:
    """Apply directly on a draft; otherwise record a ChangeRequest. Returns applied/requested/unchanged."""
    if household.status == "draft":
        with db.atomic():
            _apply(obj, values)
        return "applied"
    if household.status not in VALIDATED_STATUSES:
        raise NotEditable("Votre dossier est en attente de validation par la mairie : "
                          "vous pourrez le modifier une fois validé.")
    lines = diff(obj if action == "update" else None, fields, values)
    if not lines and action == "update":
        return "unchanged"
    with db.atomic():
        ChangeRequest.create(
            household=household, target=target, action=action,
            guardian=obj if isinstance(obj, Guardian) else None,
            child=obj if isinstance(obj, Child) else None,
            changes=json.dumps(lines, ensure_ascii=False), created_at=clock.local_now(), created_by=user)
    return "requested"


def _apply(obj, values: dict) -> None:
    """Write cleaned (or JSON-decoded) values onto an object, contacts included."""
    for name, value in values.items():
        if name == "contacts":
            ChildContact.delete().where(ChildContact.child == obj).execute()
            for row in value:
                ChildContact.create(child=obj, **row)
        elif name in ("school", "diet"):
            setattr(obj, f"{name}_id", value)
        elif name in ("birth_date", "expected_date"):
            setattr(obj, name, parse_date(value) if isinstance(value, str) else value)
        else:
            setattr(obj, name, value)
    obj.save()


def change_household(household: Household, user: User, data: dict) -> str:
    """« Modifier » Mon foyer."""
    values = clean_household(data)
    _refuse_incomplete({k: v for k, v in zip(
        ("organisme", "allocataire_number", "family_situation"), _household_required(values)) if v})
    return _request_or_apply(household, user, "household", household, HOUSEHOLD_FIELDS, values)


def _household_required(values: dict) -> list[str]:
    return [
        "" if values["organisme"] else "Indiquez l'organisme.",
        "" if values["allocataire_number"] or values["no_allocataire_number"] else
        "Indiquez le numéro d'allocataire ou cochez « Je n'ai pas de numéro d'allocataire ».",
        "" if values["family_situation"] else "Indiquez la situation familiale.",
    ]


def change_guardian(household: Household, user: User, guardian: Guardian | None, data: dict) -> str:
    """« Modifier » a responsable, or « Ajouter un conjoint » when guardian is None."""
    if guardian is not None and guardian.household_id != household.id:
        raise NotFound("Responsable introuvable.")
    values = clean_guardian(data)
    _refuse_incomplete(guardian_problems(values, "Responsable"))
    if guardian is None:
        if len(guardians_of(household)) >= 2:
            raise InvalidInput("Le foyer compte déjà deux responsables.", field="last_name")
        if household.status == "draft":
            with db.atomic():
                Guardian.create(household=household, position=1, **values)
            return "applied"
        return _request_or_apply(household, user, "guardian", None, GUARDIAN_FIELDS, values, "add_guardian")
    return _request_or_apply(household, user, "guardian", guardian, GUARDIAN_FIELDS, values)


def change_child(household: Household, user: User, child: Child | None, identity: dict, record: dict | None,
                 contact_rows: list[dict] | None) -> str:
    """« Modifier » a child (identity and fiche), or « Ajouter un enfant » when child is None."""
    if child is not None and child.household_id != household.id:
        raise NotFound("Enfant introuvable.")
    errors: dict[str, str] = {}
    values: dict = {}
    try:
        values.update(clean_child_identity(identity))
    except FileInvalid as invalid:
        errors.update(invalid.errors)
    if record is not None:
        try:
            values.update(clean_child_record(record, contact_rows))
        except FileInvalid as invalid:
            errors.update(invalid.errors)
    if errors:
        raise FileInvalid(errors)
    _refuse_incomplete(child_problems(values))
    if child is None:
        if household.status == "draft":
            with db.atomic():
                new = Child.create(household=household, position=len(children_of(household)) + 1,
                                   **{k: v for k, v in values.items() if k not in ("contacts", "school", "diet")})
                _apply(new, {k: v for k, v in values.items() if k in ("contacts", "school", "diet")})
            return "applied"
        return _request_or_apply(household, user, "child", None, CHILD_FIELDS, values, "add_child")
    return _request_or_apply(household, user, "child", child, CHILD_FIELDS, values)


def request_child_removal(household: Household, user: User, child: Child) -> str:
    """« Supprimer l'enfant » from a validated file: the mairie decides (bookings and invoices are kept)."""
    if child.household_id != household.id or child.archived:
        raise NotFound("Enfant introuvable.")
    if household.status == "draft":
        with db.atomic():
            child.delete_instance(recursive=True)
        return "applied"
    if household.status not in VALIDATED_STATUSES:
        raise NotEditable("Votre dossier est en attente de validation par la mairie.")
    lines = [{"field": "archived", "label": "Enfant retiré du dossier", "old": child.full_name, "new": "—",
              "value": True}]
    with db.atomic():
        ChangeRequest.create(household=household, target="child", action="remove_child", child=child,
                             changes=json.dumps(lines, ensure_ascii=False), created_at=clock.local_now(),
                             created_by=user)
    return "requested"


def certify_child(household: Household, user: User, child: Child) -> Child:
    """« Je certifie exactes les informations »: stamps the date of the last certification."""
    if child.household_id != household.id:
        raise NotFound("Enfant introuvable.")
    with db.atomic():
        child.certified_at = clock.local_now()
        child.save()
    return child


def withdraw_change(household: Household, request: ChangeRequest) -> None:
    """The parent cancels one of their pending changes."""
    if request.household_id != household.id:
        raise NotFound("Demande introuvable.")
    if request.status != "pending":
        raise AlreadyDecided("Cette demande a déjà été traitée par la mairie.")
    with db.atomic():
        request.delete_instance()


def decide_changes(staff: User, request_ids: list[int], accept: bool, reason: str = "") -> int:
    """Accept (apply) or refuse pending changes, one or several; the family is told by e-mail."""
    reason = check_decision(request_ids, accept, reason, "Cochez au moins une demande.")
    decided = []
    with db.atomic():
        for request in ChangeRequest.select().where(ChangeRequest.id.in_(request_ids)
                                                    & (ChangeRequest.status == "pending")):
            if accept:
                _apply_request(request)
            request.status = "accepted" if accept else "refused"
            request.reason = "" if accept else reason
            request.decided_at, request.decided_by = clock.local_now(), staff
            request.save()
            audit(staff, "modification acceptée" if accept else "modification refusée", request,
                  detail="; ".join(f"{line['label']} : {line['old']} → {line['new']}" for line in change_lines(request))
                  + (f" (motif : {reason})" if reason else ""))
            decided.append(request)
    for request in decided:
        what = describe_request(request)
        if accept:
            _notify(request.household, "Votre modification a été acceptée",
                    f"La mairie a accepté votre modification : {what}.")
        else:
            _notify(request.household, "Votre modification a été refusée",
                    f"La mairie a refusé votre modification : {what}. Motif : {reason}")
    return len(decided)


def _apply_request(request: ChangeRequest) -> None:
    values = {line["field"]: line["value"] for line in change_lines(request)}
    household = request.household
    if request.action == "update":
        target = {"household": household, "guardian": request.guardian, "child": request.child}[request.target]
        _apply(target, values)
    elif request.action == "add_guardian":
        _apply(Guardian(household=household, position=len(guardians_of(household))), values)
    elif request.action == "add_child":
        child = Child(household=household, position=len(children_of(household)) + 1)
        simple = {k: v for k, v in values.items() if k != "contacts"}
        _apply(child, simple)
        if "contacts" in values:
            _apply(child, {"contacts": values["contacts"]})
    elif request.action == "remove_child":
        Child.update(archived=True).where(Child.id == request.child_id).execute()


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


# --- Staff direct edits (logged) --------------------------------------------------------------


def staff_edit(staff: User, obj, fields: dict, values: dict) -> int:
    """A staff member edits a file directly: applied at once, each change written to the audit log."""
    lines = diff(obj, fields, values)
    if not lines:
        return 0
    with db.atomic():
        _apply(obj, values)
        audit(staff, "modification du dossier famille par la mairie", obj,
              detail="; ".join(f"{line['label']} : {line['old']} → {line['new']}" for line in lines))
    return len(lines)


def staff_edit_household(staff: User, household: Household, data: dict) -> int:
    return staff_edit(staff, household, HOUSEHOLD_FIELDS, clean_household(data))


def staff_edit_guardian(staff: User, guardian: Guardian, data: dict) -> int:
    return staff_edit(staff, guardian, GUARDIAN_FIELDS, clean_guardian(data))


def staff_edit_child(staff: User, child: Child, identity: dict, record: dict, contact_rows: list[dict],
                     with_health: bool) -> int:
    """Health fields are only written by staff allowed to see them (others keep the stored values)."""
    errors: dict[str, str] = {}
    values: dict = {}
    for clean, args in ((clean_child_identity, (identity,)), (clean_child_record, (record, contact_rows))):
        try:
            values.update(clean(*args))
        except FileInvalid as invalid:
            errors.update(invalid.errors)
    if errors:
        raise FileInvalid(errors)
    if not with_health:
        for name in HEALTH_FIELDS:
            values.pop(name, None)
    return staff_edit(staff, child, CHILD_FIELDS, values)


# --- Account closure --------------------------------------------------------------------------


def request_closure(household: Household, user: User) -> Household:
    """« Supprimer mon compte »: a request to the mairie; billing data is never deleted at once."""
    if household.status in ("closing_requested", "closed"):
        raise NotEditable("Votre demande de suppression du compte est déjà enregistrée.")
    with db.atomic():
        Household.update(status="closing_requested", status_before_closing=household.status,
                         closing_requested_at=clock.local_now()).where(Household.id == household.id).execute()
        audit(user, "demande de suppression du compte", household)
    return Household.get_by_id(household.id)


def decide_closures(staff: User, household_ids: list[int], accept: bool, reason: str = "") -> int:
    """Close accounts (logins disabled, invoices kept) or refuse with a reason."""
    reason = check_decision(household_ids, accept, reason, "Cochez au moins une demande.")
    decided = []
    with db.atomic():
        for household in Household.select().where(Household.id.in_(household_ids)
                                                   & (Household.status == "closing_requested")):
            emails = _emails(household)
            if accept:
                household.status = "closed"
                User.update(password_hash=None).where(User.household == household).execute()
            else:
                household.status = household.status_before_closing or "validated"
                household.refusal_reason = reason
            household.save()
            audit(staff, "compte fermé" if accept else "fermeture du compte refusée", household, detail=reason)
            decided.append((household, emails))
    for household, emails in decided:
        for email in emails:
            if accept:
                mail.send(email, "Votre compte a été fermé",
                          "Bonjour,\n\nLa mairie a fermé votre compte sur le portail famille. Vos factures restent "
                          "conservées par la mairie ; contactez-la pour toute question.\n")
            else:
                mail.send(email, "Votre demande de suppression du compte",
                          f"Bonjour,\n\nLa mairie n'a pas fermé votre compte. Motif : {reason}\n")
    return len(decided)


# --- Staff search -----------------------------------------------------------------------------


def search_households(query: str = "", status: str = "") -> list[Household]:
    """Households whose name, child, responsable or login e-mail contains the query."""
    rows = Household.select().order_by(Household.name, Household.id)
    if status:
        rows = rows.where(Household.status == status)
    query = (query or "").strip()
    if query:
        like = f"%{query}%"
        children = Child.select(Child.household).where(Child.first_name.ilike(like) | Child.last_name.ilike(like))
        guardians = Guardian.select(Guardian.household).where(
            Guardian.last_name.ilike(like) | Guardian.first_name.ilike(like) | Guardian.email.ilike(like))
        users = User.select(User.household).where(User.email.ilike(like) & User.household.is_null(False))
        rows = rows.where(Household.name.ilike(like) | Household.id.in_(children) | Household.id.in_(guardians)
                          | Household.id.in_(users))
    return list(rows.limit(200))


STATUS_LABELS = {
    "draft": "En cours de saisie",
    "submitted": "En attente de validation",
    "validated": "Validé",
    "closing_requested": "Suppression demandée",
    "closed": "Fermé",
}
