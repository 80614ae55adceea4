"""Two-factor sign-in for staff: a TOTP application (RFC 6238, 6 digits, 30 s) and 10 single-use
recovery codes.

The secret is stored encrypted (AES-256-GCM) under a key derived from the application's SECRET_KEY and
the recovery codes as HMACs under another such key: a copy of the database alone neither yields the
codes nor lets anyone test guesses offline. Changing SECRET_KEY therefore voids every enrolment (an
administrator resets them on /gestion/equipe). Wrong codes count as failed sign-ins of the account
(services/accounts/throttle.py), and a code is accepted once: its time step is remembered."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass

import pyotp
import segno
from Cryptodome.Cipher import AES

from models import Commune, RecoveryCode, User
from services.accounts import users
from services.core import audit, clock, events, outbox
from services.core.errors import AccountLocked, DomainError, InvalidInput, LoginRefused, NotFound
from services.core.transactions import lock_name, write_transaction

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper
_keys: dict[str, bytes] = {}


class TwoFactorRequired(DomainError):
    """The commune requires two-factor sign-in for administrators: it cannot be turned off."""


class TwoFactorState(DomainError):
    """The action does not fit the account's state (already enabled, not enabled, nothing to confirm)."""


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret in groups of four, the otpauth:// link and its QR code."""

    secret: str
    uri: str
    qr_svg: str

    @property
    def grouped(self) -> str:
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


def configure(secret_key: str) -> None:
    """Derive this module's keys from the application's SECRET_KEY (config.configure_services)."""
    base = (secret_key or "").encode()
    _keys["secret"] = hashlib.sha256(b"portail-famille/totp-secret/v1\0" + base).digest()
    _keys["recovery"] = hashlib.sha256(b"portail-famille/recovery-code/v1\0" + base).digest()


def _key(name: str) -> bytes:
    if name not in _keys:
        raise RuntimeError("two_factor.configure(SECRET_KEY) n'a pas été appelé.")
    return _keys[name]


def encrypt_secret(secret: str) -> str:
    """The TOTP secret as stored: base64 of nonce, ciphertext and tag."""
    cipher = AES.new(_key("secret"), AES.MODE_GCM)
    ciphertext, tag = cipher.encrypt_and_digest(secret.encode())
    return "v1:" + base64.b64encode(cipher.nonce + ciphertext + tag).decode()


def decrypt_secret(stored: str) -> str | None:
    """The TOTP secret, or None when it cannot be read (none stored, or another SECRET_KEY)."""
    if not stored.startswith("v1:"):
        return None
    try:
        raw = base64.b64decode(stored[3:])
        cipher = AES.new(_key("secret"), AES.MODE_GCM, nonce=raw[:16])
        return cipher.decrypt_and_verify(raw[16:-16], raw[-16:]).decode()
    except (ValueError, KeyError):
        return None


def _recovery_hash(user_id: int, code: str) -> str:
    return hmac.new(_key("recovery"), f"{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def normalize_code(code: str) -> str:
    """What was typed, without spaces or dashes, lower case, full-width digits as ASCII (codes are read
    from phones and paper); any other character is dropped."""
    folded = unicodedata.normalize("NFKC", (code or "")[:64]).lower()
    return "".join(c for c in folded if c.isascii() and c.isalnum())[:32]


# --- State ---------------------------------------------------------------------------------------


def is_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None


def is_required(user: User, commune: Commune) -> bool:
    """The commune requires it of administrators."""
    return user.role == "admin" and bool(commune.admin_two_factor_required)


def must_enrol(user: User, commune: Commune) -> bool:
    """An administrator signed in without it while the commune requires it: only /gestion/securite opens."""
    return user.is_staff and not is_enabled(user) and is_required(user, commune)


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.select().where((RecoveryCode.user == user.id) & RecoveryCode.used_at.is_null()).count()


def _enrolment(user: User, secret: str) -> Enrolment:
    issuer = Commune.get_current().name or "Portail famille"
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
    qr = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff",
                                               title="QR code à scanner avec l'application d'authentification")
    return Enrolment(secret=secret, uri=uri, qr_svg=qr)


def pending_enrolment(user: User) -> Enrolment | None:
    """The enrolment started and not yet confirmed, to show again."""
    if is_enabled(user):
        return None
    secret = decrypt_secret(user.totp_secret or "")
    return _enrolment(user, secret) if secret else None


# --- Codes ---------------------------------------------------------------------------------------


