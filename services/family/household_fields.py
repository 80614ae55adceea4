"""Fields of the household file: choices, labels, validation errors and the cleaning of form values."""
from __future__ import annotations

import datetime as dt
import re

from models import Diet, School
from services.accounts.users import EMAIL_RE
from services.core import clock
from services.core.errors import InvalidInput

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
