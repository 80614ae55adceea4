"""The shared WTForms fields (blueprints/form_fields.py): each value parsed once, with the French
message naming its field, and shown back as typed."""
import datetime as dt

import pytest
from werkzeug.datastructures import MultiDict

from blueprints.form_fields import (
    Day,
    Flag,
    Identifier,
    Ids,
    InputForm,
    Moment,
    Money,
    Text,
    WholeNumber,
    amount_text,
)
from services.core.errors import InvalidInput


class Sample(InputForm):
    name = Text("le nom", required=True, max_length=5)
    count = WholeNumber("la capacité", minimum=1, maximum=10)
    price = Money("le tarif", required=True)
    day = Day("la date")
    moment = Moment("l'ouverture")
    flag = Flag()
    days = Ids(bounds=range(7))
    back = Identifier()


def _form(**values) -> Sample:
    return Sample(MultiDict({"name": "Repas", "price": "2,90", **values}))


def test_values_are_typed():
    form = _form(count=" 3 ", day="03/12/2026", moment="2026-12-01T08:30", flag="1", days=["0", "9", "x", "4"],
                 back="12")
    form.check()
    assert (form.name.data, form.count.data, form.price.data, form.day.data, form.moment.data) == \
        ("Repas", 3, 290, dt.date(2026, 12, 3), dt.datetime(2026, 12, 1, 8, 30))
    assert form.flag.data and form.days.data == [0, 4] and form.back.data == 12


@pytest.mark.parametrize("values, field, message", [
    ({"name": " "}, "name", "Indiquez le nom."),
    ({"name": "Repas du soir"}, "name", "Le nom : 5 caractères au plus."),
    ({"count": "deux"}, "count", "La capacité doit être un nombre entier."),
    ({"count": "²"}, "count", "La capacité doit être un nombre entier."),
    ({"count": "0"}, "count", "La capacité doit être compris entre 1 et 10."),
    ({"price": ""}, "price", "Indiquez le tarif."),
    ({"price": "abc"}, "price", "Le tarif : saisissez un montant comme 2,90."),
    ({"price": "-1"}, "price", "Le tarif ne peut pas être négatif."),
    ({"day": "32/13/2026"}, "day", "Indiquez la date au format jj/mm/aaaa."),
    ({"moment": "demain"}, "moment", "Indiquez l'ouverture sous la forme date et heure."),
])
def test_the_first_error_names_its_field(values, field, message):
    form = _form(**values)
    with pytest.raises(InvalidInput) as refusal:
        form.check()
    assert (refusal.value.field, refusal.value.message) == (field, message)
    assert form.shown()[field] == values[field]  # what was typed is shown back


def test_unticked_box_and_odd_ids():
    form = _form(flag="0", back="²")
    form.check()
    assert form.flag.data is False and form.back.data is None


def test_values_are_shown_as_a_page_writes_them():
    shown = Sample(data={"price": 123456, "day": dt.date(2026, 12, 3), "flag": True, "days": [0, 4]}).shown()
    assert (shown["price"], shown["day"], shown["flag"], shown.getlist("days"), shown["count"]) == \
        ("1234,56", "2026-12-03", "1", ["0", "4"], "")
    assert amount_text(290) == "2,90" and amount_text(-5) == "-0,05" and amount_text(None) == ""
