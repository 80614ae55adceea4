"""WTForms fields shared by the booking and billing screens. Each reads one typed value (text, whole
number, amount in cents, date, check box, ticked ids) and says in French what is wrong with it,
naming the field the way the page does (« Indiquez la date au format jj/mm/aaaa. »).

Pages keep their own markup (ids and names the tests and browser journeys rely on): a form gives
back `shown()`, the text of each input, and `problem()`, its first error as the InvalidInput a
service would raise, which `form_errors` in templates/_forms.html links to its field."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal

from babel.numbers import format_decimal
from wtforms import DateField, Field, Form, FormField
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from services.booking.activities import parse_date
from services.core.errors import DomainError, InvalidInput
from services.core.formatting import LOCALE, parse_money

TRUE_VALUES = ("1", "on", "y", "true", "oui")
# 14/03/2018, 14.03.2018, 14-03-2018, 14 03 2018, 14032018 (a phone's digit keypad has no « / »).
FRENCH_DAY = re.compile(r"(\d{1,2})[/.\- ]+(\d{1,2})[/.\- ]+(\d{4})|(\d{2})(\d{2})(\d{4})", re.ASCII)
DATE_HINT = "Format : jj/mm/aaaa, par exemple 14/03/2018."


def capital(noun: str) -> str:
    """« la capacité » → « La capacité » (messages start with the field's noun)."""
    return noun[:1].upper() + noun[1:]


def amount_text(cents: int | None) -> str:
    """'2,90' from 290 cents: an amount as typed in a field or a CSV cell (Babel, no currency sign)."""
    if cents is None:
        return ""
    return format_decimal(Decimal(cents) / 100, format="0.00", locale=LOCALE)


class Shown(dict):
    """What a page puts back in its inputs: name → text, or a list of texts for boxes sharing a name."""

    def getlist(self, name: str) -> list[str]:
        value = self.get(name)
        if isinstance(value, list):
            return value
        return [] if value in (None, "") else [value]


class InputForm(Form):
    """A form read from request.form (or request.args): `check()` raises its first error as the
    service's InvalidInput, so a view handles a typing error and a refused rule in one place."""

    def leaves(self) -> Iterator[Field]:
        for field in self:
            if isinstance(field, FormField):
                yield from field.form.leaves()
            else:
                yield field

    def problem(self) -> InvalidInput | None:
        """The first error, in the order of the fields on the page."""
        for field in self.leaves():
            if field.errors:
                return InvalidInput(field.errors[0], field.name)
        return None

    def check(self) -> None:
        if not self.validate():
            raise self.problem() or InvalidInput("Formulaire invalide : rechargez la page.")

    def shown(self) -> Shown:
        """Each input's text; after a POST only the fields it sent, as request.form would have them."""
        return Shown((field.name, field._value()) for field in self.leaves()
                     if hasattr(field, "_value") and field.raw_data != [])


class Typed(Field):
    """A value typed in a text box: stripped, empty is None, otherwise `parse`d (a ValueError carries
    the French message). `required` says « Indiquez <noun>. » (or `empty`) when it is empty; `label`
    is for a form rendered by WTForms (the noun otherwise)."""

    widget = TextInput()

    def __init__(self, noun: str = "", required: bool = False, empty: str | None = None, label: str | None = None,
                 **kwargs):
        super().__init__(label=label or noun, **kwargs)
        self.noun, self.required = noun, required
        self.empty = empty or f"Indiquez {noun}."
        if required:
            self.flags.required = True  # the input says so too

    def parse(self, text: str):
        return text

    def format(self, value) -> str:
        return str(value)

    def process_formdata(self, valuelist) -> None:
        text = (valuelist[0] if valuelist else "") or ""
        text = text.strip()
        self.data = self.parse(text) if text else None

    def pre_validate(self, form) -> None:
        if self.process_errors:
            raise StopValidation()
        if self.required and self.data in (None, ""):
            raise StopValidation(self.empty)

    def _value(self) -> str:
        """What was typed (after a refusal), else the value written as a page shows it."""
        if self.raw_data is not None:
            return self.raw_data[0] if self.raw_data else ""
        return "" if self.data is None else self.format(self.data)


class Text(Typed):
    """Free text, at most `max_length` characters; empty is ''."""

    def __init__(self, noun: str = "", required: bool = False, max_length: int = 200, **kwargs):
        super().__init__(noun, required, **kwargs)
        self.max_length = max_length

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        self.data = self.data or ""

    def parse(self, text: str) -> str:
        if len(text) > self.max_length:
            raise ValueError(f"{capital(self.noun)} : {self.max_length} caractères au plus.")
        return text


class WholeNumber(Typed):
    """An integer between `minimum` and `maximum`."""

    def __init__(self, noun: str = "", required: bool = False, minimum: int = 0, maximum: int = 100000, **kwargs):
        super().__init__(noun, required, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def parse(self, text: str) -> int:
        try:
            value = int(text) if text.lstrip("-").isdigit() else None
        except ValueError:
            value = None
        if value is None:
            raise ValueError(f"{capital(self.noun)} doit être un nombre entier.")
        if not self.minimum <= value <= self.maximum:
            raise ValueError(f"{capital(self.noun)} doit être compris entre {self.minimum} et {self.maximum}.")
        return value


class Money(Typed):
    """An amount in euros as typed (« 2,90 ») → cents; never negative unless `signed` (a service
    then says which amounts it takes). `invalid` replaces the message of what is not an amount."""

    def __init__(self, noun: str = "", required: bool = False, invalid: str | None = None, signed: bool = False,
                 **kwargs):
        super().__init__(noun, required, **kwargs)
        self.invalid = invalid or f"{capital(noun)} : saisissez un montant comme 2,90."
        self.signed = signed

    def parse(self, text: str) -> int:
        try:
            value = parse_money(text)
        except ValueError:
            raise ValueError(self.invalid) from None
        if value < 0 and not self.signed:
            raise ValueError(f"{capital(self.noun)} ne peut pas être négatif.")
        return value

    def format(self, value: int) -> str:
        return amount_text(value)


class Day(Typed):
    """A date, 2026-12-03 (date input) or 03/12/2026."""

    def __init__(self, noun: str = "la date", required: bool = False, **kwargs):
        super().__init__(noun, required, empty=f"Indiquez {noun} au format jj/mm/aaaa.", **kwargs)

    def parse(self, text: str) -> dt.date:
        try:
            return parse_date(text, self.name, self.noun)
        except InvalidInput as error:
            raise ValueError(error.message) from None

    def format(self, value: dt.date) -> str:
        return value.isoformat()


def read_day(text: str) -> dt.date:
    """A date typed the French way (14/03/2018, separators or none) or as a date input sends it
    (2018-03-14); ValueError otherwise."""
    text = (text or "").strip()
    match = FRENCH_DAY.fullmatch(text)
    if match:
        day, month, year = (int(g) for g in (match.groups()[:3] if match.group(1) else match.groups()[3:]))
        return dt.date(year, month, day)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text, re.ASCII):  # fromisoformat alone would take 20181403
        raise ValueError(text)
    return dt.date.fromisoformat(text)


class FrenchDate(DateField):
    """A date in a text box, shown and typed jj/mm/aaaa: a date input follows the browser's language
    (mm/dd/yyyy in an English one) whatever the page says. 2018-03-14 is read too; empty is None;
    anything else is `message`. The field() macro of _forms.html adds DATE_HINT."""

    widget = TextInput()

    def __init__(self, label=None, message: str = "Indiquez la date au format jj/mm/aaaa.", render_kw=None,
                 **kwargs):
        super().__init__(label, format="%d/%m/%Y",
                         render_kw={"inputmode": "numeric", "autocomplete": "off", **(render_kw or {})}, **kwargs)
        self.type = "FrenchDate"  # one name for every date of this kind, whatever the subclass
        self.message = message

    def process_formdata(self, valuelist) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        self.data = None
        if text:
            try:
                self.data = read_day(text)
            except ValueError:
                raise ValueError(self.message) from None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%d/%m/%Y") if self.data else ""


class DayFilter(Field):
    """A day that filters a list (2026-11-20 or 20/11/2026, in `years` when given): a date, or None when
    it is not one."""

    def __init__(self, label=None, years: range | None = None, **kwargs):
        super().__init__(label, **kwargs)
        self.years = years

    def process_formdata(self, valuelist) -> None:
        try:
            day = read_day(valuelist[0] if valuelist else "")
        except ValueError:
            day = None
        self.data = day if day is None or self.years is None or day.year in self.years else None

    def _value(self) -> str:
        return self.data.isoformat() if self.data else ""


class Moment(Typed):
    """A date and time (datetime-local input)."""

    def parse(self, text: str) -> dt.datetime:
        try:
            return dt.datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            raise ValueError(f"Indiquez {self.noun} sous la forme date et heure.") from None

    def format(self, value: dt.datetime) -> str:
        return value.strftime("%Y-%m-%dT%H:%M")


class Checked(Typed):
    """A value checked by a rule written elsewhere (`check` raises DomainError); data is its result."""

    def __init__(self, check: Callable[[str], object], noun: str = "", **kwargs):
        super().__init__(noun, **kwargs)
        self.check = check

    def process_formdata(self, valuelist) -> None:
        text = (valuelist[0] if valuelist else "") or ""
        try:
            self.data = self.check(text)
        except DomainError as error:
            raise ValueError(error.message) from None


class Choice(Typed):
    """One of `choices` (a value → label mapping); empty is `default`."""

    def __init__(self, choices, message: str, default: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.choices, self.message, self.default_choice = choices, message, default

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        self.data = self.data or self.default_choice

    def pre_validate(self, form) -> None:
        if self.data not in self.choices:
            raise StopValidation(self.message)


class Flag(Field):
    """A check box: ticked when it sends 1, on, y, true or oui."""

    def process_formdata(self, valuelist) -> None:
        self.data = bool(valuelist) and valuelist[0] in TRUE_VALUES

    def process_data(self, value) -> None:
        self.data = bool(value)

    def _value(self) -> str:
        return "1" if self.data else ""


class Ids(Field):
    """Ticked boxes sharing one name: their whole-number values in `bounds`, in page order; others are
    ignored (a box the page did not offer)."""

    def __init__(self, label=None, bounds: range | None = None, **kwargs):
        super().__init__(label, **kwargs)
        self.bounds = bounds

    def process_formdata(self, valuelist) -> None:
        self.data = [int(v) for v in valuelist if v.isascii() and v.isdigit()
                     and (self.bounds is None or int(v) in self.bounds)]

    def process_data(self, value) -> None:
        self.data = list(value or [])

    def _value(self) -> list[str]:
        return [str(v) for v in self.data]


class Identifier(Field):
    """The id of a row named by a hidden field or a button, or a filter of a list (year, month): an
    int (in `bounds` when given), or None when it is not one."""

    def __init__(self, label=None, bounds: range | None = None, **kwargs):
        super().__init__(label, **kwargs)
        self.bounds = bounds

    def process_formdata(self, valuelist) -> None:
        text = (valuelist[0] if valuelist else "").strip()
        value = int(text) if text.isascii() and text.isdigit() else None
        self.data = value if value is None or self.bounds is None or value in self.bounds else None

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)
