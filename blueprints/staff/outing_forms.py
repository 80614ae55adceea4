"""The staff form of an outing (/gestion/sorties/nouvelle, /gestion/sorties/<id>): each field read and
checked here with its French message; services/booking/outings.py keeps the rules across fields."""
from __future__ import annotations

from blueprints.form_fields import Choice, Day, Flag, Ids, InputForm, Moment, Money, Text, WholeNumber, amount_text
from services.booking import outings


class OutingForm(InputForm):
    name = Text("le nom de la sortie", required=True)
    kind = Choice(outings.KIND_LABELS, "Choisissez le type : sortie, Espace jeunes ou séjour.", default="sortie")
    starts_on = Day("la date de la sortie", required=True)
    ends_on = Day("la date de fin")
    start_time = Text("l'heure de départ", max_length=10)
    end_time = Text("l'heure de retour", max_length=10)
    place = Text("le lieu", max_length=200)
    description = Text("la description", max_length=2000)
    programme = Text("le programme", max_length=5000)
    min_age = WholeNumber("l'âge minimum", maximum=25)
    max_age = WholeNumber("l'âge maximum", maximum=25)
    price = Money("le prix")
    capacity = WholeNumber("le nombre de places", minimum=1, maximum=10000)
    waiting_list = Flag()
    deadline = Moment("la date limite d'inscription")
    required_documents = Ids()
    regie_id = WholeNumber("la régie")
    published = Flag()

    def settings(self) -> outings.OutingSettings:
        """The typed values, for save_outing."""
        return outings.OutingSettings(
            name=self.name.data, kind=self.kind.data, starts_on=self.starts_on.data, ends_on=self.ends_on.data,
            start_time=self.start_time.data, end_time=self.end_time.data, place=self.place.data,
            description=self.description.data, programme=self.programme.data, min_age=self.min_age.data,
            max_age=self.max_age.data, price=self.price.data or 0, capacity=self.capacity.data,
            waiting_list=self.waiting_list.data, deadline=self.deadline.data,
            document_type_ids=self.required_documents.data, regie_id=self.regie_id.data or None,
            published=self.published.data)


def values_of(settings: outings.OutingSettings) -> dict:
    """The inputs' texts for an existing outing (the edit page), as the form's shown() gives them."""
    text = lambda value: "" if value is None else str(value)  # noqa: E731
    return {"name": settings.name, "kind": settings.kind, "starts_on": settings.starts_on.isoformat(),
            "ends_on": settings.ends_on.isoformat() if settings.ends_on else "", "start_time": settings.start_time,
            "end_time": settings.end_time, "place": settings.place, "description": settings.description,
            "programme": settings.programme, "min_age": text(settings.min_age), "max_age": text(settings.max_age),
            "price": amount_text(settings.price), "capacity": text(settings.capacity),
            "waiting_list": "1" if settings.waiting_list else "",
            "deadline": settings.deadline.strftime("%Y-%m-%dT%H:%M") if settings.deadline else "",
            "required_documents": [str(i) for i in settings.document_type_ids],
            "regie_id": text(settings.regie_id), "published": "1" if settings.published else ""}
