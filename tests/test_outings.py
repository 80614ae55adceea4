"""Outings rules (services/booking/outings.py): several children registered in one step through the order
engine, capacity then waiting list in arrival order, age group, deadline, required documents, price."""
from __future__ import annotations

import datetime as dt

import pytest

from models import (
    Booking,
    Child,
    Enrolment,
    FamilyDocument,
    Household,
    Order,
    OrderCounter,
    OrderLine,
    Outing,
    Regie,
)
from services.booking import calendar, orders, outing_register, outings
from services.core.errors import InvalidInput, NotFound
from tests.conftest import outbox_messages

DAY = dt.date(2026, 12, 9)


@pytest.fixture
def ctx(demo):
    return {
        "martin": Household.get_by_id(demo["households"]["martin"].id),
        "dupont": Household.get_by_id(demo["households"]["dupont"].id),
        "children": demo["children"],
        "oceanopolis": Outing.get_by_id(demo["outings"]["oceanopolis"].id),
        "youth": Outing.get_by_id(demo["outings"]["espace_jeunes"].id),
        "permission": demo["document_types"]["sortie"],
        "agent": demo["users"]["agent"],
    }


def _family(name: str, *ages_on_day: int, quotient: int | None = None) -> tuple[Household, list[Child]]:
    """Another household with children of these ages on the outing's day."""
    household = Household.create(name=f"Famille {name.upper()}", status="validated", quotient_familial=quotient,
                                 created_at=dt.datetime(2026, 9, 1))
    children = [Child.create(household=household, first_name=f"{name}{i}", last_name=name,
                             birth_date=dt.date(DAY.year - age, 1, 15)) for i, age in enumerate(ages_on_day)]
    return household, children


def _bookings(outing: Outing) -> list[Booking]:
    return list(Booking.select().where(Booking.unit == outing.unit_id).order_by(Booking.sequence))


def test_two_children_registered_in_one_step_with_one_order(ctx):
    martin, lea, hugo = ctx["martin"], ctx["children"]["lea"], ctx["children"]["hugo"]
    validation = outings.register(None, martin, ctx["oceanopolis"], [lea.id, hugo.id])

    order = validation.order
    assert Order.select().where(Order.household == martin.id).count() >= 1
    assert [(line.child_id, line.outcome, line.price, line.date) for line in order.lines.order_by(OrderLine.id)] == [
        (lea.id, "booked", 1200, DAY), (hugo.id, "booked", 1200, DAY)]
    assert order.total == 2400 and order.number.startswith("2026-")
    assert {(b.child_id, b.status) for b in _bookings(ctx["oceanopolis"])} == {(lea.id, "booked"), (hugo.id, "booked")}
    enrolled = Enrolment.select().where(Enrolment.activity == ctx["oceanopolis"].activity_id)
    assert {(e.child_id, e.status) for e in enrolled} == {(lea.id, "validated"), (hugo.id, "validated")}
    card = outings.cards(martin, [ctx["oceanopolis"]])[0]
    assert card.places_left == 6 and card.places_label == "6 places restantes"
    assert card.registration_label(lea.id) == "Inscrit(e)"
    assert any(f"Commande n° {order.number}" in m["subject"] for m in outbox_messages())


def test_the_ninth_child_goes_to_the_waiting_list_in_order(ctx):
    outing = ctx["oceanopolis"]
    c = ctx["children"]
    outings.register(None, ctx["martin"], outing, [c["lea"].id, c["hugo"].id])
    outings.register(None, ctx["dupont"], outing, [c["ines"].id, c["malo"].id, c["jade"].id])
    household, children = _family("Le Gall", 6, 7, 8)
    outings.register(None, household, outing, [child.id for child in children])
    assert outings.cards(ctx["martin"], [outing])[0].places_label == "Complet – liste d'attente"

    late, (ninth, tenth) = _family("Kerouac", 9, 10)
    validation = outings.register(None, late, outing, [ninth.id, tenth.id])

    assert [(r.outcome, r.waiting_position) for r in validation.results] == [("waiting_list", 1), ("waiting_list", 2)]
    assert validation.order.total == 0  # a waiting-list place is not charged unless it gets a place
    assert [line.outcome for line in validation.order.lines] == ["waiting_list", "waiting_list"]
    statuses = [b.status for b in _bookings(outing)]
    assert statuses.count("booked") == 8 and statuses.count("waiting_list") == 2
    register = outing_register.register_of(outing)
    assert len(register.registered) == 8 and register.places_left == 0
    assert [(row.child.id, row.position, row.status_label) for row in register.waiting] == [
        (ninth.id, 1, "En liste d'attente (position 1)"), (tenth.id, 2, "En liste d'attente (position 2)")]
    card = outings.cards(late, [outing])[0]
    assert card.registration_label(ninth.id) == "En liste d'attente (position 1)"
    view = orders.get_order(late, validation.order.id)
    assert view.status_label == "En liste d'attente"
    assert view.line_label(view.lines[0]) == "Sur liste d'attente, position 1"


