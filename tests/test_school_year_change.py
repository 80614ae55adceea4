"""The school year change (services/booking/school_year.py): the class moves up one level at réinscription,
confirmed or corrected by the parent, applied when the school year starts; the fiche enfant is
re-certified every school year for the activities that require a certified record."""
import datetime as dt

import pytest

from models import Activity, Child, Enrolment
from services.booking import enrolment, school_year
from services.core import clock
from services.core.errors import InvalidInput
from services.demo.activities import create_activity

D = dt.date


def test_each_class_moves_up_one_level():
    assert [school_year.next_level(level) for level in ("TPS", "PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2")] \
        == ["PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2", "Collège"]
    assert school_year.next_level("") == ""


def test_an_old_certification_no_longer_counts(demo):
    lea = Child.get_by_id(demo["children"]["lea"].id)
    strict = create_activity("Séjour neige", "autre", requires_certified_record=True, year=2026)
    assert enrolment.missing_requirements(lea, strict) == []  # certified on 2026-11-29, for 2026-2027
    Child.update(certified_at=dt.datetime(2026, 6, 20, 10, 0), certified_year=None).where(Child.id == lea.id).execute()
    lea = Child.get_by_id(lea.id)
    assert school_year.certified_year(lea) == 2025
    assert enrolment.missing_requirements(lea, strict) == ["la fiche de Léa doit être recertifiée pour 2026-2027"]
    assert school_year.recertification_due(lea) == 2026
    with pytest.raises(enrolment.RequirementsMissing):
        enrolment.request(None, lea, strict)
    assert school_year.certify(demo["households"]["martin"], demo["users"]["martin"], lea) == 2026
    lea = Child.get_by_id(lea.id)
    assert (lea.certified_year, lea.certified_at) == (2026, clock.local_now())
    assert school_year.recertification_due(lea) is None
    assert enrolment.request(None, lea, strict).status == "requested"  # reaches staff


def test_during_the_reinscription_a_certification_is_for_next_year(demo):
    lea, martin = Child.get_by_id(demo["children"]["lea"].id), demo["households"]["martin"]
    next_year = create_activity("ALSH Mercredi", "alsh_mercredi", year=2027, requires_certified_record=True)
    assert school_year.certification_year() == 2027  # next year's activity is open for enrolment
    assert school_year.recertification_due(lea) == 2027
    assert school_year.due_by_child(martin.children_in_file()) == {demo["children"]["lea"].id: 2027,
                                                                  demo["children"]["hugo"].id: 2027}
    assert enrolment.missing_requirements(lea, next_year) == ["la fiche de Léa doit être recertifiée pour 2027-2028"]
    school_year.certify(martin, demo["users"]["martin"], lea)
    lea = Child.get_by_id(lea.id)
    assert lea.certified_year == 2027 and enrolment.missing_requirements(lea, next_year) == []
    this_year = create_activity("Séjour neige", "autre", requires_certified_record=True, year=2026)
    assert enrolment.missing_requirements(lea, this_year) == []  # a later certification counts too
    with pytest.raises(school_year.NotFound):
        school_year.certify(demo["households"]["dupont"], demo["users"]["dupont"], lea)


def test_renewal_confirms_next_years_classes(demo):
    martin, parent = demo["households"]["martin"], demo["users"]["martin"]
    lea, hugo = demo["children"]["lea"], demo["children"]["hugo"]
    create_activity("ALSH Mercredi", "alsh_mercredi", year=2027)
    assert school_year.proposed_level(lea, 2027) == "CM1" and school_year.proposed_level(hugo, 2027) == "GS"
    created = enrolment.renew(parent, martin, 2026, {lea.id: "CM1", hugo.id: "MS"})  # Hugo stays in MS
    assert len(created) == 2
    lea, hugo = Child.get_by_id(lea.id), Child.get_by_id(hugo.id)
    assert (lea.class_level, lea.next_class_level, lea.next_class_year) == ("CE2", "CM1", 2027)
    assert (hugo.next_class_level, school_year.proposed_level(hugo, 2027)) == ("MS", "MS")


@pytest.mark.parametrize("level", ["CM7", "", "Lycée"])
def test_a_wrong_class_changes_nothing(demo, level):
    martin, lea = demo["households"]["martin"], demo["children"]["lea"]
    create_activity("ALSH Mercredi", "alsh_mercredi", year=2027)
    with pytest.raises(InvalidInput) as refused:
        enrolment.renew(demo["users"]["martin"], martin, 2026, {lea.id: level})
    assert refused.value.field == f"class_{lea.id}"
    assert Child.get_by_id(lea.id).next_class_level == ""
    assert Enrolment.select().where(Enrolment.renewal == True).count() == 0  # noqa: E712


def test_a_class_the_school_does_not_teach_is_refused(demo):
    phare = demo["schools"]["phare"]
    phare.classes = "CP,CE1,CE2,CM1,CM2"
    phare.save()
    with pytest.raises(InvalidInput) as refused:
        school_year.confirm_levels(None, demo["households"]["martin"], 2027, {demo["children"]["lea"].id: "GS"})
    assert "École du Phare" in refused.value.message


def test_a_child_going_to_college_leaves_the_school_services(demo):
    dupont, ines = demo["households"]["dupont"], demo["children"]["ines"]  # CM2 at École du Phare
    canteen = Enrolment.select().join(Activity).where(
        (Enrolment.child == ines.id) & (Activity.school.is_null(False))).first()
    assert canteen is not None and canteen.status == "validated"
    create_activity(canteen.activity.name, canteen.activity.kind, year=2027, school=canteen.activity.school)
    create_activity("ALSH Mercredi", "alsh_mercredi", year=2027)
    assert school_year.leaves_primary(ines, 2027)
    renewed = {(e.child.first_name, a.name) for e, a in enrolment.renewal_candidates(dupont, 2026)}
    assert ("Inès", canteen.activity.name) not in renewed
    assert ("Inès", "ALSH Mercredi") in renewed
    # Corrected: Inès repeats CM2, so her school's canteen is renewed too.
    school_year.confirm_levels(None, dupont, 2027, {ines.id: "CM2"})
    renewed = {(e.child.first_name, a.name) for e, a in enrolment.renewal_candidates(dupont, 2026)}
    assert ("Inès", canteen.activity.name) in renewed


def test_the_new_school_year_applies_the_confirmed_classes(demo):
    dupont = demo["households"]["dupont"]
    ines, malo = demo["children"]["ines"], demo["children"]["malo"]
    school_year.confirm_levels(None, dupont, 2027, {ines.id: "Collège", malo.id: "CE2"})
    assert school_year.start_school_year(D(2027, 8, 31)) == 0  # still 2026-2027
    assert Child.get_by_id(malo.id).class_level == "CE1"
    assert school_year.start_school_year(D(2027, 9, 1)) == 2
    ines, malo = Child.get_by_id(ines.id), Child.get_by_id(malo.id)
    assert (ines.class_level, ines.school_id, ines.next_class_level) == ("", None, "")
    assert (malo.class_level, malo.school_id, malo.next_class_year) == ("CE2", demo["schools"]["phare"].id, None)
    assert school_year.start_school_year(D(2027, 9, 2)) == 0  # nothing happens twice
