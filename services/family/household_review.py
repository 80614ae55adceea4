"""Staff work on household files: validating submitted files, direct edits, account closures, search."""
from __future__ import annotations

from peewee import prefetch

from models import Child, FranceConnectLink, Guardian, Household, User
from services.core import audit, clock, outbox
from services.core.transactions import write_transaction
from services.family.decisions import check_decision
from services.family.household import NotEditable, apply_values, diff
from services.family.household_fields import CHILD_FIELDS, GUARDIAN_FIELDS, HEALTH_FIELDS, HOUSEHOLD_FIELDS
from services.family.retention import erase_at_closure

# --- Staff decisions on submitted files -------------------------------------------------------


def notify_family(household: Household, subject: str, body: str) -> None:
    for email in household.parent_emails():
        outbox.send(email, subject, "Bonjour,\n\n" + body + "\n\nConnectez-vous au portail famille pour le consulter.\n")


def decide_files(staff: User, household_ids: list[int], accept: bool, reason: str = "") -> int:
    """Validate or refuse submitted files (one or several); refused files go back to draft with the reason."""
    reason = check_decision(household_ids, accept, reason, "Cochez au moins un dossier.")
    decided = []
    with write_transaction():
        for household in Household.select().where(Household.id.in_(household_ids) & (Household.status == "submitted")):
            if accept:
                household.status, household.validated_at, household.refusal_reason = "validated", clock.local_now(), ""
            else:
                household.status, household.refusal_reason = "draft", reason
            household.save()
            audit.record(staff, "dossier famille validé" if accept else "dossier famille refusé", household, detail=reason)
            decided.append(household)
        for household in decided:
            if accept:
                notify_family(household, "Votre dossier famille est validé",
                              "La mairie a validé votre dossier famille : vous pouvez inscrire vos enfants aux services.")
            else:
                notify_family(household, "Votre dossier famille est à compléter",
                              f"La mairie n'a pas pu valider votre dossier famille. Motif : {reason}")
    return len(decided)


# --- Staff direct edits (logged) --------------------------------------------------------------


def staff_edit(staff: User, obj, fields: dict, values: dict) -> int:
    """A staff member edits a file directly (clean values): applied at once, each change written to the
    audit log. The forms see to it that a field missing from the request is refused, never cleared."""
    lines = diff(obj, fields, values)
    if not lines:
        return 0
    with write_transaction():
        apply_values(obj, values)
        audit.record(staff, "modification du dossier famille par la mairie", obj,
              detail="; ".join(f"{line['label']} : {line['old']} → {line['new']}" for line in lines))
    return len(lines)


def staff_edit_household(staff: User, household: Household, values: dict) -> int:
    return staff_edit(staff, household, HOUSEHOLD_FIELDS, values)


def staff_edit_guardian(staff: User, guardian: Guardian, values: dict) -> int:
    return staff_edit(staff, guardian, GUARDIAN_FIELDS, values)


def staff_edit_child(staff: User, child: Child, values: dict, with_health: bool) -> int:
    """Health fields are only written by staff allowed to see them (others keep the stored values)."""
    if not with_health:
        values = {name: value for name, value in values.items() if name not in HEALTH_FIELDS}
    return staff_edit(staff, child, CHILD_FIELDS, values)


# --- Account closure --------------------------------------------------------------------------


def request_closure(household: Household, user: User) -> Household:
    """« Supprimer mon compte »: a request to the mairie; billing data is never deleted at once."""
    if household.status in ("closing_requested", "closed"):
        raise NotEditable("Votre demande de suppression du compte est déjà enregistrée.")
    with write_transaction():
        Household.update(status="closing_requested", status_before_closing=household.status,
                         closing_requested_at=clock.local_now()).where(Household.id == household.id).execute()
        audit.record(user, "demande de suppression du compte", household)
    return Household.get_by_id(household.id)