def _time_step(secret: str, code: str, after: int) -> int | None:
    """The time step (now, or one step either side for clock drift) the 6-digit code belongs to, if
    it is later than `after` (a code already accepted is refused)."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(clock.now())
    for step in (now_step, now_step - 1, now_step + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept(user: User, code: str) -> str | None:
    """Check a code against the account and consume it (call in a write transaction, the account
    locked): "totp", "recovery" or None."""
    code = normalize_code(code)
    secret = decrypt_secret(user.totp_secret or "")
    if secret:
        step = _time_step(secret, code, user.totp_last_step or 0)
        if step is not None:
            User.update(totp_last_step=step).where(User.id == user.id).execute()
            user.totp_last_step = step
            return "totp"
    if len(code) == 10:
        row = RecoveryCode.get_or_none((RecoveryCode.user == user.id) & RecoveryCode.used_at.is_null()
                                       & (RecoveryCode.code_hash == _recovery_hash(user.id, code)))
        if row is not None:
            RecoveryCode.update(used_at=clock.local_now()).where(RecoveryCode.id == row.id).execute()
            return "recovery"
    return None


def _fresh(user_id: int) -> User:
    """The account read again under its lock (codes are single use even across parallel requests)."""
    lock_name(f"2fa:{user_id}")
    return User.get_by_id(user_id)


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the account's recovery codes (call in a write transaction); the new ones, to show once."""
    RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    now = clock.local_now()
    RecoveryCode.insert_many([{"user": user.id, "code_hash": _recovery_hash(user.id, code), "created_at": now}
                              for code in codes]).execute()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _refuse_code(user: User, what: str, ip: str = "") -> None:
    """A wrong code: audited, logged and counted like a wrong password (in a transaction of its own,
    after the attempt's, which wrote nothing)."""
    with write_transaction():
        locked = users.count_failed_sign_in(user.email, ip)
        audit.record(user, "code de double authentification refusé", user, what)
    events.emit("two_factor_failed", user=user.id, ip=ip or None, step=what, locked=locked or None)
    if locked:
        raise AccountLocked("Compte verrouillé pendant 15 minutes après trop d'échecs.")
    raise InvalidInput("Code incorrect ou déjà utilisé : saisissez le code affiché maintenant par "
                       "l'application, ou un code de secours.", field="code")


# --- Sign-in ------------------------------------------------------------------------------------


def sign_in_with_code(user_id: int, session_version: int, code: str, ip: str = "") -> User:
    """The second step of a sign-in: the account whose password was right, if the code is right too."""
    user = User.get_or_none(User.id == user_id)
    if (user is None or user.session_version != session_version or not is_enabled(user)
            or user.deactivated_at is not None):
        raise LoginRefused("Cette connexion n'est plus valable : saisissez à nouveau votre mot de passe.")
    users.check_not_throttled(user.email, ip)
    with write_transaction():
        user = _fresh(user.id)
        used = _accept(user, code)  # writes only when the code is right
        if used == "recovery":
            left = recovery_codes_left(user)
            audit.record(user, "code de secours utilisé", user, f"connexion ; {left} code(s) restant(s)")
            outbox.send(user.email, "Un code de secours a servi à vous connecter",
                        "Bonjour,\n\nUn code de secours vient de servir à vous connecter au portail famille "
                        f"(il en reste {left}).\nSi ce n'était pas vous, changez votre mot de passe et "
                        "prévenez un administrateur sans attendre.\n")
    if used is None:
        _refuse_code(user, "connexion", ip)
    if used == "recovery":
        events.emit("two_factor_recovery_used", user=user.id, ip=ip or None)
    return users.sign_in_succeeded(user, ip)


# --- The owner's page (/gestion/securite) -------------------------------------------------------


def start_enrolment(user: User) -> Enrolment:
    """A new secret, stored encrypted and not yet active: the owner scans it and types a first code."""
    if not user.is_staff:
        raise NotFound("La double authentification est réservée aux comptes de l'équipe.")
    secret = pyotp.random_base32()  # 32 characters: 160 bits
    with write_transaction():
        user = _fresh(user.id)
        if is_enabled(user):
            raise TwoFactorState("La double authentification est déjà activée sur ce compte.")
        User.update(totp_secret=encrypt_secret(secret), totp_last_step=0).where(User.id == user.id).execute()
    return _enrolment(user, secret)


def confirm_enrolment(user: User, code: str, ip: str = "") -> list[str]:
    """The first code proves the application holds the secret: enabled; the recovery codes, shown once."""
    with write_transaction():
        user = _fresh(user.id)
        if is_enabled(user) or not decrypt_secret(user.totp_secret or ""):
            raise TwoFactorState("Rien à confirmer : recommencez l'activation.")
        accepted = _accept(user, code) == "totp"
        if accepted:
            codes = _enable(user)
    if not accepted:
        _refuse_code(user, "activation", ip)
    events.emit("two_factor_enabled", user=user.id)
    return codes


