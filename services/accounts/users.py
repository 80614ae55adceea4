"""Accounts: sign-up with an e-mailed code, sign-in with throttling, reset and invitation links."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models import AccessToken, Household, User
from models.prepared import prepared
from services.accounts import throttle
from services.core import audit, clock, events, outbox
from services.core.errors import (
    AccountLocked,
    EmailAlreadyUsed,
    InvalidInput,
    InvalidToken,
    LoginRefused,
    LoginThrottled,
    PasswordTooWeak,
)
from services.core.transactions import write_transaction

# argon2id with the library's RFC 9106 "low memory" defaults.
_hasher = PasswordHasher()
# A real hash to verify against when the account does not exist, so timing does not tell.
_DUMMY_HASH = _hasher.hash("compte-inexistant-Portail-2026!")

RESET_LIFETIME = dt.timedelta(hours=24)
INIT_LIFETIME = dt.timedelta(days=7)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SPECIALS = set(string.punctuation) | set(" €£§°µ²")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def check_email(email: str) -> str:
    """Return the normalised address or raise InvalidInput with a French message."""
    email = normalize_email(email)
    if not email:
        raise InvalidInput("Saisissez votre adresse e-mail.", field="email")
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise InvalidInput("Adresse e-mail invalide : vérifiez qu'elle a la forme nom@domaine.fr.", field="email")
    return email


def password_problem(password: str) -> str | None:
    """Why a password fails the CNIL 2022 rule, or None when it passes."""
    password = password or ""
    words = [w for w in re.split(r"[\s\-_.]+", password) if w]
    if len(password) >= 20 and len(words) >= 4:
        return None  # a passphrase
    if len(password) < 12:
        return ("Le mot de passe doit contenir au moins 12 caractères (majuscule, minuscule, chiffre "
                "et caractère spécial), ou être une phrase de passe d'au moins 4 mots et 20 caractères.")
    kinds = [
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ]
    if not all(kinds):
        return ("Le mot de passe doit mélanger majuscules, minuscules, chiffres et caractères spéciaux "
                "(ou être une phrase de passe d'au moins 4 mots et 20 caractères).")
    return None


def check_password_rule(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise PasswordTooWeak(problem, field="password")


WORDS = ("abricot", "balcon", "cerise", "dune", "etoile", "falaise", "girafe", "hibou", "iris",
         "jardin", "kayak", "lagon", "marelle", "nuage", "olive", "phare", "quai", "riviere",
         "sapin", "tulipe", "ursin", "voilier", "wagon", "xylophone", "yaourt", "zebre")


def generate_password() -> str:
    """A strong password that passes the rule: four words, a number and a sign."""
    words = [secrets.choice(WORDS).capitalize() for _ in range(4)]
    return "-".join(words) + f"-{secrets.randbelow(90) + 10}!"


def configure_hasher(**parameters) -> None:
    """Replace argon2id parameters (tests use cheap ones; production keeps the RFC 9106 defaults)."""
    global _hasher
    _hasher = PasswordHasher(**parameters)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Check a password; costs the same whether or not the user exists."""
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    return ok and user is not None and bool(user.password_hash)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- Sign-in -------------------------------------------------------------------------------


def _wait_text(delta: dt.timedelta) -> str:
    seconds = max(1, int(delta.total_seconds() + 0.999))
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def check_not_throttled(email: str, ip: str = "") -> None:
    """Raise LoginThrottled or AccountLocked while this address (or client address) must wait; the same
    limits hold for passwords and for second-step codes."""
    now = clock.local_now()
    if ip and throttle.exceeded(throttle.LOGIN_PER_IP, ip=ip):
        events.emit("sign_in_throttled", ip=ip, limit="address")
        raise LoginThrottled("Trop de tentatives depuis votre connexion : réessayez dans 15 minutes.")
    state = throttle.login_state(email)
    if state.locked_until or state.wait_until:
        events.emit("sign_in_throttled", ip=ip or None, limit="locked" if state.locked_until else "account")
    if state.locked_until:
        raise AccountLocked("Compte verrouillé après trop d'échecs : réessayez dans "
                            f"{_wait_text(state.locked_until - now)}, ou réinitialisez votre mot de passe.")
    if state.wait_until:
        raise LoginThrottled(f"Trop de tentatives : patientez {_wait_text(state.wait_until - now)} avant de réessayer.")


def count_failed_sign_in(email: str, ip: str = "") -> bool:
    """Count one failed attempt, password or code (call in a write transaction); True when the address
    now locks."""
    throttle.record("login", ip=ip, email=email)
    return throttle.login_failed(email)


