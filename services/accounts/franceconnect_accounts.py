"""FranceConnect, the accounts: what a verified identity does. A linked parent is signed in; a parent account
with the same e-mail is linked only after its password is typed (never silently); otherwise a new parent
account is created from the identity. FranceConnect is for families: staff accounts are refused."""
from __future__ import annotations

from dataclasses import dataclass

from models import FranceConnectLink, Household, User
from services.accounts import users
from services.accounts.franceconnect import FranceConnectError, Identity
from services.accounts.signup import is_unfinished_signup
from services.core import audit, clock, events, outbox
from services.core.errors import InvalidInput, LoginRefused
from services.core.transactions import lock_name, write_transaction

SIGNED_IN, LINK_NEEDED, CREATED = "signed_in", "link_needed", "created"
STAFF_REFUSED = ("FranceConnect est réservé aux familles : les agents de la mairie se connectent avec leur adresse "
                 "e-mail et leur mot de passe.")
CIVILITIES = {"female": "Madame", "male": "Monsieur"}


@dataclass
class Outcome:
    """What the sign-in through FranceConnect led to, and for which account."""

    kind: str  # SIGNED_IN, LINK_NEEDED (the password of `user` is asked), CREATED
    user: User


def link_of(user: User) -> FranceConnectLink | None:
    return FranceConnectLink.get_or_none(FranceConnectLink.user == user)


def _refuse_unusable(user: User) -> None:
    if user.is_staff:
        raise FranceConnectError(STAFF_REFUSED)
    if user.household_id and user.household.status == "closed":
        raise FranceConnectError("Ce compte a été fermé par la mairie : adressez-vous à la mairie.")
    if user.deactivated_at is not None:
        raise FranceConnectError("Ce compte a été désactivé par la mairie : adressez-vous à un administrateur du "
                                 "portail.")


def _remember_identity(link: FranceConnectLink, identity: Identity) -> None:
    """The identity certified at this sign-in replaces the stored one (a name may have been corrected)."""
    link.given_name, link.family_name = identity.given_name, identity.family_name
    link.birthdate, link.gender, link.birthplace = identity.birthdate, identity.gender, identity.birthplace


def _signed_in(user: User, ip: str) -> User:
    user = users.sign_in_succeeded(user, ip)
    events.emit("sign_in_franceconnect", user=user.id, ip=ip or None)
    return user


def sign_in(identity: Identity, ip: str = "") -> Outcome:
    """The account this identity opens: linked (signed in), same e-mail (link to confirm), or a new one."""
    link = FranceConnectLink.get_or_none(FranceConnectLink.sub == identity.sub)
    if link is not None:
        user = link.user
        _refuse_unusable(user)
        with write_transaction():
            _remember_identity(link, identity)
            link.last_sign_in_at = clock.local_now()
            link.save()
            audit.record(user, "connexion avec FranceConnect", user)
        return Outcome(SIGNED_IN, _signed_in(user, ip))
    email = users.normalize_email(identity.email)
    if not email or not users.EMAIL_RE.match(email):
        raise FranceConnectError("FranceConnect n'a pas transmis d'adresse e-mail valable : créez votre compte avec "
                                 "votre adresse e-mail sur cette page.")
    existing = User.get_or_none(User.email == email)
    if existing is not None and not is_unfinished_signup(existing):
        _refuse_unusable(existing)
        if link_of(existing) is not None:
            raise FranceConnectError("Le compte de cette adresse est déjà relié à une autre identité FranceConnect : "
                                     "connectez-vous avec votre adresse e-mail et votre mot de passe.")
        if not existing.password_hash or not existing.activated:
            raise FranceConnectError("Un compte préparé par la mairie existe pour cette adresse mais n'a pas encore "
                                     "de mot de passe : ouvrez le lien reçu par e-mail (ou « Mot de passe oublié ? ») "
                                     "pour le définir, puis revenez vous identifier avec FranceConnect.")
        return Outcome(LINK_NEEDED, existing)
    return Outcome(CREATED, _signed_in(_create_account(identity, email), ip))


