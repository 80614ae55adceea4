"""Crèche pre-registration rules (services/family/early_years*.py): schedule and start date checks, one
open request per child and structure, withdrawal until decided, commission, decisions told to the family
in the decision's transaction, the commission CSV."""
import datetime as dt

import pytest

from models import AuditLog, Child, EarlyYearsRequest, OutgoingMail
from services.core.errors import InvalidInput
from services.family import early_years as rules
from services.family import early_years_review as review

D = dt.date
WEEK = {0: ("08:30", "17:30"), 1: ("8h30", "17h30"), 2: ("", ""), 3: ("08:30", "12:00"), 4: ("", "")}


def _file(demo, child=None, structure="mousses", start=D(2027, 9, 1), hours=WEEK, situation=rules.SITUATIONS[0]):
    return rules.file_request(demo["users"]["dupont"], demo["households"]["dupont"],
                              child or demo["children"]["bebe_dupont"], demo["early_years_structures"][structure],
                              start, rules.parse_schedule(hours), situation, "  Jumeaux  ")


def test_schedule_is_parsed_and_totalled():
    slots = rules.parse_schedule(WEEK)
    assert [(s.weekday, f"{s.start:%H:%M}", f"{s.end:%H:%M}") for s in slots] == [
        (0, "08:30", "17:30"), (1, "08:30", "17:30"), (3, "08:30", "12:00")]
    assert rules.weekly_hours(slots) == "21 h 30 par semaine"
    assert rules.describe_schedule(slots[:1]) == "lundi 08:30–17:30"


@pytest.mark.parametrize("hours, field, words", [
    ({0: ("08:30", "")}, "to_0", "l'heure d'arrivée et l'heure de départ"),
    ({1: ("17:30", "08:30")}, "to_1", "après l'heure d'arrivée"),
    ({2: ("06:00", "12:00")}, "from_2", "de 7 h 00 à 19 h 30"),
    ({3: ("08:00", "20:15")}, "to_3", "de 7 h 00 à 19 h 30"),
    ({4: ("huit heures", "12:00")}, "from_4", "comme 08:30"),
    ({0: ("", ""), 1: ("", "")}, "from_0", "au moins un jour"),
])
def test_bad_hours_are_refused_in_french(hours, field, words):
    with pytest.raises(InvalidInput) as refused:
        rules.parse_schedule(hours)
    assert refused.value.field == field and words in refused.value.message


def test_a_request_is_filed_for_an_expected_child(demo):
    request = _file(demo)
    stored = EarlyYearsRequest.get_by_id(request.id)
    assert stored.status == "sent" and stored.comment == "Jumeaux"
    assert [(s.weekday, s.minutes) for s in rules.schedule_of(stored)] == [(0, 540), (1, 540), (3, 210)]
    assert AuditLog.select().where((AuditLog.object_type == "EarlyYearsRequest")
                                   & (AuditLog.object_id == request.id)).count() == 1
    assert [r.id for r in rules.requests_of(demo["households"]["dupont"])][0] == request.id
    assert rules.requests_of(demo["households"]["martin"]) == []


def test_one_open_request_per_child_and_structure(demo):
    with pytest.raises(rules.EarlyYearsRefused):  # the demo's request, « En commission »
        _file(demo, structure="moussaillons")
    _file(demo)
    with pytest.raises(rules.EarlyYearsRefused):
        _file(demo)
    assert EarlyYearsRequest.select().count() == 2


@pytest.mark.parametrize("start, words", [
    (D(2026, 11, 28), "passée"),
    (D(2030, 1, 1), "3 ans"),
    (D(2027, 1, 1), "après la naissance"),  # the baby is expected on 2027-02-27
])
def test_start_date_rules(demo, start, words):
    with pytest.raises(InvalidInput) as refused:
        _file(demo, start=start)
    assert words in refused.value.message and refused.value.field == "start_date"
    assert EarlyYearsRequest.select().count() == 1


def test_children_of_six_are_not_taken(demo):
    jade = demo["children"]["jade"]  # born 2021-11-30: six on 2027-11-30
    assert jade.id in [c.id for c in rules.children_for(demo["households"]["dupont"])]
    _file(demo, child=jade, start=D(2027, 11, 29))
    with pytest.raises(InvalidInput) as refused:
        _file(demo, child=jade, structure="moussaillons", start=D(2027, 11, 30))
    assert "moins de 6 ans" in refused.value.message
    assert demo["children"]["ines"].id not in [c.id for c in rules.children_for(demo["households"]["dupont"])]


def test_another_households_child_or_a_closed_structure_is_refused(demo):
    with pytest.raises(rules.NotFound):
        _file(demo, child=demo["children"]["hugo"])
    structure = demo["early_years_structures"]["mousses"]
    structure.active = False
    structure.save()
    with pytest.raises(InvalidInput):
        _file(demo)
    with pytest.raises(InvalidInput):
        _file(demo, structure="moussaillons", situation="Rentier")


