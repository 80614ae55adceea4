"""Forms of the messaging (parents and staff): they read what was typed; the rules (a service that
exists, a child of the household, a colleague who reads the service) are the service's."""
from __future__ import annotations

from wtforms import BooleanField, Form, SelectField, StringField, TextAreaField

from blueprints.family.form_fields import AcceptedFile, UploadField
from blueprints.form_fields import Flag, Identifier, Ids, InputForm, Text
from services.communication import messaging

ACCEPTED = {"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
ID_RANGE = range(1, 2 ** 63)


def as_id(value) -> int | None:
    """A row id chosen in a list, or None (empty, not a number, out of range)."""
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and int(text) in ID_RANGE else None


class ReplyForm(Form):
    body = TextAreaField("Votre message", render_kw={"rows": 6, "maxlength": messaging.BODY_MAX})
    attachment = UploadField("Pièce jointe (facultative : PDF, JPEG ou PNG, 10 Mo maximum)",
                             validators=[AcceptedFile()], render_kw=ACCEPTED)

    def attached(self) -> messaging.Attachment | None:
        return messaging.Attachment(*self.attachment.data) if self.attachment.data else None


class NewThreadForm(ReplyForm):
    service = SelectField("Service à contacter", validate_choice=False)
    subject = StringField("Objet du message", render_kw={"maxlength": messaging.SUBJECT_MAX})
    child = SelectField("Enfant concerné (facultatif)", validate_choice=False)
    sick_notice = BooleanField("Signaler une absence (enfant malade)")

    def set_choices(self, services, children) -> None:
        self.service.choices = [("", "— Choisir le service —")] + [(str(s.id), s.name) for s in services]
        self.child.choices = [("", "Aucun enfant en particulier")] + [(str(c.id), c.full_name or "Enfant")
                                                                       for c in children]


class AssignForm(Form):
    assignee = SelectField("Attribuer à", validate_choice=False)


class InboxFilterForm(InputForm):
    """?service=&statut=&moi= of the staff inbox; a value the page did not offer is ignored."""

    service = Identifier(bounds=ID_RANGE)
    statut = Text("le statut", max_length=10)  # open, done or empty (both)
    moi = Flag()


class StatusForm(InputForm):
    done = Flag()


class AbsenceForm(InputForm):
    bookings = Ids(bounds=ID_RANGE)