def _create_account(identity: Identity, email: str) -> User:
    """A new parent account from the verified identity: activated, no password, its household file a draft."""
    now = clock.local_now()
    with write_transaction():
        lock_name(f"compte:{email}")  # a sign-up of the same address waits, then finds this account
        user = User.get_or_none(User.email == email)
        if user is not None and not is_unfinished_signup(user):
            raise FranceConnectError("Un compte existe déjà pour cette adresse : recommencez pour le relier.")
        if user is None:
            user = User(email=email, role="parent", created_at=now)
        # An unfinished sign-up of this address is taken over: whoever typed its password never proved the
        # address, FranceConnect did; that password is dropped.
        user.password_hash = None
        user.first_name, user.last_name = identity.given_name, identity.family_name
        user.activated, user.household = True, Household.create(status="draft", created_at=now)
        user.save()
        link = FranceConnectLink(user=user, sub=identity.sub, created_account=True, linked_at=now,
                                 last_sign_in_at=now)
        _remember_identity(link, identity)
        link.save()
        audit.record(user, "création de compte avec FranceConnect", user)
    return user


def link_account(identity: Identity, user_id: int, password: str, ip: str = "") -> User:
    """« Lier mon compte »: the password of the account with FranceConnect's e-mail proves it is the same
    person; then the identity is linked and the parent signed in. Wrong passwords count as failed sign-ins."""
    user = User.get_or_none(User.id == user_id)
    if user is None or user.email != users.normalize_email(identity.email):
        raise FranceConnectError("La liaison a expiré : identifiez-vous à nouveau avec FranceConnect.")
    _refuse_unusable(user)
    try:
        signed = users.authenticate(user.email, password, ip=ip)
    except LoginRefused as refusal:
        raise InvalidInput(refusal.message, field="password") from refusal
    now = clock.local_now()
    with write_transaction():
        lock_name(f"franceconnect:{identity.sub}")
        if FranceConnectLink.select().where((FranceConnectLink.sub == identity.sub)
                                            | (FranceConnectLink.user == signed)).exists():
            raise FranceConnectError("Ce compte ou cette identité FranceConnect est déjà relié(e) : connectez-vous.")
        link = FranceConnectLink(user=signed, sub=identity.sub, linked_at=now, last_sign_in_at=now)
        _remember_identity(link, identity)
        link.save()
        audit.record(signed, "liaison FranceConnect", signed)
        outbox.send(signed.email, "FranceConnect est relié à votre compte",
                    "Bonjour,\n\nVotre compte du portail famille est désormais relié à FranceConnect : vous pouvez "
                    "vous connecter avec FranceConnect ou avec votre adresse e-mail et votre mot de passe.\n"
                    "Si vous n'êtes pas à l'origine de cette liaison, changez votre mot de passe et contactez la "
                    "mairie sans attendre.\n")
    events.emit("franceconnect_linked", user=signed.id, ip=ip or None)
    return signed


def unlink(user: User, password: str) -> None:
    """« Délier FranceConnect »: only for an account with a password (else it could no longer sign in)."""
    link = link_of(user)
    if link is None:
        raise InvalidInput("Votre compte n'est pas relié à FranceConnect.")
    if not user.password_hash:
        raise InvalidInput("Définissez d'abord un mot de passe : sans lui, vous ne pourriez plus vous connecter.")
    if not users.verify_password(user, password):
        raise InvalidInput("Mot de passe incorrect.", field="password")
    with write_transaction():
        FranceConnectLink.delete().where(FranceConnectLink.id == link.id).execute()
        audit.record(user, "FranceConnect délié", user)
        outbox.send(user.email, "FranceConnect n'est plus relié à votre compte",
                    "Bonjour,\n\nVotre compte du portail famille n'est plus relié à FranceConnect : connectez-vous "
                    "désormais avec votre adresse e-mail et votre mot de passe.\n")
    events.emit("franceconnect_unlinked", user=user.id)


def prefill(user: User) -> dict:
    """The first responsable's fields FranceConnect certified (civilité, nom, prénoms), for the household wizard."""
    link = link_of(user)
    if link is None:
        return {}
    values = {"last_name": link.family_name, "first_name": link.given_name,
              "civility": CIVILITIES.get(link.gender, "")}
    return {name: value for name, value in values.items() if value}
