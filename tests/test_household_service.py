"""Unit tests of the household-file rules: field checks (through the forms), completeness, submit/validate,
pending changes, closure."""
from __future__ import annotations

import datetime as dt

import pytest
from werkzeug.datastructures import MultiDict

from blueprints.family.form_fields import normalize_phone
from blueprints.family.forms import (
    ChildIdentityForm,
    ChildRecordForm,
    ContactForm,
    FoyerForm,
    GuardianForm,
    child_values,
)
from models import ChangeRequest, Child, Diet, Guardian, Household, School, User
from services.core.errors import NotFound
from services.family import decisions
from services.family import household as rules
from services.family import household_changes as changes
from services.family import household_review as review


def clean(form_class, data: dict, **kwargs):
    """The clean values of a form filled with `data`, as a view hands them to a service."""
    form = form_class(MultiDict(data), **kwargs)
    assert form.validate(), form.errors
    return form.values()


def child(identity: dict, record: dict | None = None, contacts: list[dict] = ()) -> dict:
    """The clean values of a fiche enfant: identity, then fiche and contact rows when given."""
    forms = ChildIdentityForm(MultiDict(identity)), ChildRecordForm(MultiDict(record or {}))
    forms[1].set_choices(School.select(), Diet.select())
    rows = [ContactForm(MultiDict({f"contact-{i}-{k}": v for k, v in row.items()}), prefix=f"contact-{i}")
            for i, row in enumerate(contacts)]
    assert all([form.validate() for form in (*forms, *rows)])
    return child_values(*forms, rows) if record is not None else forms[0].values()


@pytest.mark.parametrize("raw, clean", [("06.12.34.56.78", "06 12 34 56 78"), ("+33612345678", "06 12 34 56 78"),
                                        ("", "")])
def test_phone_normalised(raw, clean):
    assert normalize_phone(raw) == clean


@pytest.mark.parametrize("raw", ["12345", "0012345678", "06123456789", "abcdefghij"])
def test_bad_phone(raw):
    with pytest.raises(ValueError):
        normalize_phone(raw)


def test_child_identity_rules(freeze):
    freeze("2026-11-23T10:00")
    refused = ChildIdentityForm(MultiDict({"birth_date": "2026-12-01"}))
    assert not refused.validate() and "birth_date" in refused.errors
    unborn = clean(ChildIdentityForm, {"unborn": "y", "birth_date": "2026-12-01", "expected_date": "2027-03-01"})
    assert unborn["birth_date"] is None and unborn["expected_date"] == dt.date(2027, 3, 1)
    assert clean(ChildIdentityForm, {"birth_date": "04/05/2018"})["birth_date"] == dt.date(2018, 5, 4)


def test_guardian_errors_are_per_field():
    refused = GuardianForm(MultiDict({"postal_code": "ABCDE", "email": "pas-un-mail", "phone_work": "1"}))
    assert not refused.validate()
    assert set(refused.errors) == {"postal_code", "email", "phone_work"}


def test_submit_requires_a_complete_file(demo):
    household = Household.create(status="draft")
    user = User.create(email="x@example.fr", household=household)
    with pytest.raises(rules.FileIncomplete) as incomplete:
        rules.submit_file(household, user)
    assert {step for step, _ in incomplete.value.problems} == {"foyer", "responsables", "enfants", "besoins"}
    assert Household.get_by_id(household.id).status == "draft"


def test_validated_changes_wait_for_staff_then_apply(demo):
    martin = Household.get_by_id(demo["households"]["martin"].id)
    parent, agent = demo["users"]["martin"], demo["users"]["agent"]
    lea = Child.get_by_id(demo["children"]["lea"].id)
    result = changes.change_child(martin, parent, lea, child({"sex": "F", "last_name": "Martin", "first_name": "Léa",
                                                              "birth_date": "2018-03-14"},
                                                             {"school": str(lea.school_id), "class_level": "CM1",
                                                              "allergies": "Arachide"},
                                                             [{"kind": "urgence", "name": "Mamie",
                                                               "phone": "0611111111"}]))
    assert result == "requested"
    change = ChangeRequest.get()
    lines = {line["field"]: line for line in rules.change_lines(change)}
    assert lines["class_level"]["old"] == "CE2" and lines["class_level"]["new"] == "CM1"
    assert Child.get_by_id(lea.id).class_level == "CE2"
    assert changes.decide_changes(agent, [change.id], True) == 1
    lea = Child.get_by_id(lea.id)
    assert lea.class_level == "CM1" and not lea.has_pai
    assert [c.name for c in rules.contacts_of(lea)] == ["Mamie"]
    with pytest.raises(decisions.ReasonRequired):
        changes.decide_changes(agent, [change.id], False)


