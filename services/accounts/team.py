"""The town hall's team: staff accounts and their roles, starting with the first administrator.

An administrator invites a member (the account gets a « Définir un nouveau mot de passe » link by
e-mail), edits their name and role, deactivates or reactivates them. Two rules keep the portal
administrable: nobody deactivates or demotes themself, and the last active administrator stays one."""
from __future__ import annotations

import datetime as dt

from models import AccessToken, Activity, ActivityStaff, Commune, User
from services.accounts import users
from services.core import audit, clock, outbox
from services.core.errors import DomainError, EmailAlreadyUsed, InvalidInput, NotFound
from services.core.transactions import lock_name, write_transaction

ROLE_LABELS = {"admin": "Administrateur", "agent": "Agent", "regisseur": "Régisseur", "animateur": "Animateur",
               "cuisine": "Cuisine"}
STATE_LABELS = {"invited": "Invitation envoyée", "active": "Actif", "deactivated": "Désactivé"}


RESEND_INTERVAL = dt.timedelta(minutes=10)  # one new invitation link per member every 10 minutes at most


class TooSoon(DomainError):
    """An invitation was sent to this member a moment ago: no new mail yet."""


class OwnAccount(DomainError):
    """An administrator tried to deactivate or demote their own account."""


class LastAdministrator(DomainError):
    """The change would leave the portal without an active administrator."""


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def state(member: User) -> str:
    """invited (no password set yet), active or deactivated."""
    if member.deactivated_at is not None:
        return "deactivated"
    return "active" if member.activated and member.password_hash else "invited"


def state_label(member: User) -> str:
    return STATE_LABELS[state(member)]


def members() -> list[User]:
    """Every staff account, by last name then first name."""
    return list(User.select().where(User.role.in_(User.STAFF_ROLES))
                .order_by(User.last_name, User.first_name, User.email))


def member(member_id: int) -> User:
    """A staff account by id (a parent's account is not a team member: NotFound)."""
    found = User.get_or_none((User.id == member_id) & User.role.in_(User.STAFF_ROLES))
    if found is None:
        raise NotFound("Ce membre de l'équipe n'existe pas.")
    return found


def _check_names(first_name: str, last_name: str) -> tuple[str, str]:
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    if not first_name:
        raise InvalidInput("Indiquez le prénom.", field="first_name")
    if not last_name:
        raise InvalidInput("Indiquez le nom.", field="last_name")
    if len(first_name) > 80 or len(last_name) > 80:
        raise InvalidInput("Le prénom et le nom : 80 caractères au plus.", field="last_name")
    return first_name, last_name


def _check_role(role: str) -> str:
    if role not in ROLE_LABELS:
        raise InvalidInput("Choisissez un rôle dans la liste.", field="role")
    return role


def _other_active_admins(member_id: int) -> int:
    return User.select().where((User.role == "admin") & User.deactivated_at.is_null() & User.activated
                               & (User.id != member_id)).count()


def _keep_an_administrator(admin: User, target: User, leaves: str) -> None:
    """Refuse to deactivate or demote oneself, or the last active administrator (`leaves` names the change)."""
    if target.id == admin.id:
        raise OwnAccount(f"Vous ne pouvez pas {leaves} votre propre compte : demandez-le à un autre administrateur.")
    if target.role == "admin" and state(target) == "active" and _other_active_admins(target.id) == 0:
        raise LastAdministrator(f"Impossible de {leaves} le dernier administrateur actif : nommez d'abord "
                                "un autre administrateur.")


def create_admin(email: str, password: str, confirm: str, first_name: str = "", last_name: str = "") -> User:
    """An activated administrator account (`flask --app app create-admin`), under the CNIL password rule."""
    email = users.check_email(email)
    users.check_password_rule(password)
    if password != confirm:
        raise InvalidInput("Les deux mots de passe saisis sont différents.", field="confirm")
    digest = users.hash_password(password)  # slow on purpose: outside the write lock
    with write_transaction():
        lock_name(f"compte:{email}")  # the same lock as sign-up: one account per address
        if User.select().where(User.email == email).exists():
            raise EmailAlreadyUsed(f"Un compte existe déjà avec l'adresse {email} : rien n'a été créé.", field="email")
        now = clock.local_now()
        admin = User.create(email=email, role="admin", password_hash=digest, activated=True,
                            first_name=first_name.strip()[:80], last_name=last_name.strip()[:80],
                            password_changed_at=now, created_at=now)
        audit.record(None, "staff.create_admin", admin, f"{email} (terminal)")
    return admin


def invite_member(admin: User, email: str, first_name: str, last_name: str, role: str, link_for) -> User:
    """Create a staff account with a role; the member receives a link to set their password (7 days)."""
    email = users.check_email(email)
    first_name, last_name = _check_names(first_name, last_name)
    role = _check_role(role)
    with write_transaction():
        lock_name(f"compte:{email}")
        if User.select().where(User.email == email).exists():
            raise EmailAlreadyUsed("Un compte existe déjà avec cette adresse : rien n'a été créé.", field="email")
        created = User.create(email=email, role=role, first_name=first_name, last_name=last_name,
                              created_at=clock.local_now())
        token = users.invitation_token(created)
        audit.record(admin, "invitation d'un membre de l'équipe", created, f"{email} ({role_label(role)})")
        _invitation_mail(admin, created, link_for(token))
    return created


