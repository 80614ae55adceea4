"""Changes to a validated household file: the parent proposes or withdraws them, staff accept or refuse them."""
from __future__ import annotations

import json

from peewee import JOIN

from models import ChangeRequest, Child, Guardian, Household, User
from services.core import audit, clock
from services.core.errors import DomainError, InvalidInput, NotFound
from services.core.transactions import write_transaction
from services.family.decisions import check_decision
from services.family.household import (
    VALIDATED_STATUSES,
    NotEditable,
    apply_values,
    change_lines,
    child_problems,
    describe_request,
    diff,
    guardian_problems,
    guardians_of,
)
from services.family.household_fields import CHILD_FIELDS, GUARDIAN_FIELDS, HOUSEHOLD_FIELDS, FileInvalid
from services.family.household_review import notify_family
from services.family.retention import erase_children_health


class AlreadyDecided(DomainError):
    """A request was already accepted or refused."""


def _refuse_incomplete(problems: dict[str, str]) -> None:
    if problems:
        raise FileInvalid(problems)


# --- Changes to a validated file --------------------------------------------------------------


def _request_or_apply(household: Household, user: User, target: str, obj, fields: dict, values: dict,
                      action: str = "update") -> str:
    """Apply directly on a draft; otherwise record a ChangeRequest. Returns applied/requested/unchanged."""
    if household.status == "draft":
        with write_transaction():
            apply_values(obj, values)
        return "applied"
    if household.status not in VALIDATED_STATUSES:
        raise NotEditable("Votre dossier est en attente de validation par la mairie : "
                          "vous pourrez le modifier une fois validé.")
    lines = diff(obj if action == "update" else None, fields, values)
    if not lines and action == "update":
        return "unchanged"
    with write_transaction():
        ChangeRequest.create(
            household=household, target=target, action=action,
            guardian=obj if isinstance(obj, Guardian) else None,
            child=obj if isinstance(obj, Child) else None,
            changes=json.dumps(lines, ensure_ascii=False), created_at=clock.local_now(), created_by=user)
    return "requested"


def change_household(household: Household, user: User, values: dict) -> str:
    """« Modifier » Mon foyer (clean values of the foyer fields)."""
    _refuse_incomplete({k: v for k, v in zip(
        ("organisme", "allocataire_number", "family_situation"), _household_required(values)) if v})
    return _request_or_apply(household, user, "household", household, HOUSEHOLD_FIELDS, values)


def _household_required(values: dict) -> list[str]:
    return [
        "" if values["organisme"] else "Indiquez l'organisme.",
        "" if values["allocataire_number"] or values["no_allocataire_number"] else
        "Indiquez le numéro d'allocataire ou cochez « Je n'ai pas de numéro d'allocataire ».",
        "" if values["family_situation"] else "Indiquez la situation familiale.",
    ]


def change_guardian(household: Household, user: User, guardian: Guardian | None, values: dict) -> str:
    """« Modifier » a responsable, or « Ajouter un conjoint » when guardian is None (clean values)."""
    if guardian is not None and guardian.household_id != household.id:
        raise NotFound("Responsable introuvable.")
    _refuse_incomplete(guardian_problems(values, "Responsable"))
    if guardian is None:
        if len(guardians_of(household)) >= 2:
            raise InvalidInput("Le foyer compte déjà deux responsables.", field="last_name")
        if household.status == "draft":
            with write_transaction():
                Guardian.create(household=household, position=1, **values)
            return "applied"
        return _request_or_apply(household, user, "guardian", None, GUARDIAN_FIELDS, values, "add_guardian")
    return _request_or_apply(household, user, "guardian", guardian, GUARDIAN_FIELDS, values)


def change_child(household: Household, user: User, child: Child | None, values: dict) -> str:
    """« Modifier » a child, or « Ajouter un enfant » when child is None: clean values of the identity,
    and of the fiche and its contacts when they were edited."""
    if child is not None and child.household_id != household.id:
        raise NotFound("Enfant introuvable.")
    _refuse_incomplete(child_problems(values))
    if child is None:
        if household.status == "draft":
            with write_transaction():
                new = Child.create(household=household, position=len(household.children_in_file()) + 1,
                                   **{k: v for k, v in values.items() if k not in ("contacts", "school", "diet")})
                apply_values(new, {k: v for k, v in values.items() if k in ("contacts", "school", "diet")})
            return "applied"
        return _request_or_apply(household, user, "child", None, CHILD_FIELDS, values, "add_child")
    return _request_or_apply(household, user, "child", child, CHILD_FIELDS, values)


