"""Enrolment service: request, accept, refuse with reason, waiting list, gating by documents and
by a certified child record, réinscription copying last year's enrolments as requests."""
import datetime as dt

import pytest

import models
from models import Child, Enrolment
from services.booking import enrolment
from services.core import clock
from services.core.errors import InvalidInput
from services.demo.activities import create_activity

D = dt.date


@pytest.fixture
def club(demo):
    return create_activity("Club nature", "autre", enrolment_validation=True)


def test_request_then_accept(demo, club):
    lea, agent = demo["children"]["lea"], demo["users"]["agent"]
    row = enrolment.request(demo["users"]["martin"], lea, club)
    assert row.status == "requested"
    with pytest.raises(enrolment.EnrolmentRefused):
        enrolment.request(demo["users"]["martin"], lea, club)  # already asked
    assert [r.id for r in enrolment.queue()] == [row.id]
    enrolment.accept(agent, row)
    assert Enrolment.get_by_id(row.id).status == "validated"
    assert enrolment.queue() == []


def test_refuse_needs_reason_then_can_ask_again(demo, club):
    lea, agent = demo["children"]["lea"], demo["users"]["agent"]
    row = enrolment.request(None, lea, club)
    with pytest.raises(InvalidInput) as error:
        enrolment.refuse(agent, row, "  ")
    assert error.value.field == "reason"
    enrolment.refuse(agent, row, "Plus de place cette année")
    row = Enrolment.get_by_id(row.id)
    assert row.status == "refused" and row.refusal_reason == "Plus de place cette année"
    assert enrolment.request(None, lea, club).status == "requested"


def test_waiting_list(demo, club):
    row = enrolment.request(None, demo["children"]["lea"], club)
    enrolment.put_on_waiting_list(demo["users"]["agent"], row)
    assert Enrolment.get_by_id(row.id).status == "waiting_list"
    assert enrolment.queue()[0].status == "waiting_list"


def test_school_restriction_and_closed_enrolment(demo):
    jade = demo["children"]["jade"]  # École du Petit Prince
    canteen_phare = demo["activities"]["cantine_phare"]
    Enrolment.delete().where(Enrolment.child == jade.id).execute()
    with pytest.raises(enrolment.EnrolmentRefused) as error:
        enrolment.request(None, jade, canteen_phare)
    assert "réservé aux élèves de École du Phare" in error.value.message
    closed = create_activity("Stage fermé", "autre", enrolment_open=False)
    with pytest.raises(enrolment.EnrolmentRefused):
        enrolment.request(None, jade, closed)


def test_certified_record_gate(demo):
    lea = demo["children"]["lea"]
    Child.update(certified_at=None).where(Child.id == lea.id).execute()
    lea = Child.get_by_id(lea.id)
    strict = create_activity("Séjour", "autre", requires_certified_record=True)
    with pytest.raises(enrolment.RequirementsMissing) as error:
        enrolment.request(None, lea, strict)
    assert "fiche de Léa doit être vérifiée et certifiée" in error.value.message
    assert Enrolment.select().where(Enrolment.activity == strict.id).count() == 0
    Child.update(certified_at=clock.local_now()).where(Child.id == lea.id).execute()
    assert enrolment.request(None, Child.get_by_id(lea.id), strict).status == "requested"


@pytest.mark.skipif(not hasattr(models, "FamilyDocument"), reason="household documents not built yet")
def test_document_gate(demo):
    lea, agent = demo["children"]["lea"], demo["users"]["agent"]
    vaccins = models.DocumentType.create(name="Carnet de vaccination (test)", scope="child")
    activity = create_activity("ALSH Été", "alsh_vacances", required_documents=str(vaccins.id))
    with pytest.raises(enrolment.RequirementsMissing) as error:
        enrolment.request(None, lea, activity)
    assert error.value.missing == ["document manquant ou expiré : Carnet de vaccination (test)"]
    now = clock.local_now()

    def document(status, valid_until, name):
        return models.FamilyDocument.create(
            household=lea.household, child=lea, doc_type=vaccins, original_name="v.pdf", stored_name=name,
            content_type="application/pdf", size=10, status=status, valid_until=valid_until, uploaded_at=now)

    document("pending", None, "a")  # not yet reviewed
    document("accepted", D(2020, 1, 1), "b")  # expired
    with pytest.raises(enrolment.RequirementsMissing):
        enrolment.request(None, lea, activity, today=D(2026, 11, 20))
    document("accepted", D(2027, 9, 1), "c")
    row = enrolment.request(None, lea, activity, today=D(2026, 11, 20))
    assert row.status == "requested"
    enrolment.accept(agent, row, today=D(2026, 11, 20))


def test_staff_accept_also_gated(demo):
    lea, agent = demo["children"]["lea"], demo["users"]["agent"]
    strict = create_activity("Séjour ski", "autre", requires_certified_record=True)
    Child.update(certified_at=None).where(Child.id == lea.id).execute()
    row = Enrolment.create(child=lea, activity=strict, status="requested", requested_at=clock.local_now())
    with pytest.raises(enrolment.RequirementsMissing):
        enrolment.accept(agent, row)
    assert Enrolment.get_by_id(row.id).status == "requested"


def test_renewal_copies_last_year_as_requests(demo):
    martin = demo["households"]["martin"]
    next_canteen = create_activity("Restauration scolaire – École du Phare", "cantine", year=2027,
                                   school=demo["schools"]["phare"])
    create_activity("ALSH Mercredi", "alsh_mercredi", year=2027)
    candidates = enrolment.renewal_candidates(martin, 2026)
    assert {(e.child.first_name, a.name) for e, a in candidates} == {
        ("Léa", "Restauration scolaire – École du Phare"), ("Léa", "ALSH Mercredi"), ("Hugo", "ALSH Mercredi")}
    created = enrolment.renew(demo["users"]["martin"], martin, 2026)
    assert len(created) == 3 and all(r.status == "requested" and r.renewal for r in created)
    assert enrolment.renewal_candidates(martin, 2026) == []
    assert enrolment.renew(None, martin, 2026) == []
    assert Enrolment.get((Enrolment.activity == next_canteen.id)).child.first_name == "Léa"