def test_a_full_outing_without_waiting_list_refuses_and_registers_nobody(ctx):
    outing = ctx["oceanopolis"]
    outing.unit.capacity, outing.unit.waiting_list = 1, False
    outing.unit.save()
    outings.register(None, ctx["martin"], outing, [ctx["children"]["lea"].id])
    counter = OrderCounter.get(OrderCounter.year == 2026).last
    with pytest.raises(outings.OutingRefused, match="Complet"):
        outings.register(None, ctx["dupont"], outing, [ctx["children"]["malo"].id])
    assert [b.child_id for b in _bookings(outing)] == [ctx["children"]["lea"].id]
    assert not Enrolment.select().where(Enrolment.child == ctx["children"]["malo"].id,
                                        Enrolment.activity == outing.activity_id).exists()
    assert OrderCounter.get(OrderCounter.year == 2026).last == counter  # no number used up


def test_age_group_is_checked_by_the_server_and_refuses_everyone(ctx):
    youth, c = ctx["youth"], ctx["children"]
    household, (teen,) = _family("Tanguy", 13)
    assert outings.ineligibility(teen, youth) is None
    assert outings.ineligibility(c["ines"], youth) == "Réservé aux 11-17 ans : Inès aura 10 ans."
    with pytest.raises(outings.OutingRefused, match="Inès aura 10 ans"):
        outings.register(None, ctx["dupont"], youth, [c["ines"].id, c["malo"].id])
    assert _bookings(youth) == []
    assert not Enrolment.select().where(Enrolment.activity == youth.activity_id).exists()
    outings.register(None, household, youth, [teen.id])
    assert [b.child_id for b in _bookings(youth)] == [teen.id]


def test_a_child_without_birth_date_or_already_registered_is_refused(ctx):
    lea = ctx["children"]["lea"]
    outings.register(None, ctx["martin"], ctx["oceanopolis"], [lea.id])
    with pytest.raises(outings.OutingRefused, match="Léa est déjà inscrit"):
        outings.register(None, ctx["martin"], ctx["oceanopolis"], [lea.id, ctx["children"]["hugo"].id])
    household, (child,) = _family("Sans", 8)
    Child.update(birth_date=None).where(Child.id == child.id).execute()
    with pytest.raises(outings.OutingRefused, match="Date de naissance"):
        outings.register(None, household, ctx["oceanopolis"], [child.id])


def test_registration_deadline(ctx, freeze):
    lea, hugo = ctx["children"]["lea"].id, ctx["children"]["hugo"].id
    assert outings.deadline_of(ctx["oceanopolis"]).strftime("%Y-%m-%d %H:%M") == "2026-12-04 18:00"
    freeze("2026-12-04T18:01")
    with pytest.raises(outings.OutingRefused, match="closes depuis le"):
        outings.register(None, ctx["martin"], ctx["oceanopolis"], [lea])
    assert _bookings(ctx["oceanopolis"]) == []
    assert not outings.cards(ctx["martin"], [ctx["oceanopolis"]])[0].open
    freeze("2026-12-04T17:59")
    outings.register(None, ctx["martin"], ctx["oceanopolis"], [hugo])
    assert [b.child_id for b in _bookings(ctx["oceanopolis"])] == [hugo]


def test_only_the_households_own_children_and_at_least_one(ctx):
    with pytest.raises(NotFound):
        outings.register(None, ctx["martin"], ctx["oceanopolis"], [ctx["children"]["ines"].id])
    with pytest.raises(InvalidInput, match="Cochez au moins un enfant"):
        outings.register(None, ctx["martin"], ctx["oceanopolis"], [])
    assert _bookings(ctx["oceanopolis"]) == []


