"""Sign-up with an e-mailed 4-digit code, safe against takeover and enumeration.

A sign-up only ever creates a new account or restarts an unfinished one (never activated, never
invited, no household). For any other existing address nothing is changed: its owner is told by
e-mail that someone tried, and the person signing up sees exactly what a new sign-up sees (a code
page where every code is wrong). Codes, new codes and guesses are limited per address and per client
address, in the database, so the limits hold across web workers.
"""
from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets

from models import AccessToken, EmailCode, Household, User
from services.accounts import throttle
from services.accounts.users import check_email, check_password_rule, digest, hash_password
from services.core import clock, outbox
from services.core.errors import CodeExpired, InvalidCode, LoginThrottled
from services.core.transactions import lock_name, write_transaction

CODE_LIFETIME = dt.timedelta(minutes=30)
CODE_MAX_ATTEMPTS = 5  # wrong guesses before a code is void
TOO_MANY_CODES = "Trop de demandes de code pour cette adresse : réessayez dans une heure."
TOO_MANY_FROM_HERE = "Trop de tentatives depuis votre connexion : réessayez plus tard."


def is_unfinished_signup(user: User) -> bool:
    """An account only its own sign-up made and never finished: the only kind a sign-up may restart."""
    if user.activated or user.role != "parent" or user.household_id is not None or user.last_login_at:
        return False
    invited = AccessToken.select().where((AccessToken.user == user) & (AccessToken.purpose == "init")).exists()
    return not invited


def _new_code(user: User) -> str:
    now = clock.local_now()
    EmailCode.update(voided=True).where((EmailCode.user == user) & EmailCode.used_at.is_null()).execute()
    code = f"{secrets.randbelow(10000):04d}"
    EmailCode.create(user=user, code_hash=digest(f"{user.id}:{code}"), expires_at=now + CODE_LIFETIME,
                     created_at=now)
    return code


def _send_code(user: User, code: str, commune_name: str) -> None:
    outbox.send(user.email, "Code d'activation de votre compte",
                f"Bonjour,\n\nVous avez demandé à créer votre compte sur le portail famille de {commune_name}.\n\n"
                f"Voici votre code : {code}\n\nIl est valable 30 minutes.\n\n"
                "Si vous n'êtes pas à l'origine de cette demande, supprimez simplement ce message : "
                "sans ce code, personne ne peut poursuivre l'inscription.\n")


def _warn_owner(email: str, commune_name: str) -> None:
    outbox.send(email, "Tentative de création de compte avec votre adresse",
                f"Bonjour,\n\nQuelqu'un a demandé à créer un compte sur le portail famille de {commune_name} "
                "avec votre adresse e-mail, qui a déjà un compte. Rien n'a été modifié.\n\n"
                "Si c'était vous, connectez-vous avec votre mot de passe, ou utilisez « Mot de passe oublié ? » "
                "sur la page de connexion.\nSinon, vous pouvez ignorer ce message.\n")


def _check_limits(email: str, ip: str) -> None:
    if throttle.exceeded(throttle.SIGNUP_PER_IP, ip=ip):
        raise LoginThrottled(TOO_MANY_FROM_HERE)
    if throttle.exceeded(throttle.SIGNUP_PER_EMAIL, email=email):
        raise LoginThrottled(TOO_MANY_CODES, field="email")


def register(email: str, password: str, commune_name: str = "la commune", ip: str = "") -> str:
    """« Créer mon compte »: e-mail a code to a new address; returns the address for the code page."""
    email = check_email(email)
    check_password_rule(password)
    password_hash = hash_password(password)  # slow on purpose, outside the write lock, in every case
    with write_transaction():
        # A double submission waits here for the first, then restarts it as an unfinished sign-up
        # (no unique violation), and the per-address limit counts both.
        lock_name(f"compte:{email}")
        _check_limits(email, ip)
        throttle.record("signup", ip=ip, email=email)
        existing = User.get_or_none(User.email == email)
        if existing is None:
            user = User.create(email=email, password_hash=password_hash, role="parent")
            _send_code(user, _new_code(user), commune_name)
        elif is_unfinished_signup(existing):  # start again with the new password
            existing.password_hash = password_hash
            existing.save()
            _send_code(existing, _new_code(existing), commune_name)
        else:  # invited, active or staff: never touched
            _warn_owner(email, commune_name)
    return email


def resend_code(email: str, commune_name: str = "la commune", ip: str = "") -> None:
    """« Recevoir un nouveau code »: the previous one is voided; limited like sign-ups."""
    with write_transaction():
        lock_name(f"compte:{email}")
        _check_limits(email, ip)
        throttle.record("signup", ip=ip, email=email)
        user = User.get_or_none(User.email == email)
        if user is not None and is_unfinished_signup(user):
            _send_code(user, _new_code(user), commune_name)


def confirm_code(email: str, code: str, ip: str = "") -> User:
    """Activate the account when the code is right, fresh and not voided; the same refusals otherwise."""
    code = (code or "").strip()
    refusal: Exception | None = None
    # Wrong attempts must be committed, so the refusal is raised after the transaction.
    with write_transaction():
        # A double-submitted code waits for the first (one household); parallel guesses are all counted.
        lock_name(f"compte:{email}")
        if throttle.exceeded(throttle.CODE_PER_IP, ip=ip) or throttle.exceeded(throttle.CODE_PER_EMAIL, email=email):
            raise LoginThrottled(TOO_MANY_FROM_HERE)
        user = User.get_or_none(User.email == email)
        current = None
        if user is not None and is_unfinished_signup(user):
            current = (EmailCode.select()
                       .where((EmailCode.user == user) & EmailCode.used_at.is_null() & (EmailCode.voided == False))  # noqa: E712
                       .order_by(EmailCode.id.desc()).first())
        if current is not None and clock.local_now() > current.expires_at:
            refusal = CodeExpired("Ce code a expiré (validité 30 minutes) : demandez un nouveau code.")
        elif current is not None and re.fullmatch(r"\d{4}", code) and hmac.compare_digest(
                current.code_hash, digest(f"{user.id}:{code}")):
            current.used_at = clock.local_now()
            current.save()
            user.activated = True
            # The household file starts as a draft the parent fills in steps.
            user.household = Household.create(status="draft")
            user.save()
        else:
            throttle.record("code", ip=ip, email=email)
            refusal = _wrong_code(current, email)
    if refusal is not None:
        raise refusal
    return user


def _wrong_code(current: EmailCode | None, email: str) -> Exception:
    """The refusal for a wrong code; an address without a code gets the same answers, counted alike."""
    if current is not None:
        current.attempts += 1
        attempts = current.attempts
        if attempts >= CODE_MAX_ATTEMPTS:
            current.voided = True
        current.save()
    else:
        attempts = throttle.since_last("code", "signup", email)
    if attempts >= CODE_MAX_ATTEMPTS:
        return CodeExpired("Trop d'essais : ce code est annulé. Demandez un nouveau code.")
    left = CODE_MAX_ATTEMPTS - attempts
    return InvalidCode(f"Code incorrect. Il vous reste {left} essai{'s' if left > 1 else ''}.", field="code")
