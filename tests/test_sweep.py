"""The sweep: every route of the URL map × every role. Generated from the map, so a new route is
covered without anyone remembering to add it; a route whose id parameter the sweep cannot fill
fails the test until ID_SOURCES says where its ids come from."""
from __future__ import annotations

import re

import pytest

import models as m
from blueprints import access, route_access
from tests.conftest import Auth, csrf_token

ROLES = {"anonyme": None, "martin": "famille.martin@example.fr", "dupont": "famille.dupont@example.fr",
         "agent": "agent@example.fr", "regisseur": "regisseur@example.fr", "admin": "admin@example.fr",
         "cuisine": "cuisine@example.fr", "animateur": "animateur@example.fr"}
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
    "thread_id": (m.Thread, "household"), "message_id": (m.Message, None),
    "news_id": (m.NewsItem, None), "publication_id": (m.PublishedDocument, None),
    "category_id": (m.PublicationCategory, None), "outing_id": (m.Outing, None),
    "care_request_id": (m.EarlyYearsRequest, "household"),
}
OTHER_VALUES = {"year": "2026", "token": "jeton-inconnu", "name": "logo-inconnu.png"}


# Signing out ends the sweep's own session: it has its own tests.
SKIPPED = {"static", "auth.logout"}


def _routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint not in SKIPPED:
            yield rule



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


def _expected(endpoint: str, method: str, role: str, response) -> bool:
    """What the role × route matrix (ACCESS in blueprints/route_access.py) promises this role on this route:
    refused exactly as check_access refuses, or let through to the view (which may still answer 400, or
    404 for an object that is not theirs — never 403)."""
    status, location = response.status_code, response.headers.get("Location", "")
    rule = access.rule_for(endpoint, method)
    let_through = status in (200, 302, 400, 404, 405) and "/connexion" not in location
    if rule == route_access.PUBLIC:
        return status in (200, 302, 400, 404, 405)
    if role == "anonyme":
        return status == 302 and "/connexion" in location
    if rule == route_access.SIGNED_IN:
        return let_through
    parent = role in ("martin", "dupont")
    if rule == route_access.PARENT:
        return let_through if parent else status == 302  # staff go to their own page
    if parent:
        return status == 404
    return let_through if role == "admin" or role in rule else status == 403


def test_every_endpoint_has_its_rule_in_the_matrix(app):
    """A new route cannot be forgotten: it answers 404 to everyone until ACCESS says who opens it."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(endpoints - set(route_access.ACCESS)) == [], "add these endpoints to ACCESS (blueprints/route_access.py)"
    assert sorted(set(route_access.ACCESS) - endpoints) == [], "ACCESS names endpoints that no longer exist"
    roles = {"agent", "regisseur", "cuisine", "animateur"}
    for endpoint, rule in route_access.ACCESS.items():
        for one in (rule.values() if isinstance(rule, dict) else [rule]):
            assert one in (route_access.PUBLIC, route_access.SIGNED_IN, route_access.PARENT) or set(one) <= roles, endpoint


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
            if response.status_code >= 500 or not _expected(rule.endpoint, method, role, response):
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
        if access.rule_for(rule.endpoint, "GET") != route_access.PARENT:
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
