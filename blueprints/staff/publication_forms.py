"""The staff forms of news items, published documents and their categories: each typed value is read
here with its French message; the audience, window and file rules live in services/communication."""
from __future__ import annotations

import datetime as dt

from flask import request
from werkzeug.datastructures import CombinedMultiDict
from wtforms import DateTimeLocalField, Form, StringField, TextAreaField
from wtforms.validators import DataRequired

from blueprints.family.form_fields import AcceptedFile, CheckboxField, DayField, UploadField, choice, squash
from models import Activity, PublicationCategory, School
from services.communication.audience import AUDIENCE_LABELS
from services.communication.news import Draft
from services.family.household_fields import CLASS_LEVELS


class MomentField(DateTimeLocalField):
    """A date and time (datetime-local input, 2026-12-03T08:00); empty is None."""

    def __init__(self, label: str, message: str, **kwargs):
        super().__init__(label, format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"], **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        text = str(valuelist[0]).strip() if valuelist else ""
        self.data = None
        if not text:
            return
        for pattern in self.format:
            try:
                self.data = dt.datetime.strptime(text, pattern)
                return
            except ValueError:
                continue
        raise ValueError(self.message)


class PublicationForm(Form):
    """What news items and documents share: title, audience, window."""

    title = StringField("Titre", filters=[squash(200)], validators=[DataRequired("Donnez un titre.")])
    audience = choice("Destinataires", list(AUDIENCE_LABELS.items()), "Choisissez à qui s'adresse la publication.")
    school = choice("École", [], "Choisissez une école de la liste.")
    activity = choice("Activité", [], "Choisissez une activité de la liste.")
    class_level = choice("Classe", [("", "—")] + [(level, level) for level in CLASS_LEVELS],
                         "Choisissez une classe de la liste.")
    publish_from = MomentField("Publier à partir du", "Indiquez le début sous la forme 03/12/2026 08:00.")
    publish_until = MomentField("Retirer le", "Indiquez la fin sous la forme 31/12/2026 18:00.")

    def set_choices(self) -> None:
        self.school.choices = [("", "Toutes les écoles")] + [
            (str(school.id), school.name) for school in School.select().order_by(School.name)]
        self.activity.choices = [("", "—")] + [
            (str(activity.id), f"{activity.name} ({activity.year_label})")
            for activity in Activity.select().where(Activity.active == True)  # noqa: E712
            .order_by(Activity.school_year.desc(), Activity.position, Activity.name)]

    def draft(self, body: str = "") -> Draft:
        return Draft(title=self.title.data or "", audience=self.audience.data or "all",
                     school_id=_id(self.school.data), activity_id=_id(self.activity.data),
                     class_level=self.class_level.data or "", publish_from=self.publish_from.data,
                     publish_until=self.publish_until.data, body=body)

    def fill(self, item) -> None:
        """On GET of an edit page: the stored values."""
        self.title.data, self.audience.data = item.title, item.audience
        self.school.data, self.activity.data = str(item.school_id or ""), str(item.activity_id or "")
        self.class_level.data = item.class_level
        self.publish_from.data, self.publish_until.data = item.publish_from, item.publish_until


class NewsForm(PublicationForm):
    body = TextAreaField("Texte (Markdown)", validators=[DataRequired("Écrivez le texte de l'actualité.")])
    attachment = UploadField("Image ou PDF joint (facultatif)", validators=[AcceptedFile()])
    remove_attachment = CheckboxField("Retirer la pièce jointe actuelle")

    def fill(self, item) -> None:
        super().fill(item)
        self.body.data = item.body


class DocumentForm(PublicationForm):
    category = choice("Catégorie", [], "Choisissez une catégorie de la liste.")
    document_date = DayField("Date du document", "Indiquez la date sous la forme 03/12/2026.")
    file = UploadField("Fichier (PDF, JPEG ou PNG, 10 Mo au plus)", validators=[AcceptedFile()])

    def set_choices(self) -> None:
        super().set_choices()
        self.category.choices = [("", "—")] + [
            (str(category.id), category.name) for category in
            PublicationCategory.select().order_by(PublicationCategory.position, PublicationCategory.name)]

    def fill(self, item) -> None:
        super().fill(item)
        self.category.data, self.document_date.data = str(item.category_id), item.document_date


class CategoryForm(Form):
    name = StringField("Nom de la catégorie", filters=[squash(80)],
                       validators=[DataRequired("Indiquez le nom de la catégorie (par exemple « Menus »).")])


def posted_with_files():
    """The posted fields and files, or None on GET (the forms then start empty or are filled)."""
    if request.method != "POST":
        return None
    return CombinedMultiDict([request.form, request.files]) if request.files else request.form


def _id(value) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 18 else None


def show_refusal(form: Form, refusal, renamed: dict[str, str] | None = None) -> None:
    """Put a service's refusal on the field it names (or the title when it names none)."""
    name = (renamed or {}).get(refusal.field or "", refusal.field or "title")
    field = getattr(form, name, None) or form.title
    field.errors = list(field.errors or []) + [refusal.message]