def _invitation_mail(admin: User, target: User, link: str) -> None:
    outbox.send(target.email, "Votre compte sur le portail famille",
                f"Bonjour {target.first_name},\n\n{admin.display_name} vous a ouvert un compte "
                f"« {role_label(target.role)} » sur le portail famille de {Commune.get_current().name}.\n"
                "Pour définir votre mot de passe, ouvrez ce lien (valable 7 jours, utilisable une seule "
                f"fois) :\n\n{link}\n")


def resend_invitation(admin: User, member_id: int, link_for) -> User:
    """A new set-password link for a member who has not set their password; the earlier links stop
    working (users.invitation_token). At most one every RESEND_INTERVAL, so nobody floods a mailbox."""
    with write_transaction():
        target = member(member_id)
        if state(target) != "invited":
            raise InvalidInput(f"{target.display_name} a déjà défini son mot de passe (ou son compte est "
                               "désactivé) : aucune invitation à renvoyer.")
        last = (AccessToken.select(AccessToken.created_at).where((AccessToken.user == target.id)
                                                                 & (AccessToken.purpose == "init"))
                .order_by(AccessToken.created_at.desc()).first())
        if last is not None and clock.local_now() - last.created_at < RESEND_INTERVAL:
            raise TooSoon(f"Une invitation vient d'être envoyée à {target.email} : attendez quelques minutes "
                          "avant d'en renvoyer une.")
        token = users.invitation_token(target)
        audit.record(admin, "invitation renvoyée à un membre de l'équipe", target, target.email)
        _invitation_mail(admin, target, link_for(token))
    return target


def led_activities(member_: User) -> list[Activity]:
    """The activities an animateur leads (attendance and lists of those only)."""
    return list(Activity.select().join(ActivityStaff).where(ActivityStaff.user == member_.id)
                .order_by(Activity.school_year.desc(), Activity.position, Activity.name))


def _set_led_activities(target: User, role: str, activity_ids) -> list[str]:
    """Replace the activities an animateur leads (none for another role); the changes, in words."""
    wanted = set(activity_ids or ()) if role == "animateur" else set()
    found = {a.id: a for a in Activity.select().where(Activity.id.in_(list(wanted)))} if wanted else {}
    if len(found) != len(wanted):
        raise InvalidInput("Choisissez des activités dans la liste.", field="activities")
    before = {a.id: a for a in led_activities(target)}
    if set(before) == wanted:
        return []
    ActivityStaff.delete().where(ActivityStaff.user == target.id).execute()
    for activity_id in sorted(wanted):
        ActivityStaff.create(user=target, activity=activity_id)
    names = ", ".join(found[i].name for i in sorted(wanted)) or "aucune"
    return [f"activités animées : {names}"]


def update_member(admin: User, member_id: int, first_name: str, last_name: str, role: str,
                  activity_ids=()) -> User:
    """Change a member's name, role and, for an animateur, the activities they lead (nobody demotes
    themself or the last active administrator)."""
    first_name, last_name = _check_names(first_name, last_name)
    role = _check_role(role)
    with write_transaction():
        target = member(member_id)
        changes = _set_led_activities(target, role, activity_ids)
        if role != target.role:
            if target.role == "admin":
                _keep_an_administrator(admin, target, "retirer le rôle d'administrateur à")
            changes.append(f"rôle : {role_label(target.role)} → {role_label(role)}")
        if (first_name, last_name) != (target.first_name, target.last_name):
            changes.append(f"nom : {target.display_name} → {first_name} {last_name}")
        if changes:
            User.update(first_name=first_name, last_name=last_name, role=role).where(User.id == target.id).execute()
            if role != target.role:
                users.end_sessions(target)  # the new role applies from the next sign-in, on every device
            audit.record(admin, "modification d'un membre de l'équipe", target, " ; ".join(changes))
    return member(member_id)


def deactivate(admin: User, member_id: int) -> User:
    """The member can no longer sign in; every session and remember-me cookie ends at once."""
    with write_transaction():
        target = member(member_id)
        if target.deactivated_at is not None:
            return target
        _keep_an_administrator(admin, target, "désactiver")
        User.update(deactivated_at=clock.local_now()).where(User.id == target.id).execute()
        users.end_sessions(target)
        audit.record(admin, "désactivation d'un compte de l'équipe", target, target.email)
    return member(member_id)


def reactivate(admin: User, member_id: int) -> User:
    """The member may sign in again with their password (or their invitation link)."""
    with write_transaction():
        target = member(member_id)
        if target.deactivated_at is None:
            return target
        User.update(deactivated_at=None).where(User.id == target.id).execute()
        audit.record(admin, "réactivation d'un compte de l'équipe", target, target.email)
    return member(member_id)