def _enable(user: User) -> list[str]:
    """Switch it on after a first right code (call in a write transaction); the recovery codes."""
    User.update(totp_enabled_at=clock.local_now()).where(User.id == user.id).execute()
    codes = _new_recovery_codes(user)
    audit.record(user, "double authentification activée", user, user.email)
    outbox.send(user.email, "Double authentification activée",
                "Bonjour,\n\nLa double authentification est désormais activée sur votre compte du portail "
                "famille : chaque connexion demandera le code de votre application.\nSi vous n'êtes pas à "
                "l'origine de ce changement, prévenez un administrateur sans attendre.\n")
    return codes


def regenerate_recovery_codes(user: User, code: str, ip: str = "") -> list[str]:
    """New recovery codes against a code of the application; the previous ones stop working."""
    with write_transaction():
        user = _fresh(user.id)
        if not is_enabled(user):
            raise TwoFactorState("La double authentification n'est pas activée sur ce compte.")
        accepted = _accept(user, code) == "totp"
        if accepted:
            codes = _new_recovery_codes(user)
            audit.record(user, "codes de secours renouvelés", user, user.email)
    if not accepted:
        _refuse_code(user, "nouveaux codes de secours", ip)
    events.emit("two_factor_recovery_regenerated", user=user.id)
    return codes


def _switch_off(user: User) -> None:
    User.update(totp_secret="", totp_enabled_at=None, totp_last_step=0).where(User.id == user.id).execute()
    RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()


def disable(user: User, password: str, code: str, ip: str = "") -> None:
    """Turn it off with the password and a code (application or recovery); never for an administrator
    while the commune requires it."""
    if is_required(user, Commune.get_current()):
        raise TwoFactorRequired("La commune rend la double authentification obligatoire pour les "
                                "administrateurs : elle ne peut pas être désactivée.")
    if not users.verify_password(user, password):
        raise InvalidInput("Mot de passe incorrect.", field="password")
    with write_transaction():
        user = _fresh(user.id)
        if not is_enabled(user):
            raise TwoFactorState("La double authentification n'est pas activée sur ce compte.")
        used = _accept(user, code)
        if used is not None:
            _switch_off(user)
            audit.record(user, "double authentification désactivée", user,
                         "avec un code de secours" if used == "recovery" else "avec un code de l'application")
            outbox.send(user.email, "Double authentification désactivée",
                        "Bonjour,\n\nLa double authentification vient d'être désactivée sur votre compte du "
                        "portail famille.\nSi vous n'êtes pas à l'origine de ce changement, changez votre mot "
                        "de passe et prévenez un administrateur sans attendre.\n")
    if used is None:
        _refuse_code(user, "désactivation", ip)
    events.emit("two_factor_disabled", user=user.id, by=user.id)


def reset_for(admin: User | None, member_id: int) -> User:
    """An administrator turns it off for a colleague who lost their phone and codes; they enrol again
    (at once, if the commune requires it of administrators). Sessions of the colleague end. `admin`
    None: from the terminal (`flask --app app reset-two-factor`), for a last administrator locked out."""
    with write_transaction():
        target = User.get_or_none((User.id == member_id) & User.role.in_(User.STAFF_ROLES))
        if target is None:
            raise NotFound("Ce membre de l'équipe n'existe pas.")
        if admin is not None and target.id == admin.id:
            raise TwoFactorState("Pour votre propre compte, passez par la page « Sécurité ».")
        if not is_enabled(_fresh(target.id)):
            raise TwoFactorState(f"{target.display_name} n'a pas de double authentification à réinitialiser.")
        _switch_off(target)
        users.end_sessions(target)
        by = admin.display_name if admin is not None else "L'administrateur du serveur"
        audit.record(admin, "double authentification réinitialisée", target,
                     target.email if admin is not None else f"{target.email} (terminal)")
        outbox.send(target.email, "Double authentification réinitialisée",
                    f"Bonjour,\n\n{by} a réinitialisé la double authentification de votre compte "
                    "du portail famille. Connectez-vous avec votre mot de passe puis activez-la de nouveau sur "
                    "la page « Sécurité ».\n")
    events.emit("two_factor_disabled", user=target.id, by=admin.id if admin is not None else "terminal")
    return User.get_by_id(target.id)


def reset_by_email(email: str) -> User:
    """The terminal's reset (no administrator can sign in to do it): by the account's address."""
    target = User.get_or_none(User.email == users.normalize_email(email))
    return reset_for(None, target.id if target is not None else 0)