_stamp_sign_in = prepared(lambda user, at: User.update(last_login_at=at).where(User.id == user))


def sign_in_succeeded(user: User, ip: str = "") -> User:
    """The last step of a sign-in passed: the address starts afresh and the sign-in is recorded."""
    now = clock.local_now()
    with write_transaction():  # on PostgreSQL both writes travel with the COMMIT: one round trip
        throttle.login_cleared(user.email)
        _stamp_sign_in.say(user.id, now)
    user.last_login_at = now
    events.emit("sign_in", user=user.id, role=user.role, ip=ip or None)
    return user


def authenticate(email: str, password: str, ip: str = "") -> User:
    """Return the user for good credentials; raise LoginRefused (throttled, locked or wrong).

    Unknown addresses are throttled and locked exactly like real ones: the answers never tell
    whether an account exists. An account with two-factor sign-in is returned with nothing recorded
    yet: the failures stay counted until its code is right (services/accounts/two_factor.py)."""
    email = normalize_email(email)
    # Reads and the (slow) hash check happen before the write lock is taken.
    check_not_throttled(email, ip)
    user = User.get_or_none(User.email == email) if email else None
    password_ok = verify_password(user, password)
    if password_ok and user.activated and user.deactivated_at is not None:
        # Only the right password learns it: the answer says nothing to someone guessing.
        events.emit("sign_in_failed", user=user.id, ip=ip or None)
        raise LoginRefused("Ce compte a été désactivé par la mairie : adressez-vous à un administrateur du portail.")
    if password_ok and user.activated:
        if user.totp_enabled_at is not None:
            events.emit("sign_in_password_ok", user=user.id, ip=ip or None)
            return user
        return sign_in_succeeded(user, ip)
    refusal = LoginRefused("Adresse e-mail ou mot de passe incorrect.")
    with write_transaction():
        if count_failed_sign_in(email, ip):
            refusal = AccountLocked("Compte verrouillé pendant 15 minutes après trop d'échecs.")
        elif user is not None and not user.activated and password_ok:
            refusal = LoginRefused("Votre compte n'est pas encore activé : saisissez le code reçu par e-mail.")
    # The account id when the address has one: never the address or the password typed.
    events.emit("account_locked" if isinstance(refusal, AccountLocked) else "sign_in_failed",
                user=user.id if user else None, ip=ip or None)
    raise refusal


def end_sessions(user: User) -> None:
    """Every session and remember-me cookie of this account stops working (call in a write transaction)."""
    User.update(session_version=User.session_version + 1).where(User.id == user.id).execute()
    user.session_version = User.get_by_id(user.id).session_version


def sign_out(user: User) -> None:
    """« Se déconnecter »: this session and any copy of its cookies end."""
    with write_transaction():
        end_sessions(user)
    events.emit("sign_out", user=user.id)


# --- Links: password reset and account initialisation --------------------------------------


def _issue_token(user: User, purpose: str, lifetime: dt.timedelta) -> str:
    now = clock.local_now()
    AccessToken.update(used_at=now).where(
        (AccessToken.user == user) & (AccessToken.purpose == purpose) & AccessToken.used_at.is_null()).execute()
    token = secrets.token_urlsafe(32)
    AccessToken.create(user=user, purpose=purpose, token_hash=digest(token), expires_at=now + lifetime,
                       created_at=now)
    return token


def invitation_token(user: User) -> str:
    """A new « Définir un nouveau mot de passe » link token for an invited account, valid 7 days
    (call in a write transaction; earlier unused links of the account stop working)."""
    return _issue_token(user, "init", INIT_LIFETIME)


def request_password_reset(email: str, link_for, ip: str = "") -> None:
    """E-mail a reset link if the address has an account; the same work and answer otherwise.

    A few requests per address and per client address an hour: beyond, nothing is sent (and the
    answer is the same), so nobody can flood a mailbox through the portal."""
    email = normalize_email(email)
    with write_transaction():
        flooded = throttle.exceeded(throttle.RESET_PER_EMAIL, email=email) or throttle.exceeded(
            throttle.RESET_PER_IP, ip=ip)
        throttle.record("reset", ip=ip, email=email)
        user = User.get_or_none(User.email == email) if email else None
        if user is None or flooded:
            return
        token = _issue_token(user, "reset", RESET_LIFETIME)
        outbox.send(user.email, "Réinitialisation de votre mot de passe",
                    "Bonjour,\n\nPour choisir un nouveau mot de passe, ouvrez ce lien (valable 24 heures, "
                    f"utilisable une seule fois) :\n\n{link_for(token)}\n\n"
                    "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe reste inchangé.\n")


