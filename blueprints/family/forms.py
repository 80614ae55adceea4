"""Forms of the household file. They only render and carry values: the rules live in services.family.household_fields."""
from __future__ import annotations

from wtforms import BooleanField, FileField, Form, HiddenField, SelectField, StringField, TextAreaField

from services.family import household_fields as fields

CHOOSE = [("", "— Choisir —")]


def _choices(values) -> list[tuple[str, str]]:
    return CHOOSE + [(value, value) for value in values]


def _phone(label: str) -> StringField:
    return StringField(label, render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "tel"})


class FoyerForm(Form):
    organisme = SelectField("Organisme", choices=_choices(fields.ORGANISMES))
    allocataire_number = StringField("Numéro d'allocataire", render_kw={"inputmode": "numeric"})
    no_allocataire_number = BooleanField("Je n'ai pas de numéro d'allocataire")
    family_situation = SelectField("Situation familiale", choices=_choices(fields.SITUATIONS))
    quotient_familial = StringField("Quotient familial (en euros)", render_kw={"inputmode": "numeric"})


class AttestationForm(Form):
    attestation = FileField("Attestation de quotient familial (facultatif)",
                            render_kw={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"})


class GuardianForm(Form):
    id = HiddenField()
    quality = SelectField("Qualité", choices=_choices(fields.QUALITIES))
    civility = SelectField("Civilité", choices=_choices(fields.CIVILITIES))
    last_name = StringField("Nom", render_kw={"autocomplete": "family-name"})
    first_name = StringField("Prénom", render_kw={"autocomplete": "given-name"})
    address = StringField("Adresse", render_kw={"autocomplete": "street-address"})
    postal_code = StringField("Code postal", render_kw={"inputmode": "numeric", "autocomplete": "postal-code",
                                                       "maxlength": 5})
    city = StringField("Ville", render_kw={"autocomplete": "address-level2"})
    email = StringField("Adresse e-mail", render_kw={"type": "email", "inputmode": "email", "autocomplete": "email"})
    phone_mobile = _phone("Téléphone portable")
    phone_home = _phone("Téléphone fixe")
    phone_work = _phone("Téléphone travail (facultatif)")
    occupation_category = SelectField("Catégorie socio-professionnelle", choices=_choices(fields.OCCUPATIONS))


class ChildIdentityForm(Form):
    id = HiddenField()
    unborn = BooleanField("Enfant à naître")
    sex = SelectField("Sexe", choices=CHOOSE + list(fields.SEXES.items()))
    last_name = StringField("Nom de l'enfant")
    first_name = StringField("Prénom de l'enfant")
    birth_date = StringField("Date de naissance", render_kw={"type": "date"})
    expected_date = StringField("Date de naissance prévue (enfant à naître)", render_kw={"type": "date"})


class ChildRecordForm(Form):
    school = SelectField("École")
    class_level = SelectField("Classe", choices=_choices(fields.CLASS_LEVELS))
    diet = SelectField("Régime alimentaire")
    allergies = TextAreaField("Allergies", render_kw={"rows": 2})
    has_pai = BooleanField("L'enfant a un projet d'accueil individualisé (PAI)")
    pai_details = TextAreaField("Précisions sur le PAI", render_kw={"rows": 2})
    doctor_name = StringField("Médecin traitant")
    doctor_phone = _phone("Téléphone du médecin")
    photo_allowed = BooleanField("J'autorise la prise et la diffusion de photos de mon enfant dans le cadre des activités")
    leave_alone_allowed = BooleanField("J'autorise mon enfant à quitter seul l'accueil")
    emergency_care_allowed = BooleanField("J'autorise les soins d'urgence et l'hospitalisation si nécessaire")

    def set_choices(self, schools, diets) -> None:
        self.school.choices = [("", "— Choisir —")] + [(str(s.id), s.name) for s in schools]
        self.diet.choices = [("", "Aucun régime particulier")] + [(str(d.id), d.name) for d in diets]


class ContactForm(Form):
    kind = SelectField("Type de contact", choices=list(fields.CONTACT_KINDS.items()))
    name = StringField("Nom et prénom")
    relation = StringField("Lien avec l'enfant (facultatif)")
    phone = _phone("Téléphone")


class ReasonForm(Form):
    reason = TextAreaField("Motif du refus (la famille le lira)", render_kw={"rows": 2})


class DocumentForm(Form):
    doc_type = SelectField("Type de document")
    child = SelectField("Concerne")
    file = FileField("Fichier (PDF, JPEG ou PNG, 10 Mo maximum)",
                     render_kw={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"})

    def set_choices(self, types, children) -> None:
        self.doc_type.choices = CHOOSE + [(str(t.id), t.name) for t in types]
        self.child.choices = [("", "Le foyer")] + [(str(c.id), c.full_name or "Enfant à naître") for c in children]


def attach_errors(forms: dict, errors: dict[str, str]) -> list[str]:
    """Put each service error next to its field; returns the messages that found no field.

    `forms` maps an error-key prefix ("" for a single form, "0-" for the first entry…) to a form.
    """
    orphans = []
    for key, message in errors.items():
        for prefix, form in sorted(forms.items(), key=lambda item: -len(item[0])):
            if key.startswith(prefix) and key[len(prefix):] in form._fields:
                field = form[key[len(prefix):]]
                field.errors = list(field.errors or []) + [message]
                break
        else:
            orphans.append(message)
    return orphans
