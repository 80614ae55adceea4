"""The desk (guichet): staff book, cancel and record absences for a family through the same engine and
order path (services/booking/desk.py, services/billing/checkout.validate_at_desk), and take payments
with a numbered receipt; the views on /gestion/familles/<n>/… and their roles."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from models import AbsenceDeclaration, Alert, AuditLog, Booking, CapacityOverride, Invoice, Order, Payment, User
from services.billing import checkout, payments
from services.booking import desk
from services.core.errors import NotFound
from tests.conftest import csrf_token, outbox_messages

# The demo's bookings end on 20/11; at the tests' « now » (Sunday 29/11 at 11 h) the canteen's deadline for
# the week of 30/11 passed on Thursday 26/11 at 18 h, the week of 07/12 is still open to parents.
THU = dt.date(2026, 12, 3)
MON = dt.date(2026, 11, 30)
LATER = dt.date(2026, 12, 10)


def key(demo, day, child, unit="repas_phare"):
    return (demo["children"][child].id, demo["units"][unit].id, day)


def booking_of(demo, day, child, unit="repas_phare"):
    return Booking.get_or_none((Booking.child == demo["children"][child].id) & (Booking.unit == demo["units"][unit].id)
                               & (Booking.date == day))


def staff(role):
    return User.get(User.email == f"{role}@example.fr")


def booked_at_desk(demo, family, child, day):
    """A day booked by staff past the deadline (so it is past its cancel deadline too)."""
    household = dupont(demo) if family == "dupont" else martin(demo)
    checkout.validate_at_desk(household, staff("agent"), {key(demo, day, child): True}, "Préparation du test")
    return booking_of(demo, day, child)


def dupont(demo):
    from models import Household
    return Household.get_by_id(demo["households"]["dupont"].id)


def martin(demo):
    from models import Household
    return Household.get_by_id(demo["households"]["martin"].id)


# --- Services ------------------------------------------------------------------------------------------


def test_past_the_deadline_a_reason_is_required_and_nothing_changes_without_it(demo):
    household = dupont(demo)
    orders_before = Order.select().count()
    with pytest.raises(desk.DeskRefused) as refusal:
        checkout.validate_at_desk(household, staff("agent"), {key(demo, THU, "malo"): True}, "   ")
    assert "Indiquez le motif" in refusal.value.message and refusal.value.field == "motif"
    assert booking_of(demo, THU, "malo") is None and Order.select().count() == orders_before


def test_staff_book_past_the_deadline_with_a_reason_as_an_order_made_at_the_desk(demo):
    household, agent = dupont(demo), staff("agent")
    result = checkout.validate_at_desk(household, agent, {key(demo, THU, "malo"): True}, "Reprise du travail")
    booking = booking_of(demo, THU, "malo")
    assert booking.status == "booked" and booking.late and booking.price == 290 + 100  # late surcharge
    order = Order.get_by_id(result.validation.order.id)
    assert order.at_desk and order.staff_reason == "Reprise du travail" and order.created_by_id == agent.id
    assert [line.booking_id for line in order.lines] == [booking.id]
    # the family's usual confirmation, saying it was made at the desk
    mails = [m for m in outbox_messages() if m["subject"] == f"Commande n° {order.number} enregistrée"]
    assert mails and "au guichet" in mails[0]["body"] and "Repas – Malo – jeudi 3 décembre 2026" in mails[0]["body"]
    # the journal says who and why, on this household
    entry = AuditLog.get((AuditLog.action == "réservation au guichet") & (AuditLog.object_id == booking.id))
    assert entry.user_id == agent.id and entry.household_id == household.id
    assert "motif : Reprise du travail" in entry.detail and order.number in entry.detail


def test_within_the_deadline_no_reason_is_needed_and_cancelling_past_it_needs_one(demo):
    household, agent = dupont(demo), staff("agent")
    result = checkout.validate_at_desk(household, agent, {key(demo, LATER, "malo"): True})
    assert result.validation.order is not None and booking_of(demo, LATER, "malo").status == "booked"
    assert not booking_of(demo, LATER, "malo").late
    with pytest.raises(desk.DeskRefused):
        checkout.validate_at_desk(household, agent, {key(demo, MON, "ines"): False})
    assert booked_at_desk(demo, "dupont", "ines", MON).status == "booked"
    with pytest.raises(desk.DeskRefused):
        checkout.validate_at_desk(household, agent, {key(demo, MON, "ines"): False})
    assert booking_of(demo, MON, "ines").status == "booked"
    checkout.validate_at_desk(household, agent, {key(demo, MON, "ines"): False}, "Sortie scolaire")
    assert booking_of(demo, MON, "ines").status == "cancelled"


def test_capacity_is_still_enforced_at_the_desk(demo):
    household = dupont(demo)
    taken = Booking.select().where((Booking.unit == demo["units"]["repas_phare"].id) & (Booking.date == THU)
                                   & Booking.status.in_(Booking.OCCUPYING)).count()
    CapacityOverride.create(unit=demo["units"]["repas_phare"].id, date=THU, capacity=taken)
    orders_before = Order.select().count()
    # Past the deadline the grid says « Hors délai » (staff may try); placement, under the lock, says no.
    result = checkout.validate_at_desk(household, staff("agent"), {key(demo, THU, "malo"): True}, "Urgence")
    assert [line.message for line in result.validation.refused] == ["Complet"]
    assert result.validation.order is None and Order.select().count() == orders_before
    assert booking_of(demo, THU, "malo") is None
    assert not [m for m in outbox_messages() if "Commande" in m["subject"] and "Malo" in m["body"]]


def test_another_households_child_is_refused(demo):
    with pytest.raises(NotFound):
        checkout.validate_at_desk(dupont(demo), staff("agent"), {key(demo, LATER, "lea"): True}, "x")
    assert booking_of(demo, LATER, "lea") is None


def test_staff_record_a_justified_absence_accepted_at_once(demo):
    household, agent = martin(demo), staff("agent")
    booking = booked_at_desk(demo, "martin", "lea", MON)
    with pytest.raises(desk.DeskRefused):
        desk.record_absence(household, agent, booking.id, "")
    declaration = desk.record_absence(household, agent, booking.id, "Varicelle, certificat apporté")
    assert declaration.status == "accepted" and declaration.declared_by_id == agent.id
    assert Booking.get_by_id(booking.id).attendance == "absent_justified"
    assert Alert.select().where((Alert.household == household.id) & (Alert.title == "Absence justifiée")).exists()
    assert AuditLog.select().where(AuditLog.action == "absence enregistrée au guichet").count() == 1
    with pytest.raises(desk.DeskRefused):  # once recorded, the day is no longer « Réservé »
        desk.record_absence(household, agent, booking.id, "encore")
    with pytest.raises(NotFound):  # another family's booking
        desk.record_absence(dupont(demo), agent, booking.id, "x")
    assert AbsenceDeclaration.select().where(AbsenceDeclaration.booking == booking.id).count() == 1


def test_ancv_payment_is_allocated_with_gapless_receipt_numbers(demo):
    household = martin(demo)
    unpaid = [i for i in Invoice.select().where(Invoice.household == household.id).order_by(Invoice.issued_on)
              if i.kind == "invoice" and i.balance > 0]
    assert unpaid, "the demo family has an unpaid invoice"
    first = payments.record_payment(household, "ancv", 500, dt.date(2026, 11, 28), "ANCV 123", staff("regisseur"))
    assert first.mode_label == "Chèques-Vacances (ANCV)"
    assert Invoice.get_by_id(unpaid[0].id).paid == unpaid[0].paid + min(500, unpaid[0].balance)
    second = payments.record_payment(household, "especes", 200, dt.date(2026, 11, 28), "", staff("regisseur"))
    one, two = (int(p.receipt_number.split("-")[1]) for p in (first, second))
    assert first.receipt_number.startswith("R2026-") and two == one + 1
    receipt = payments.receipt(first)
    assert receipt.settled[0][0].startswith(f"Facture {unpaid[0].number}") and receipt.staff_name


# --- Views -------------------------------------------------------------------------------------------


def desk_url(demo, family="dupont", page="reservations"):
    return f"/gestion/familles/{demo['households'][family].id}/{page}"


def post_desk(client, demo, cells: dict, motif="", family="dupont", week="2026-W49"):
    url = desk_url(demo, family)
    data = {"csrf_token": csrf_token(client, url), "semaine": week, "motif": motif,
            "shown": [], "cells": []}
    for (child_id, unit_id, day), ticked in cells.items():
        value = f"{child_id}:{unit_id}:{day.isoformat()}"
        data["shown"].append(value)
        if ticked:
            data["cells"].append(value)
    return client.post(url, data=data)


def test_agent_sees_the_desk_grid_and_books_past_the_deadline_with_a_reason(client, auth, demo):
    auth.login("agent@example.fr")
    page = client.get(desk_url(demo) + "?semaine=2026-W49").get_data(as_text=True)
    assert "Valider les changements pour la famille" in page and "Motif du changement" in page
    cell = key(demo, THU, "malo")
    assert f'value="{cell[0]}:{cell[1]}:2026-12-03"' in page and "au guichet : motif requis" in page
    assert "hx-post" not in page.split('class="grid-form"')[1]  # the desk's form is its basket: no htmx toggle
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))

    refused = post_desk(client, demo, {cell: True})
    assert refused.status_code == 400 and "Indiquez le motif" in refused.get_data(as_text=True)
    assert booking_of(demo, THU, "malo") is None

    done = post_desk(client, demo, {cell: True}, "Demande de la famille au guichet")
    assert done.status_code == 302 and "semaine=2026-W49" in done.headers["Location"]
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "enregistrée au guichet" in page and "Repas – Malo – jeudi 3 décembre 2026" in page
    assert booking_of(demo, THU, "malo").status == "booked"
    orders = client.get(desk_url(demo, page="commandes")).get_data(as_text=True)
    assert "Saisie au guichet par" in orders and "motif : Demande de la famille au guichet" in orders
    history = client.get(desk_url(demo, page="historique")).get_data(as_text=True)
    assert "réservation au guichet" in history


def test_regisseur_reads_the_grid_but_cannot_book(client, auth, demo):
    auth.login("regisseur@example.fr")
    page = client.get(desk_url(demo)).get_data(as_text=True)
    assert "Consultation seulement" in page and "Valider les changements" not in page
    assert post_desk(client, demo, {key(demo, THU, "malo"): True}, "x").status_code == 403
    assert booking_of(demo, THU, "malo") is None


def test_a_crafted_cell_of_another_family_is_a_404(client, auth, demo):
    auth.login("agent@example.fr")
    assert post_desk(client, demo, {key(demo, LATER, "lea"): True}, "x").status_code == 404
    assert booking_of(demo, LATER, "lea") is None


def test_agent_records_an_absence_from_the_grid(client, auth, demo):
    booking = booked_at_desk(demo, "martin", "lea", MON)
    auth.login("agent@example.fr")
    page = client.get(desk_url(demo, "martin") + "?semaine=2026-W49").get_data(as_text=True)
    url = f"/gestion/familles/{demo['households']['martin'].id}/absences/{booking.id}"
    assert url in page
    token = csrf_token(client, url)
    assert client.post(url, data={"csrf_token": token, "motif": ""}).status_code == 400
    response = client.post(url, data={"csrf_token": token, "motif": "Maladie"})
    assert response.status_code == 302
    assert Booking.get_by_id(booking.id).attendance == "absent_justified"
    other = f"/gestion/familles/{demo['households']['dupont'].id}/absences/{booking.id}"
    assert client.get(other).status_code == 404


def test_regisseur_takes_an_ancv_payment_and_downloads_the_receipt(client, auth, demo):
    auth.login("regisseur@example.fr")
    url = desk_url(demo, "martin", "reglements")
    page = client.get(url).get_data(as_text=True)
    assert "Chèques-Vacances (ANCV)" in page and "Encaisser un règlement au guichet" in page
    token = csrf_token(client, url)
    bad = client.post(url, data={"csrf_token": token, "mode": "ancv", "amount": "-3", "received_on": "2026-11-29"})
    assert bad.status_code == 400
    response = client.post(url, data={"csrf_token": token, "mode": "ancv", "amount": "40,00",
                                      "received_on": "2026-11-29", "reference": "ANCV 0042"})
    assert response.status_code == 302
    payment = Payment.select().order_by(Payment.id.desc()).first()
    assert payment.mode == "ancv" and payment.amount == 4000 and payment.receipt_number.startswith("R2026-")
    page = client.get(url).get_data(as_text=True)
    assert f"Reçu n° {payment.receipt_number}" in page
    pdf = client.get(f"{url}/{payment.id}/recu.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).replace("\xa0", " ")
    allocation = payment.allocations.first()
    for expected in (f"Reçu n° {payment.receipt_number}", "40,00 €", "Chèques-Vacances (ANCV)", "ANCV 0042",
                     "Martin", "dimanche 29 novembre 2026", allocation.invoice.number, "Mairie de Démo"):
        assert expected in text, expected
    assert User.get(User.email == "regisseur@example.fr").display_name in text
    # another family's payment through this family's page: 404
    other = Payment.select().where(Payment.household == demo["households"]["dupont"].id).first()
    assert client.get(f"{url}/{other.id}/recu.pdf").status_code == 404


def test_agent_may_not_take_a_payment(client, auth, demo):
    auth.login("agent@example.fr")
    url = desk_url(demo, "martin", "reglements")
    assert "Encaisser un règlement" not in client.get(url).get_data(as_text=True)
    token = csrf_token(client, url)
    assert client.post(url, data={"csrf_token": token, "mode": "especes", "amount": "5"}).status_code == 403


@pytest.mark.parametrize("page", ["", "/reservations", "/commandes", "/factures", "/reglements", "/messages",
                                  "/historique"])
def test_every_tab_opens_and_links_the_others(client, auth, demo, page):
    auth.login("agent@example.fr")
    response = client.get(f"/gestion/familles/{demo['households']['martin'].id}{page}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'aria-label="Dossier de la famille"' in body and 'aria-current="page"' in body
    tabs = body.split('aria-label="Dossier de la famille"')[1].split("</nav>")[0]
    martin_id = demo["households"]["martin"].id
    assert f'href="/gestion/familles/{martin_id}/messages"' in tabs  # the messaging tab


def test_unknown_household_and_bad_week(client, auth, demo):
    auth.login("agent@example.fr")
    assert client.get("/gestion/familles/999999/reservations").status_code == 404
    response = client.get(desk_url(demo) + "?semaine=n'importe")
    assert response.status_code == 200 and "invalide" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["99999999999999999999", "-1", "2026-02-30", "é" * 5000, "<script>x</script>",
                                   "\x00", " ", "1:2:3", "abc:def:2026-12-03"])
def test_hostile_values_on_the_desk_forms_never_break(client, auth, demo, value):
    auth.login("admin@example.fr")
    base = f"/gestion/familles/{demo['households']['martin'].id}"
    booking = Booking.select().where(Booking.household == demo["households"]["martin"].id).first()
    token = csrf_token(client, base + "/reservations")
    cell = f"{demo['children']['lea'].id}:{demo['units']['repas_phare'].id}:2026-12-03"
    posts = [
        (base + "/reservations", {"semaine": value, "motif": value, "shown": [value], "cells": [value]}),
        (base + "/reservations", {"semaine": "2026-W49", "motif": value, "shown": [cell], "cells": [cell]}),
        (base + f"/absences/{booking.id}", {"motif": value}),
        (base + "/reglements", {"mode": value, "amount": value, "received_on": value, "reference": value}),
    ]
    for url, data in posts:
        response = client.post(url, data={**data, "csrf_token": token})
        assert response.status_code in (302, 400, 404), (url, response.status_code)
    # (a NUL byte anywhere is answered 400 by web/security.py before any view)
    assert client.get(base + "/historique", query_string={"page": value}).status_code in (200, 400)