def test_required_documents_received_pending_or_missing(ctx):
    outing, lea, hugo = ctx["oceanopolis"], ctx["children"]["lea"], ctx["children"]["hugo"]
    outings.register(None, ctx["martin"], outing, [lea.id, hugo.id])
    rows = outing_register.register_of(outing).registered
    assert [(row.child.id, [state for _t, state in row.documents]) for row in rows] == [
        (lea.id, ["missing"]), (hugo.id, ["missing"])]

    def document(child, status, valid_until=dt.date(2027, 6, 30)):
        FamilyDocument.create(household=ctx["martin"], child=child, doc_type=ctx["permission"], stored_name=f"{child.id}{status}",
                              content_type="application/pdf", size=10, status=status, valid_until=valid_until,
                              uploaded_at=dt.datetime(2026, 11, 28, 10, 0))

    document(lea, "accepted")
    document(hugo, "pending")
    rows = outing_register.register_of(outing).registered
    assert [[state for _t, state in row.documents] for row in rows] == [["accepted"], ["pending"]]
    csv = outing_register.register_csv(outing_register.register_of(outing), with_health=True)
    assert "Autorisation de sortie" in csv.splitlines()[0] and "Allergies" in csv.splitlines()[0]
    assert "Léa Martin" in csv and ";Reçu;Oui;Arachide" in csv
    assert "Arachide" not in outing_register.register_csv(outing_register.register_of(outing), with_health=False)


def test_price_follows_the_qf_bands_of_the_unit(ctx):
    youth = ctx["youth"]
    low, (a,) = _family("Bas", 12, quotient=450)
    high, (b,) = _family("Haut", 14, quotient=1500)
    unknown, (c,) = _family("Inconnu", 15)
    assert [outings.cards(h, [youth])[0].price for h in (low, high, unknown)] == [400, 800, 800]
    for household, child in ((low, a), (high, b)):
        outings.register(None, household, youth, [child.id])
    assert [(b.child_id, b.price) for b in _bookings(youth)] == [(a.id, 400), (b.id, 800)]


def test_a_prepaid_regie_holds_the_places_until_paid(ctx):
    Regie.update(prepayment=True).where(Regie.id == ctx["oceanopolis"].activity.regie_id).execute()
    validation = outings.register(None, ctx["martin"], ctx["oceanopolis"], [ctx["children"]["lea"].id])
    assert validation.order.payment_status == "awaiting_payment" and validation.order.amount_due == 1200
    assert [b.status for b in _bookings(ctx["oceanopolis"])] == ["held"]


def test_staff_create_an_outing_open_on_its_first_day_only(ctx):
    settings = outings.OutingSettings(name="Séjour neige", kind="sejour", starts_on=dt.date(2027, 2, 15),
                                      ends_on=dt.date(2027, 2, 19), min_age=8, max_age=12, price=25000, capacity=20,
                                      deadline=dt.datetime(2027, 1, 15, 12, 0))
    outing = outings.save_outing(ctx["agent"], settings)
    assert outing.activity.kind == "sejour" and outing.activity.enrolment_open is False
    assert (outing.activity.starts_on, outing.activity.ends_on, outing.activity.school_year) == (
        dt.date(2027, 2, 15), dt.date(2027, 2, 19), 2026)
    assert outings.deadline_of(outing).strftime("%Y-%m-%d %H:%M") == "2027-01-15 12:00"
    assert calendar.opening_days(outing.unit, dt.date(2027, 2, 14), dt.date(2027, 2, 20)) == [dt.date(2027, 2, 15)]
    assert outings.age_label(outing) == "8-12 ans"
    for change, field in ((dict(ends_on=dt.date(2027, 2, 1)), "ends_on"), (dict(min_age=13), "min_age"),
                          (dict(deadline=dt.datetime(2027, 2, 16, 8, 0)), "deadline"), (dict(kind="cantine"), "kind"),
                          (dict(name="  "), "name"), (dict(capacity=0), "capacity"), (dict(start_time="25 h"), "start_time")):
        bad = outings.OutingSettings(**{**settings.__dict__, "name": "Séjour neige", **change})
        with pytest.raises(InvalidInput) as refusal:
            outings.save_outing(ctx["agent"], bad, outing)
        assert refusal.value.field == field
    assert Outing.get_by_id(outing.id).activity.name == "Séjour neige"


def test_the_date_of_an_outing_with_registrations_cannot_move(ctx):
    outing = ctx["oceanopolis"]
    outings.register(None, ctx["martin"], outing, [ctx["children"]["lea"].id])
    settings = outings.settings_of(outing)
    settings.starts_on = settings.ends_on = dt.date(2026, 12, 16)
    with pytest.raises(InvalidInput, match="Des enfants sont inscrits"):
        outings.save_outing(ctx["agent"], settings, outing)
    settings = outings.settings_of(outing)
    settings.capacity = 10
    outings.save_outing(ctx["agent"], settings, outing)
    assert outings.cards(ctx["martin"], [Outing.get_by_id(outing.id)])[0].places_left == 9
