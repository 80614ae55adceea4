"""Fields of the household file: the choices offered, the labels used in change requests and the
error that names fields. Typed values are parsed and checked by the forms (blueprints.family.forms)."""
from __future__ import annotations

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


class FileInvalid(InvalidInput):
    """Some fields are missing or wrong: `errors` maps each field name to its French message."""

    def __init__(self, errors: dict[str, str]):
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field)
        self.errors = errors