def request_child_removal(household: Household, user: User, child: Child) -> str:
    """« Supprimer l'enfant » from a validated file: the mairie decides (bookings and invoices are kept)."""
    if child.household_id != household.id or child.archived:
        raise NotFound("Enfant introuvable.")
    if household.status == "draft":
        with write_transaction():
            child.delete_instance(recursive=True)
        return "applied"
    if household.status not in VALIDATED_STATUSES:
        raise NotEditable("Votre dossier est en attente de validation par la mairie.")
    lines = [{"field": "archived", "label": "Enfant retiré du dossier", "old": child.full_name, "new": "—",
              "value": True}]
    with write_transaction():
        ChangeRequest.create(household=household, target="child", action="remove_child", child=child,
                             changes=json.dumps(lines, ensure_ascii=False), created_at=clock.local_now(),
                             created_by=user)
    return "requested"


def certify_child(household: Household, user: User, child: Child) -> Child:
    """« Je certifie exactes les informations »: stamps the date of the last certification."""
    if child.household_id != household.id:
        raise NotFound("Enfant introuvable.")
    with write_transaction():
        child.certified_at = clock.local_now()
        child.save()
    return child


def withdraw_change(household: Household, request: ChangeRequest) -> None:
    """The parent cancels one of their pending changes."""
    if request.household_id != household.id:
        raise NotFound("Demande introuvable.")
    if request.status != "pending":
        raise AlreadyDecided("Cette demande a déjà été traitée par la mairie.")
    with write_transaction():
        request.delete_instance()


def pending_requests() -> list[ChangeRequest]:
    """Changes waiting for staff, oldest first, with their household and the guardian or child they
    concern (describe_request reads them): one query for the whole queue."""
    return list(ChangeRequest.select(ChangeRequest, Household, Guardian, Child)
                .join(Household, attr="household").switch(ChangeRequest)
                .join(Guardian, JOIN.LEFT_OUTER, on=(ChangeRequest.guardian == Guardian.id), attr="guardian")
                .switch(ChangeRequest)
                .join(Child, JOIN.LEFT_OUTER, on=(ChangeRequest.child == Child.id), attr="child")
                .where(ChangeRequest.status == "pending").order_by(ChangeRequest.created_at))


def decide_changes(staff: User, request_ids: list[int], accept: bool, reason: str = "") -> int:
    """Accept (apply) or refuse pending changes, one or several; the family is told by e-mail."""
    reason = check_decision(request_ids, accept, reason, "Cochez au moins une demande.")
    decided = []
    with write_transaction():
        for request in ChangeRequest.select().where(ChangeRequest.id.in_(request_ids)
                                                    & (ChangeRequest.status == "pending")):
            if accept:
                _apply_request(request)
            request.status = "accepted" if accept else "refused"
            request.reason = "" if accept else reason
            request.decided_at, request.decided_by = clock.local_now(), staff
            request.save()
            audit.record(staff, "modification acceptée" if accept else "modification refusée", request,
                  detail="; ".join(f"{line['label']} : {line['old']} → {line['new']}" for line in change_lines(request))
                  + (f" (motif : {reason})" if reason else ""))
            decided.append(request)
    for request in decided:
        what = describe_request(request)
        if accept:
            notify_family(request.household, "Votre modification a été acceptée",
                          f"La mairie a accepté votre modification : {what}.")
        else:
            notify_family(request.household, "Votre modification a été refusée",
                          f"La mairie a refusé votre modification : {what}. Motif : {reason}")
    return len(decided)


def _apply_request(request: ChangeRequest) -> None:
    values = {line["field"]: line["value"] for line in change_lines(request)}
    household = request.household
    if request.action == "update":
        target = {"household": household, "guardian": request.guardian, "child": request.child}[request.target]
        apply_values(target, values)
    elif request.action == "add_guardian":
        apply_values(Guardian(household=household, position=len(guardians_of(household))), values)
    elif request.action == "add_child":
        child = Child(household=household, position=len(household.children_in_file()) + 1)
        simple = {k: v for k, v in values.items() if k != "contacts"}
        apply_values(child, simple)
        if "contacts" in values:
            apply_values(child, {"contacts": values["contacts"]})
    elif request.action == "remove_child":
        Child.update(archived=True).where(Child.id == request.child_id).execute()
        erase_children_health([request.child_id])  # the child leaves: health data and documents go now