def test_unchanged_edit_makes_no_request(demo):
    martin = Household.get_by_id(demo["households"]["martin"].id)
    data = {"organisme": "CAF", "allocataire_number": "1234567", "family_situation": "Marié(e)",
            "quotient_familial": "850"}
    assert changes.change_household(martin, demo["users"]["martin"], clean(FoyerForm, data)) == "unchanged"
    assert not ChangeRequest.select().exists()


def test_add_and_remove_child_through_requests(demo):
    martin = Household.get_by_id(demo["households"]["martin"].id)
    parent, agent = demo["users"]["martin"], demo["users"]["agent"]
    changes.change_child(martin, parent, None, child({"unborn": "y", "last_name": "Martin",
                                                      "expected_date": (dt.date.today()
                                                                        + dt.timedelta(days=60)).isoformat()}))
    changes.request_child_removal(martin, parent, Child.get_by_id(demo["children"]["hugo"].id))
    assert len(martin.children_in_file()) == 2
    changes.decide_changes(agent, [c.id for c in ChangeRequest.select()], True)
    names = [(c.first_name, c.unborn) for c in martin.children_in_file()]
    assert names == [("Léa", False), ("", True)]
    assert [c.first_name for c in martin.children_in_file(include_archived=True)] == ["Léa", "Hugo", ""]
    assert Child.get_by_id(demo["children"]["hugo"].id).archived  # kept for bookings and invoices


def test_withdraw_only_own_pending_change(demo):
    martin = Household.get_by_id(demo["households"]["martin"].id)
    dupont = Household.get_by_id(demo["households"]["dupont"].id)
    changes.change_household(martin, demo["users"]["martin"], clean(FoyerForm, {
        "organisme": "MSA", "allocataire_number": "1", "family_situation": "Marié(e)"}))
    change = ChangeRequest.get()
    with pytest.raises(NotFound):
        changes.withdraw_change(dupont, change)
    changes.withdraw_change(martin, change)
    assert not ChangeRequest.select().exists()


def test_second_guardian_request(demo):
    dupont = Household.get_by_id(demo["households"]["dupont"].id)
    data = {"quality": "Mère", "civility": "Madame", "last_name": "Dupont", "first_name": "Nadia",
            "address": "4 impasse des Mouettes", "postal_code": "29999", "city": "Démo-sur-Mer",
            "email": "nadia.dupont@example.fr", "phone_mobile": "06 77 88 99 00"}
    assert changes.change_guardian(dupont, demo["users"]["dupont"], None, clean(GuardianForm, data)) == "requested"
    changes.decide_changes(demo["users"]["agent"], [ChangeRequest.get().id], True)
    assert [g.first_name for g in rules.guardians_of(dupont)] == ["Karim", "Nadia"]


def test_closure_request_keeps_data_and_staff_decide(demo):
    martin = Household.get_by_id(demo["households"]["martin"].id)
    review.request_closure(martin, demo["users"]["martin"])
    with pytest.raises(rules.NotEditable):
        review.request_closure(Household.get_by_id(martin.id), demo["users"]["martin"])
    review.decide_closures(demo["users"]["agent"], [martin.id], False, "Facture impayée en cours")
    assert Household.get_by_id(martin.id).status == "validated"
    review.request_closure(Household.get_by_id(martin.id), demo["users"]["martin"])
    review.decide_closures(demo["users"]["agent"], [martin.id], True)
    assert Household.get_by_id(martin.id).status == "closed"
    assert User.get_by_id(demo["users"]["martin"].id).password_hash is None
    assert Guardian.select().where(Guardian.household == martin).count() == 2


def test_needs_choices_follow_the_communes_activities(demo):
    keys = [key for key, _ in rules.needs_choices()]
    assert "garderie" in keys and any(key.startswith("cantine-") for key in keys)
