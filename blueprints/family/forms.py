"""Forms of the household file, for parents and staff: they parse and check what was typed, field by
field, and give the services (services.family) clean values; the domain rules stay there."""
from __future__ import annotations

import datetime as dt
import re

from werkzeug.datastructures import MultiDict
from wtforms import Form, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, ValidationError

from blueprints.family.form_fields import (
    AcceptedFile,
    CheckboxField,
    DayField,
    EmailAddress,
    FileRequired,
    IdField,
    IdListField,
    LooseIntegerField,
    PhoneField,
    UploadField,
    choice,
    squash,
)
from services.core import clock
from services.core.errors import InvalidInput
from services.family import household_fields as fields
from services.family import schools as school_rules

CHOOSE = [("", "— Choisir —")]
ACCEPTED_FILES = {"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
POSTAL_RE = re.compile(r"^\d{5}$")
ALLOCATAIRE_RE = re.compile(r"^[0-9A-Za-z]{1,15}$")
MISSING = "Ce champ manque dans le formulaire envoyé : rechargez la page et recommencez."


def _choices(values) -> list[tuple[str, str]]:
    return CHOOSE + [(value, value) for value in values]


def _no_spaces(value) -> str:
    return re.sub(r"\s", "", str(value if value is not None else ""))


def _euros(value) -> str:
    return _no_spaces(value).replace("€", "")


def _zero_is_none(value: str) -> str:
    return "" if value == "0" else value


def _guardian_phone(label: str, name: str) -> PhoneField:
    return PhoneField(label, f"{name} invalide : 10 chiffres commençant par 0, par exemple 06 12 34 56 78.")


# --- Entries of the wizard (responsables g0-, g1-; enfants c0-, c1-…) -----------------------------


class Entry:
    """One of several entries of a step, posted under a prefix ("g0-last_name")."""

    def is_blank(self) -> bool:
        """Nothing typed and no stored row behind it: a new entry left empty."""
        return not any(str(field.raw_data[0]).strip() for field in self
                       if field.raw_data and field.short_name != "present")


def entry_indices(form_class, formdata, letter: str, count: int) -> list[int]:
    """Which of the entries <letter>0- … <letter>{count - 1}- were filled in."""
    return [index for index in range(count) if not form_class(formdata, prefix=f"{letter}{index}").is_blank()]


def entry_forms(form_class, formdata, letter: str, indices: list[int]) -> list:
    """The entries at those indices as forms numbered again from 0, so that a page shown again with
    its errors posts them back under the names it shows."""
    forms = []
    for new, old in enumerate(indices):
        renamed = MultiDict([(f"{letter}{new}-{key[len(f'{letter}{old}-'):]}", value)
                             for key, value in formdata.items(multi=True) if key.startswith(f"{letter}{old}-")])
        forms.append(form_class(renamed, prefix=f"{letter}{new}"))
    return forms


class WizardActionForm(Form):
    """Which button of a wizard step was pressed (next, later, submit, add, remove-1…)."""

    action = StringField()
    child_count = IdField()


# --- Foyer and responsables --------------------------------------------------------------------


class FoyerForm(Form):
    organisme = choice("Organisme", _choices(fields.ORGANISMES),
                       "Choisissez l'organisme dans la liste (CAF, MSA ou autre).")
    allocataire_number = StringField("Numéro d'allocataire", filters=[_no_spaces], render_kw={"inputmode": "numeric"})
    no_allocataire_number = CheckboxField("Je n'ai pas de numéro d'allocataire")
    family_situation = choice("Situation familiale", _choices(fields.SITUATIONS),
                              "Choisissez la situation familiale dans la liste.")
    quotient_familial = StringField("Quotient familial (en euros)", filters=[_euros],
                                    render_kw={"inputmode": "numeric"})

    def validate_allocataire_number(self, field):
        if not self.no_allocataire_number.data and field.data and not ALLOCATAIRE_RE.match(field.data):
            raise ValidationError("Numéro d'allocataire invalide : chiffres et lettres seulement, "
                                  "15 caractères au plus.")

    def validate_quotient_familial(self, field):
        if field.data and not re.fullmatch(r"0*[0-9]{1,5}", field.data):  # a whole number up to 99999
            raise ValidationError("Quotient familial invalide : un nombre entier d'euros, "
                                  "tel qu'il figure sur l'attestation (par exemple 850).")

    def values(self) -> dict:
        no_number, quotient = self.no_allocataire_number.data, self.quotient_familial.data
        return {
            "organisme": self.organisme.data,
            "no_allocataire_number": no_number,
            "allocataire_number": "" if no_number else self.allocataire_number.data,
            "family_situation": self.family_situation.data,
            "quotient_familial": int(quotient.lstrip("0") or 0) if quotient else None,
        }


class AttestationForm(Form):
    attestation = UploadField("Attestation de quotient familial (facultatif)", validators=[AcceptedFile()],
                              render_kw=ACCEPTED_FILES)


class GuardianForm(Entry, Form):
    id = IdField()
    quality = choice("Qualité", _choices(fields.QUALITIES), "Choisissez la qualité dans la liste.")
    civility = choice("Civilité", _choices(fields.CIVILITIES), "Choisissez la civilité dans la liste.")
    last_name = StringField("Nom", filters=[squash()], render_kw={"autocomplete": "family-name"})
    first_name = StringField("Prénom", filters=[squash()], render_kw={"autocomplete": "given-name"})
    address = StringField("Adresse", filters=[squash(200)], render_kw={"autocomplete": "street-address"})
    postal_code = StringField("Code postal", filters=[squash()],
                              render_kw={"inputmode": "numeric", "autocomplete": "postal-code", "maxlength": 5})
    city = StringField("Ville", filters=[squash()], render_kw={"autocomplete": "address-level2"})
    email = StringField("Adresse e-mail", filters=[squash()], validators=[EmailAddress()],
                        render_kw={"type": "email", "inputmode": "email", "autocomplete": "email"})
    phone_mobile = _guardian_phone("Téléphone portable", "Téléphone portable")
    phone_home = _guardian_phone("Téléphone fixe", "Téléphone fixe")
    phone_work = _guardian_phone("Téléphone travail (facultatif)", "Téléphone travail")
    occupation_category = choice("Catégorie socio-professionnelle", _choices(fields.OCCUPATIONS),
                                 "Choisissez la catégorie dans la liste.")

    def validate_postal_code(self, field):
        if field.data and not POSTAL_RE.match(field.data):
            raise ValidationError("Code postal invalide : 5 chiffres, par exemple 29999.")

    def values(self) -> dict:
        return {name: self[name].data for name in fields.GUARDIAN_FIELDS}


class GuardianEntryForm(GuardianForm):
    """A responsable of the wizard: posted with a "present" marker, so a blank conjoint is left out."""

    present = HiddenField()

    def is_blank(self) -> bool:
        return not self.present.raw_data or super().is_blank()


# --- Enfants: identity, fiche, contacts --------------------------------------------------------


class ChildIdentityForm(Entry, Form):
    id = IdField()
    unborn = CheckboxField("Enfant à naître")
    sex = choice("Sexe", CHOOSE + list(fields.SEXES.items()), "Choisissez fille ou garçon.")
    last_name = StringField("Nom de l'enfant", filters=[squash()])
    first_name = StringField("Prénom de l'enfant", filters=[squash()])
    birth_date = DayField("Date de naissance", "Date de naissance invalide : utilisez le format jj/mm/aaaa.")
    expected_date = DayField("Date de naissance prévue (enfant à naître)",
                             "Date de naissance prévue invalide : utilisez le format jj/mm/aaaa.")

    def validate_birth_date(self, field):
        today = clock.today()
        if self.unborn.data or field.data is None:
            return
        if field.data > today:
            raise ValidationError("La date de naissance ne peut pas être dans le futur : pour un enfant "
                                  "à naître, cochez « Enfant à naître ».")
        if field.data < today.replace(year=today.year - 21):
            raise ValidationError("Date de naissance trop ancienne : le portail concerne les enfants de moins "
                                  "de 21 ans.")

    def validate_expected_date(self, field):
        today = clock.today()
        if self.unborn.data and field.data is not None and not (
                today - dt.timedelta(days=31) <= field.data <= today + dt.timedelta(days=300)):
            raise ValidationError("La date de naissance prévue doit se situer dans les dix prochains mois.")

    def values(self) -> dict:
        unborn = self.unborn.data
        return {"unborn": unborn, "sex": self.sex.data, "last_name": self.last_name.data,
                "first_name": self.first_name.data, "birth_date": None if unborn else self.birth_date.data,
                "expected_date": self.expected_date.data if unborn else None}


class ChildRecordForm(Form):
    school = SelectField("École", invalid_choice_message="Choisissez l'école dans la liste.",
                         filters=[squash(), _zero_is_none])
    class_level = choice("Classe", _choices(fields.CLASS_LEVELS), "Choisissez la classe dans la liste.")
    diet = SelectField("Régime alimentaire", invalid_choice_message="Choisissez le régime alimentaire dans la liste.",
                       filters=[squash(), _zero_is_none])
    allergies = TextAreaField("Allergies", filters=[squash(1000)], render_kw={"rows": 2})
    has_pai = CheckboxField("L'enfant a un projet d'accueil individualisé (PAI)")
    pai_details = TextAreaField("Précisions sur le PAI", filters=[squash(1000)], render_kw={"rows": 2})
    doctor_name = StringField("Médecin traitant", filters=[squash()])
    doctor_phone = PhoneField("Téléphone du médecin", "Téléphone du médecin invalide : 10 chiffres commençant par 0.")
    photo_allowed = CheckboxField("J'autorise la prise et la diffusion de photos de mon enfant dans le cadre des "
                                  "activités")
    leave_alone_allowed = CheckboxField("J'autorise mon enfant à quitter seul l'accueil")
    emergency_care_allowed = CheckboxField("J'autorise les soins d'urgence et l'hospitalisation si nécessaire")

    def set_choices(self, schools, diets) -> None:
        self.school.choices = [("", "— Choisir —")] + [(str(s.id), s.name) for s in schools]
        self.diet.choices = [("", "Aucun régime particulier")] + [(str(d.id), d.name) for d in diets]

    def _school_id(self) -> int | None:
        value = self.school.data
        return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 19 else None

    def limit_classes(self) -> None:
        """Offer only the classes of the chosen school when it lists them (every level otherwise); the
        check itself is validate_class_level, so a stale choice gets the school's own message."""
        levels = school_rules.classes_of(self._school_id())
        if levels:
            self.class_level.choices = _choices(levels)
            self.class_level.validate_choice = False

    def validate_class_level(self, field):
        if field.data and field.data not in fields.CLASS_LEVELS:
            raise ValidationError("Choisissez la classe dans la liste.")
        try:
            school_rules.check_class(self._school_id(), field.data or "")
        except InvalidInput as refusal:
            raise ValidationError(refusal.message) from None

    def without_health(self) -> None:
        """For staff who may not see health data: those fields are neither shown nor written."""
        for name in fields.HEALTH_FIELDS:
            delattr(self, name)

    def values(self) -> dict:
        values = {name: self[name].data for name in fields.CHILD_RECORD_FIELDS if name in self._fields}
        for name in ("school", "diet"):
            values[name] = int(values[name]) if values[name] else None
        if "pai_details" in values and not values["has_pai"]:
            values["pai_details"] = ""
        return values


class ContactForm(Form):
    """One contact row (contact-0-…): an empty row is ignored; a row in use needs a name and a phone."""

    kind = SelectField("Type de contact", choices=list(fields.CONTACT_KINDS.items()),
                       invalid_choice_message="Choisissez le type de contact dans la liste.",
                       filters=[squash(), lambda kind: kind or "urgence"])
    name = StringField("Nom et prénom", filters=[squash()])
    relation = StringField("Lien avec l'enfant (facultatif)", filters=[squash()])
    phone = PhoneField("Téléphone", "Téléphone invalide : 10 chiffres commençant par 0.")

    def is_blank(self) -> bool:
        return not (self.name.data or self.relation.data or self.phone.data)

    def validate(self, extra_validators=None) -> bool:
        return self.is_blank() or super().validate(extra_validators)

    def validate_name(self, field):
        if not field.data:
            raise ValidationError("Indiquez le nom et le prénom du contact.")

    def validate_phone(self, field):
        if not field.data:
            raise ValidationError("Indiquez le téléphone du contact.")

    def values(self) -> dict:
        return {"kind": self.kind.data, "name": self.name.data, "relation": self.relation.data,
                "phone": self.phone.data}


def contact_forms(formdata, existing: list) -> list[ContactForm]:
    """The contact rows of a fiche enfant: stored ones plus a blank one (two at least) to show, or the
    rows posted (the first two, and those in use, are shown again)."""
    if formdata is None:
        return [ContactForm(obj=existing[index] if index < len(existing) else None, prefix=f"contact-{index}")
                for index in range(min(max(len(existing) + 1, 2), fields.MAX_CONTACTS))]
    rows = [ContactForm(formdata, prefix=f"contact-{index}") for index in range(fields.MAX_CONTACTS)]
    return [row for index, row in enumerate(rows) if index < 2 or row.name.data or row.phone.data]


def child_values(identity: ChildIdentityForm, fiche: ChildRecordForm, contacts: list[ContactForm]) -> dict:
    """Identity, fiche and contacts of a child, as change_child and staff_edit_child take them."""
    return {**identity.values(), **fiche.values(), "contacts": [c.values() for c in contacts if not c.is_blank()]}


def attach_errors(forms: list[Form], errors: dict[str, str]) -> list[str]:
    """Put each error a service names by field ({field: message}) next to that field, on the first of
    the forms that has it; returns the messages that found no field (for the summary above the form)."""
    orphans = []
    for name, message in errors.items():
        form = next((form for form in forms if name in form._fields), None)
        if form is None:
            orphans.append(message)
        else:
            form[name].errors = list(form[name].errors or []) + [message]
    return orphans


# --- Besoins, closure, documents -------------------------------------------------------------------


class NeedsForm(Form):
    needs = SelectMultipleField(invalid_choice_message="Choisissez les services dans la liste.")


class CloseForm(Form):
    confirm = StringField(validators=[AnyOf(["y"], message="Cochez la case pour confirmer votre demande.")])


class DocumentForm(Form):
    """The type and the child are checked by the service (an active type, a child of the household)."""

    doc_type = SelectField("Type de document", validate_choice=False)
    child = SelectField("Concerne", validate_choice=False)
    file = UploadField("Fichier (PDF, JPEG ou PNG, 10 Mo maximum)",
                       validators=[FileRequired("Choisissez le fichier à envoyer."), AcceptedFile()],
                       render_kw=ACCEPTED_FILES)

    def set_choices(self, types, children) -> None:
        self.doc_type.choices = CHOOSE + [(str(t.id), t.name) for t in types]
        self.child.choices = [("", "Le foyer")] + [(str(c.id), c.full_name or "Enfant à naître") for c in children]


# --- Staff: decisions, direct edits, settings ---------------------------------------------------------


class DecisionForm(Form):
    """A bulk decision: the ticked ids, « Accepter » or « Refuser », the reason of a refusal."""

    ids = IdListField()
    decision = SelectField(choices=[("accept", "Accepter"), ("refuse", "Refuser")],
                           invalid_choice_message="Choisissez « Accepter » ou « Refuser ».")
    reason = StringField()
    household_id = LooseIntegerField()

    @property
    def accepting(self) -> bool:
        return self.decision.data == "accept"

    def first_error(self) -> str:
        """The message to show: the decision buttons come last on the page, so their error last."""
        return sorted(self.errors.items(), key=lambda item: item[0] == "decision")[0][1][0]


class DocumentDecisionForm(DecisionForm):
    valid_from = DayField("Valide du", "Dates de validité invalides : utilisez le format jj/mm/aaaa.")
    valid_until = DayField("au", "Dates de validité invalides : utilisez le format jj/mm/aaaa.")


def validate_direct_edit(form: Form, required: dict[str, str], optional: tuple[str, ...] = ()) -> bool:
    """Validate a staff direct edit, which is applied at once: it never clears what it did not receive.
    Every field but the checkboxes must be in the request (an empty value is a choice, a missing one is
    not) and the `required` ones ({name: label}) filled in; one message per field."""
    valid = form.validate()
    for field in form:
        if isinstance(field, (CheckboxField, IdField)) or field.short_name in optional:
            continue
        if not field.raw_data:
            field.errors, valid = [MISSING], False
        elif field.short_name in required and not field.data and not field.errors:
            field.errors, valid = [f"{required[field.short_name]} : ce champ est obligatoire."], False
    return valid


class FamilySettingForm(Form):
    """One of the settings forms of /gestion/parametres-familles, told apart by `kind`."""

    NAMED = {"diet-add": "Indiquez le nom du régime.", "type-add": "Indiquez le nom du type de document."}

    kind = StringField(validators=[AnyOf(["diet-add", "diet-toggle", "type-add", "type-required"],
                                         message="Action inconnue.")])
    id = LooseIntegerField()
    name = StringField(filters=[squash(80)])
    validity_months = LooseIntegerField()
    scope = StringField()
    required = CheckboxField()
    health = CheckboxField()

    def validate_name(self, field):
        if self.kind.data in self.NAMED and not field.data:
            raise ValidationError(self.NAMED[self.kind.data])
