"""The sweep: every route of the URL map × every role. Generated from the map, so a new route is
covered without anyone remembering to add it; a route whose id parameter the sweep cannot fill
fails the test until ID_SOURCES says where its ids come from."""
from __future__ import annotations

import re

import pytest

import models as m
from tests.conftest import Auth, csrf_token

ROLES = {"anonyme": None, "martin": "famille.martin@example.fr", "dupont": "famille.dupont@example.fr",
         "agent": "agent@example.fr", "regisseur": "regisseur@example.fr", "admin": "admin@example.fr",
         "cuisine": "cuisine@example.fr", "animateur": "animateur@example.fr"}
PARENT_AREAS = ("portal", "family", "enrolments", "reservations", "orders", "billing", "account")
PUBLIC_AREAS = ("public", "auth", "dev", "static")
# Parent routes reached without signing in on purpose (the bank's return and notification, the iCal feed).
OPEN_ENDPOINTS = {"billing.payment_notification", "billing.payment_return", "billing.dummy_bank", "reservations.ical"}
HUGE = "99999999999999999999"

# Where the sweep takes an id for each URL parameter: (model, household field or None).
ID_SOURCES = {
    "child_id": (m.Child, "household"), "guardian_id": (m.Guardian, "household"),
    "booking_id": (m.Booking, "household"), "order_id": (m.Order, "household"),
    "line_id": (m.BasketLine, "household"), "invoice_id": (m.Invoice, "household"),
    "payment_id": (m.Payment, "household"), "document_id": (m.FamilyDocument, "household"),
    "request_id": (m.ChangeRequest, "household"), "household_id": (m.Household, None),
    "activity_id": (m.Activity, None), "unit_id": (m.Unit, None), "closure_id": (m.Closure, None),
    "override_id": (m.CapacityOverride, None), "extra_id": (m.ExtraDay, None),
    "enrolment_id": (m.Enrolment, None), "declaration_id": (m.AbsenceDeclaration, None),
    "attendance_id": (m.Attendance, None), "mail_id": (m.OutgoingMail, None),
    "run_id": (m.InvoicingRun, None),
    "transaction_id": (m.OnlineTransaction, None), "member_id": (m.User, None),
    "school_id": (m.School, None), "regie_id": (m.Regie, None),
}
OTHER_VALUES = {"year": "2026", "token": "jeton-inconnu", "name": "logo-inconnu.png"}


# Signing out ends the sweep's own session: it has its own tests.
SKIPPED = {"static", "auth.logout"}


def _routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint not in SKIPPED:
            yield rule


def _area(endpoint: str) -> str:
    return endpoint.split(".")[0]


def _id_for(param: str, household_id: int | None, own: bool):
    """An id for a URL parameter: of the signed-in household (own) or of another one."""
    model, field = ID_SOURCES[param]
    query = model.select(model.id).order_by(model.id)
    if field and household_id:
        column = getattr(model, field)
        query = query.where(column == household_id if own else column != household_id)
    elif field is None and model is m.Household and household_id:
        query = query.where(model.id == household_id if own else model.id != household_id)
    row = query.first()
    return row.id if row else None


def _url(rule, values: dict) -> str:
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:\w+(?:\([^)]*\))?:)?{name}>", str(value), path)
    return path


def _expected(endpoint: str, role: str, status: int) -> bool:
    """The statuses a role may get on a route (beyond "never a 500")."""
    area = _area(endpoint)
    if area in PUBLIC_AREAS or endpoint in OPEN_ENDPOINTS:
        return status in (200, 302, 400, 404, 405)
    if role == "anonyme":
        return status == 302
    if area.startswith("staff"):
        if role in ("martin", "dupont"):
            return status == 404
        return status in (200, 302, 400, 403, 404)
    if area in PARENT_AREAS:
        return status in (200, 302, 400, 404)
    return False


@pytest.mark.parametrize("role", list(ROLES))
def test_every_route_answers_as_expected_for_every_role(app, demo, role):
    client = app.test_client()
    if ROLES[role]:
        Auth(client).login(ROLES[role])
    household_id = demo["households"][role].id if role in ("martin", "dupont") else None
    token = csrf_token(client, "/")
    problems = []
    for rule in _routes(app):
        params = sorted(rule.arguments - set(rule.defaults or ()))
        unknown = [p for p in params if p not in ID_SOURCES and p not in OTHER_VALUES]
        assert not unknown, f"{rule.rule}: the sweep does not know where ids for {unknown} come from (ID_SOURCES)"
        values = {p: OTHER_VALUES.get(p) or _id_for(p, household_id, own=True) for p in params}
        if any(v is None for v in values.values()):
            continue  # no such object in the demo (e.g. no absence declaration yet)
        url = _url(rule, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            if response.status_code >= 500 or not _expected(rule.endpoint, role, response.status_code):
                problems.append(f"{method} {url} → {response.status_code}")
    assert not problems, f"role {role}:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ["martin", "dupont"])
def test_another_households_objects_are_404(app, demo, role):
    client = app.test_client()
    Auth(client).login(ROLES[role])
    household_id = demo["households"][role].id
    token = csrf_token(client, "/")
    checked, problems = 0, []
    for rule in _routes(app):
        if _area(rule.endpoint) not in PARENT_AREAS or rule.endpoint in OPEN_ENDPOINTS:
            continue
        params = [p for p in rule.arguments - set(rule.defaults or ())
                  if p in ID_SOURCES and ID_SOURCES[p][1] == "household"]
        if not params:
            continue
        values = {p: _id_for(p, household_id, own=False) for p in params}
        values.update({p: OTHER_VALUES.get(p) or _id_for(p, household_id, own=True)
                       for p in rule.arguments if p not in values})
        if any(v is None for v in values.values()):
            continue
        url = _url(rule, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            checked += 1
            if response.status_code != 404:
                problems.append(f"{method} {url} → {response.status_code}")
    assert checked >= 10, "the sweep found too few parent routes with another household's ids"
    assert not problems, "another household's objects must answer 404:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ["martin", "admin"])
def test_ids_out_of_range_are_404(app, demo, role):
    client = app.test_client()
    Auth(client).login(ROLES[role])
    token = csrf_token(client, "/")
    problems = []
    for rule in _routes(app):
        int_params = [p for p in rule.arguments - set(rule.defaults or ()) if p in ID_SOURCES or p == "year"]
        if not int_params:
            continue
        for bad in (HUGE, "0", "-1"):
            values = {p: (bad if p in int_params else OTHER_VALUES.get(p, "x")) for p in rule.arguments}
            url = _url(rule, values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
                if response.status_code not in (302, 403, 404, 405):
                    problems.append(f"{method} {url} → {response.status_code}")
    assert not problems, "\n".join(problems)