def user_for_token(token: str, purpose: str) -> User:
    """The user a valid, unused, unexpired token belongs to."""
    row = AccessToken.get_or_none((AccessToken.token_hash == digest(token or "")) & (AccessToken.purpose == purpose))
    if row is None or row.used_at is not None or clock.local_now() > row.expires_at:
        raise InvalidToken("Ce lien n'est plus valable (déjà utilisé ou expiré). Faites une nouvelle demande.")
    return row.user


def set_password_with_token(token: str, purpose: str, password: str, confirm: str) -> User:
    """Consume a link token and set the new password (activates an invited account)."""
    user_for_token(token, purpose)
    if password != confirm:
        raise InvalidInput("Les deux mots de passe ne sont pas identiques.", field="confirm")
    check_password_rule(password)
    password_hash = hash_password(password)  # outside the write lock
    with write_transaction():
        user = user_for_token(token, purpose)  # again under the lock: single use
        AccessToken.update(used_at=clock.local_now()).where(
            (AccessToken.token_hash == digest(token)) & AccessToken.used_at.is_null()).execute()
        user.password_hash = password_hash
        user.activated = True
        user.password_changed_at = clock.local_now()
        user.save()
        throttle.login_cleared(user.email)  # the owner opens a locked account through the link
        end_sessions(user)
    return user


def invite_parent(staff: User, email: str, first_name: str, last_name: str, household: Household | None,
                  link_for, commune_name: str = "la commune") -> User:
    """Staff create a parent account for a known family; the parent sets a password by link."""
    email = check_email(email)
    if not (first_name or "").strip() or not (last_name or "").strip():
        raise InvalidInput("Indiquez le prénom et le nom du parent.", field="last_name")
    with write_transaction():
        if User.get_or_none(User.email == email) is not None:
            raise EmailAlreadyUsed("Un compte existe déjà avec cette adresse.", field="email")
        if household is None:
            household = Household.create(name=f"Famille {last_name.strip().upper()}", status="validated",
                                         validated_at=clock.local_now(), created_at=clock.local_now())
        user = User.create(email=email, role="parent", first_name=first_name.strip(), last_name=last_name.strip(),
                           household=household, created_at=clock.local_now())
        token = invitation_token(user)
        audit.record(staff, "création de compte parent", user, detail=email)
        outbox.send(email, "Votre compte sur le portail famille",
                    f"Bonjour,\n\nLa mairie a créé votre compte sur le portail famille de {commune_name}.\n"
                    "Pour définir votre mot de passe, ouvrez ce lien (valable 7 jours, utilisable une seule fois) :\n\n"
                    f"{link_for(token)}\n")
    return user


# --- Access codes: e-mail and password ----------------------------------------------------


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """Change the password after checking the current one; notify the account's address."""
    if not verify_password(user, current):
        raise InvalidInput("Mot de passe actuel incorrect.", field="current_password")
    if new != confirm:
        raise InvalidInput("Les deux mots de passe ne sont pas identiques.", field="confirm")
    check_password_rule(new)
    password_hash = hash_password(new)  # outside the write lock
    with write_transaction():
        user.password_hash = password_hash
        user.password_changed_at = clock.local_now()
        user.save()
        end_sessions(user)  # other sessions and remember-me cookies end; the view signs this one in again
        outbox.send(user.email, "Votre mot de passe a été modifié",
                    "Bonjour,\n\nLe mot de passe de votre compte sur le portail famille vient d'être modifié.\n"
                    "Si vous n'êtes pas à l'origine de ce changement, contactez la mairie sans attendre.\n")


def change_email(user: User, current: str, new_email: str) -> None:
    """Change the sign-in address after checking the password; notify the old address."""
    if not verify_password(user, current):
        raise InvalidInput("Mot de passe actuel incorrect.", field="current_password")
    new_email = check_email(new_email)
    old_email = user.email
    if new_email == old_email:
        raise InvalidInput("C'est déjà votre adresse actuelle.", field="email")
    with write_transaction():
        if User.get_or_none(User.email == new_email) is not None:
            raise EmailAlreadyUsed("Cette adresse est déjà utilisée par un autre compte.", field="email")
        user.email = new_email
        user.save()
        end_sessions(user)
        outbox.send(old_email, "Votre adresse de connexion a été modifiée",
                    f"Bonjour,\n\nL'adresse de connexion de votre compte est désormais {new_email}.\n"
                    "Si vous n'êtes pas à l'origine de ce changement, contactez la mairie sans attendre.\n")
