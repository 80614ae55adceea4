"""Fields and validators of the household-file forms: each check of a typed value lives here, once,
with its French message (services receive clean values and keep the domain rules)."""
from __future__ import annotations

import re

from wtforms import BooleanField, Field, FileField, SelectField, StringField
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import HiddenInput

from blueprints.form_fields import FrenchDate
from services.accounts import users
from services.core.errors import InvalidInput
from services.family import uploads

PHONE_RE = re.compile(r"^(?:0|\+33|0033)[1-9]\d{8}$")
ID_RE = re.compile(r"[0-9]{1,18}")  # ASCII digits only, and small enough for an SQL integer
TICKED = ("y", "on", "1", "true", "oui")
TEL = {"type": "tel", "inputmode": "tel", "autocomplete": "tel"}


def squash(limit: int = 120):
    """A filter: inner runs of spaces become one, ends are trimmed, at most `limit` characters."""
    def apply(value) -> str:
        return " ".join(str(value if value is not None else "").split())[:limit]
    return apply


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


def choice(label: str, choices, message: str, **kwargs) -> SelectField:
    """A drop-down list: empty (nothing chosen) or one of its values, else `message`."""
    return SelectField(label, choices=choices, invalid_choice_message=message, filters=[squash()], **kwargs)


class CheckboxField(BooleanField):
    """A checkbox: ticked only for the values a browser or our forms send ("y", "on", "1"…)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = "BooleanField"  # the field() macro of _forms.html draws a checkbox for this type

    def process_formdata(self, valuelist):
        self.data = bool(valuelist) and valuelist[0] in TICKED


class DayField(FrenchDate):
    """A date typed jj/mm/aaaa (or aaaa-mm-jj); empty is None; anything else is `message`."""

    def __init__(self, label: str, message: str, **kwargs):
        super().__init__(label, message, **kwargs)


class PhoneField(StringField):
    """A French phone number, kept as '06 12 34 56 78'; empty is allowed; anything else is `message`."""

    def __init__(self, label: str, message: str, **kwargs):
        super().__init__(label, filters=[squash()], render_kw=TEL, **kwargs)
        self.message = message

    def pre_validate(self, form):
        try:
            self.data = normalize_phone(self.data)
        except ValueError:
            raise StopValidation(self.message) from None


class EmailAddress:
    """An optional e-mail address, lower-cased, checked by the accounts rule (its message too)."""

    def __call__(self, form, field):
        field.data = (field.data or "").lower()
        if field.data:
            try:
                field.data = users.check_email(field.data)
            except InvalidInput as refusal:
                raise StopValidation(refusal.message) from None


class IdField(Field):
    """The id of a stored row, sent back in a hidden input: an int, or None when absent or not a number."""

    widget = HiddenInput()

    def process_formdata(self, valuelist):
        value = str(valuelist[0]).strip() if valuelist else ""
        self.data = int(value) if ID_RE.fullmatch(value) else None

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


class IdListField(Field):
    """The ids of the ticked checkboxes of a list (name="ids"): the ones that are numbers."""

    def process_formdata(self, valuelist):
        self.data = [int(v) for v in valuelist if ID_RE.fullmatch(str(v))]

    def process_data(self, value):
        self.data = list(value or [])


class LooseIntegerField(Field):
    """A whole number (sign allowed), or None when empty or not a number: never an error."""

    def process_formdata(self, valuelist):
        try:
            self.data = int(valuelist[0]) if valuelist else None
        except (TypeError, ValueError):
            self.data = None


class UploadField(FileField):
    """A file sent with the form: (file name, content) read up to the size limit, or None without one."""

    def process_formdata(self, valuelist):
        file = valuelist[0] if valuelist else None
        name = getattr(file, "filename", None)
        self.data = (name, uploads.read_upload(file.stream)) if name else None

    def _value(self) -> str:
        return ""


class FileRequired:
    """A file must be sent: `message` otherwise."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if field.data is None:
            raise StopValidation(self.message)


class AcceptedFile:
    """The file, when there is one, passes the upload checks (size, PDF/JPEG/PNG by content)."""

    def __call__(self, form, field):
        if field.data is not None:
            try:
                uploads.check_content(field.data[1])
            except uploads.FileRefused as refusal:
                raise ValidationError(refusal.message) from None