def decide_closures(staff: User, household_ids: list[int], accept: bool, reason: str = "") -> int:
    """Close accounts (logins disabled, health data and documents erased at once, invoices kept; the identity
    goes when the retention period is over, services.family.retention) or refuse with a reason."""
    reason = check_decision(household_ids, accept, reason, "Cochez au moins une demande.")
    decided = []
    with write_transaction():
        for household in Household.select().where(Household.id.in_(household_ids)
                                                   & (Household.status == "closing_requested")):
            emails = household.parent_emails()
            if accept:
                household.status, household.closed_at = "closed", clock.local_now()
                # Logins disabled and every open session ended (session version bumped).
                User.update(password_hash=None, session_version=User.session_version + 1).where(
                    User.household == household).execute()
                FranceConnectLink.delete().where(FranceConnectLink.user.in_(
                    User.select(User.id).where(User.household == household))).execute()  # nor through FranceConnect
                detail = erase_at_closure(household)
            else:
                household.status = household.status_before_closing or "validated"
                household.refusal_reason = detail = reason
            household.save()
            audit.record(staff, "compte fermé" if accept else "fermeture du compte refusée", household, detail=detail)
            decided.append((household, emails))
        for household, emails in decided:
            for email in emails:
                if accept:
                    outbox.send(email, "Votre compte a été fermé",
                                "Bonjour,\n\nLa mairie a fermé votre compte sur le portail famille. Vos factures restent "
                                "conservées par la mairie ; contactez-la pour toute question.\n")
                else:
                    outbox.send(email, "Votre demande de suppression du compte",
                                f"Bonjour,\n\nLa mairie n'a pas fermé votre compte. Motif : {reason}\n")
    return len(decided)


# --- Staff search -----------------------------------------------------------------------------


def _matching(query: str, status: str = ""):
    """Households (by name) whose name, child, responsable or login e-mail contains the query."""
    rows = Household.select().order_by(Household.name, Household.id)
    if status:
        rows = rows.where(Household.status == status)
    query = (query or "").strip()
    if query:
        like = f"%{query}%"
        children = Child.select(Child.household).where(Child.first_name.ilike(like) | Child.last_name.ilike(like))
        guardians = Guardian.select(Guardian.household).where(
            Guardian.last_name.ilike(like) | Guardian.first_name.ilike(like) | Guardian.email.ilike(like))
        users = User.select(User.household).where(User.email.ilike(like) & User.household.is_null(False))
        rows = rows.where(Household.name.ilike(like) | Household.id.in_(children) | Household.id.in_(guardians)
                          | Household.id.in_(users))
    return rows


def search_households(query: str = "", status: str = "") -> list[Household]:
    """Households whose name, child, responsable or login e-mail contains the query."""
    return prefetch(_matching(query, status).limit(200), Child.select().order_by(Child.id))  # h.children: one query


def household_choices(query: str = "", selected: int | None = None, limit: int = 30) -> list[Household]:
    """The households a staff form's « Foyer » list offers: the one already chosen (if it exists), then
    at most `limit` matching the search (as search_households); none without a search, so the list
    stays short however many households the commune has."""
    rows = []
    if selected is not None and 0 < selected < 2 ** 63:
        rows = list(Household.select().where(Household.id == selected))
    if (query or "").strip():
        rows += [h for h in _matching(query).limit(limit) if h.id != selected]
    return rows


def files_waiting() -> list[Household]:
    """Submitted files, oldest first, with h.guardians and h.children (not archived) in display
    order: three queries for the whole queue."""
    return prefetch(Household.select().where(Household.status == "submitted").order_by(Household.submitted_at),
                    Guardian.select().order_by(Guardian.position, Guardian.id),
                    Child.select().where(Child.archived == False).order_by(Child.position, Child.id))  # noqa: E712


STATUS_LABELS = {
    "draft": "En cours de saisie",
    "submitted": "En attente de validation",
    "validated": "Validé",
    "closing_requested": "Suppression demandée",
    "closed": "Fermé",
}