def test_withdraw_until_the_commission_decides(demo):
    dupont, parent, agent = demo["households"]["dupont"], demo["users"]["dupont"], demo["users"]["agent"]
    request = _file(demo)
    with pytest.raises(rules.NotFound):
        rules.withdraw(demo["users"]["martin"], demo["households"]["martin"], request)
    rules.withdraw(parent, dupont, request)
    assert EarlyYearsRequest.get_by_id(request.id).status == "withdrawn"
    decided = review.decide(agent, demo["early_years_request"], "accepted")
    with pytest.raises(rules.EarlyYearsRefused):
        rules.withdraw(parent, dupont, decided)
    assert EarlyYearsRequest.get_by_id(decided.id).status == "accepted"
    _file(demo)  # a withdrawn request no longer blocks a new one


def test_commission_then_decisions_tell_the_family(demo):
    agent, request = demo["users"]["agent"], _file(demo)
    OutgoingMail.delete().execute()
    with pytest.raises(InvalidInput):
        review.to_commission(agent, request, D(2026, 11, 28))
    with pytest.raises(InvalidInput):
        review.to_commission(agent, request, None)
    with pytest.raises(rules.EarlyYearsRefused):
        review.decide(agent, request, "accepted")  # not in commission yet
    assert EarlyYearsRequest.get_by_id(request.id).status == "sent" and OutgoingMail.select().count() == 0
    review.to_commission(agent, request, D(2026, 12, 10))
    assert EarlyYearsRequest.get_by_id(request.id).commission_date == D(2026, 12, 10)
    mail = OutgoingMail.select().order_by(OutgoingMail.id.desc()).first()
    assert mail.to == "famille.dupont@example.fr" and "10 décembre 2026" in mail.body

    with pytest.raises(InvalidInput) as refused:
        review.decide(agent, request, "refused", "  ")
    assert refused.value.field == "reason"
    with pytest.raises(InvalidInput) as refused:
        review.decide(agent, request, "waiting_list")
    assert refused.value.field == "rank"
    with pytest.raises(InvalidInput):
        review.decide(agent, request, "maybe")
    assert EarlyYearsRequest.get_by_id(request.id).status == "commission"

    review.decide(agent, request, "waiting_list", rank=3)
    stored = EarlyYearsRequest.get_by_id(request.id)
    assert (stored.status, stored.waiting_rank, stored.decided_by_id) == ("waiting_list", 3, agent.id)
    assert "rang 3" in OutgoingMail.select().order_by(OutgoingMail.id.desc()).first().body
    review.to_commission(agent, stored, D(2027, 3, 4))  # examined again at a later commission
    review.decide(agent, stored, "refused", "Aucune place pour ces horaires")
    stored = EarlyYearsRequest.get_by_id(request.id)
    assert (stored.status, stored.reason, stored.waiting_rank) == ("refused", "Aucune place pour ces horaires", None)
    last = OutgoingMail.select().order_by(OutgoingMail.id.desc()).first()
    assert "refusée" in last.subject and "Motif : Aucune place pour ces horaires" in last.body
    assert AuditLog.select().where((AuditLog.object_type == "EarlyYearsRequest")
                                   & (AuditLog.object_id == request.id)).count() == 5


def test_a_failed_decision_sends_no_mail(demo, monkeypatch):
    """The e-mail is written in the decision's transaction: a decision rolled back sends nothing."""
    OutgoingMail.delete().execute()

    def broken(*args, **kwargs):
        raise RuntimeError("panne")

    monkeypatch.setattr(review.audit, "record", broken)
    with pytest.raises(RuntimeError):
        review.decide(demo["users"]["agent"], demo["early_years_request"], "accepted")
    assert EarlyYearsRequest.get_by_id(demo["early_years_request"].id).status == "commission"
    assert OutgoingMail.select().count() == 0


def test_queue_filters_and_commission_csv(demo):
    request = _file(demo)
    demo_request = demo["early_years_request"]
    assert [r.id for r in review.queue()] == [demo_request.id, request.id]
    assert [r.id for r in review.queue("sent")] == [request.id]
    mousses = demo["early_years_structures"]["mousses"]
    assert [r.id for r in review.queue("", mousses.id)] == [request.id]
    text = review.commission_csv()
    assert text.startswith("\ufeffCommission;Structure;Foyer;Enfant")
    lines = text.strip().splitlines()
    assert len(lines) == 2 and "Multi-accueil Les Moussaillons" in lines[1] and "Enfant à naître" in lines[1]
    assert "36 h par semaine" in lines[1]
    assert len(review.commission_csv(mousses.id).strip().splitlines()) == 1
    assert len(review.commission_csv(day=D(2026, 12, 10)).strip().splitlines()) == 2


def test_structures_are_configured_with_unique_names(demo):
    admin = demo["users"]["admin"]
    added = review.save_structure(admin, " Halte-garderie   Les Mouettes ", "halte-garderie")
    assert added.name == "Halte-garderie Les Mouettes"
    with pytest.raises(InvalidInput):
        review.save_structure(admin, "halte-garderie les mouettes", "halte-garderie")
    with pytest.raises(InvalidInput):
        review.save_structure(admin, "Autre", "garderie-inconnue")
    review.save_structure(admin, added.name, "micro-creche", structure=added, active=False)
    assert [s.name for s in rules.structures()] == ["Multi-accueil Les Moussaillons",
                                                     "Crèche familiale Les P'tits Mousses"]


def test_the_expected_baby_is_in_the_dupont_file(demo):
    baby = Child.get_by_id(demo["children"]["bebe_dupont"].id)
    assert baby.unborn and baby.expected_date == D(2027, 2, 27)
