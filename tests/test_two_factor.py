"""Two-factor sign-in, the rules (services/accounts/two_factor.py): codes accepted once, wrong codes
throttled like passwords, recovery codes single use, the secret stored encrypted, the commune's rule
for administrators, an administrator's reset of a colleague."""
from __future__ import annotations

import logging

import pyotp
import pytest

from models import AuditLog, Commune, LoginThrottle, RecoveryCode, User
from services.accounts import throttle, two_factor, users
from services.core import clock
from services.core.errors import AccountLocked, InvalidInput, LoginRefused, LoginThrottled, NotFound
from services.demo import DEMO_PASSWORD


def code_now(secret: str, shift: int = 0) -> str:
    """The code the application shows at the portal's (frozen) time, `shift` steps later."""
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(clock.now()) + shift)


def enrol(user: User) -> tuple[str, list[str]]:
    """Enable two-factor sign-in for a user; its secret and recovery codes."""
    secret = two_factor.start_enrolment(user).secret
    codes = two_factor.confirm_enrolment(user, code_now(secret))
    return secret, codes


def fresh(user: User) -> User:
    return User.get_by_id(user.id)


@pytest.fixture
def agent(demo):
    return User.get(User.email == "agent@example.fr")


@pytest.fixture
def admin(demo):
    return User.get(User.email == "admin@example.fr")


def test_enrolment_stores_the_secret_encrypted_and_ten_hashed_recovery_codes(agent):
    enrolment = two_factor.start_enrolment(agent)
    stored = fresh(agent).totp_secret
    assert enrolment.secret not in stored and stored.startswith("v1:")
    assert two_factor.decrypt_secret(stored) == enrolment.secret
    assert enrolment.uri.startswith("otpauth://totp/") and "<svg" in enrolment.qr_svg
    assert not two_factor.is_enabled(fresh(agent))  # not before a first code

    codes = two_factor.confirm_enrolment(agent, code_now(enrolment.secret))
    assert two_factor.is_enabled(fresh(agent))
    assert len(codes) == 10 and len(set(codes)) == 10
    hashes = [row.code_hash for row in RecoveryCode.select().where(RecoveryCode.user == agent.id)]
    assert len(hashes) == 10 and not any(code.replace("-", "") in h for code in codes for h in hashes)
    assert AuditLog.get(AuditLog.action == "double authentification activée").user_id == agent.id


def test_another_secret_key_cannot_read_the_secret(agent, app):
    enrolment = two_factor.start_enrolment(agent)
    two_factor.configure("une-autre-clé")
    try:
        assert two_factor.decrypt_secret(fresh(agent).totp_secret) is None
    finally:
        two_factor.configure(app.config["SECRET_KEY"])
    assert two_factor.decrypt_secret(fresh(agent).totp_secret) == enrolment.secret


def test_a_wrong_first_code_enables_nothing(agent):
    two_factor.start_enrolment(agent)
    with pytest.raises(InvalidInput):
        two_factor.confirm_enrolment(agent, "000000")
    assert not two_factor.is_enabled(fresh(agent))
    assert RecoveryCode.select().count() == 0


def test_code_accepted_then_replay_refused(agent, freeze):
    secret, _ = enrol(agent)
    freeze("2026-11-29T11:01")
    code = code_now(secret)
    assert two_factor.sign_in_with_code(agent.id, agent.session_version, code).id == agent.id
    assert fresh(agent).last_login_at == clock.local_now()
    with pytest.raises(InvalidInput, match="déjà utilisé"):
        two_factor.sign_in_with_code(agent.id, agent.session_version, code)
    # The step before the last one accepted is refused too (drift window, not a replay window).
    with pytest.raises(InvalidInput):
        two_factor.sign_in_with_code(agent.id, agent.session_version, code_now(secret, -1))
    freeze("2026-11-29T11:02")
    assert two_factor.sign_in_with_code(agent.id, agent.session_version, code_now(secret))


def test_the_enrolment_code_cannot_sign_in_again(agent):
    secret = two_factor.start_enrolment(agent).secret
    code = code_now(secret)
    two_factor.confirm_enrolment(agent, code)
    with pytest.raises(InvalidInput):
        two_factor.sign_in_with_code(agent.id, agent.session_version, code)


def test_wrong_codes_are_throttled_like_passwords_then_lock(agent, freeze, caplog):
    secret, _ = enrol(agent)
    caplog.set_level(logging.INFO, logger="portail.events")
    for attempt in range(throttle.THROTTLE_AFTER):
        with pytest.raises(InvalidInput):
            two_factor.sign_in_with_code(agent.id, agent.session_version, "123456" if attempt else "999999")
    assert LoginThrottle.get(LoginThrottle.email == agent.email).failures == throttle.THROTTLE_AFTER
    # The next attempt, even with the right code, must wait: the same rule as passwords.
    with pytest.raises(LoginThrottled):
        two_factor.sign_in_with_code(agent.id, agent.session_version, code_now(secret))
    with pytest.raises(LoginThrottled):  # and the password step waits as well
        users.authenticate(agent.email, DEMO_PASSWORD)
    for _ in range(throttle.LOCK_AFTER - throttle.THROTTLE_AFTER):
        freeze(clock.local_now() + throttle.wait_after(throttle.LOCK_AFTER))
        with pytest.raises((InvalidInput, AccountLocked)):
            two_factor.sign_in_with_code(agent.id, agent.session_version, "000001")
    with pytest.raises(AccountLocked):
        two_factor.sign_in_with_code(agent.id, agent.session_version, code_now(secret))
    assert AuditLog.select().where(AuditLog.action == "code de double authentification refusé").count() == 10
    assert any(r.event == "two_factor_failed" for r in caplog.records if r.name == "portail.events")


def test_right_code_clears_the_failures(agent, freeze):
    secret, _ = enrol(agent)
    freeze("2026-11-29T11:01")
    with pytest.raises(InvalidInput):
        two_factor.sign_in_with_code(agent.id, agent.session_version, "111111")
    two_factor.sign_in_with_code(agent.id, agent.session_version, code_now(secret))
    assert LoginThrottle.get_or_none(LoginThrottle.email == agent.email) is None


def test_password_of_an_enrolled_account_records_no_sign_in_yet(agent):
    enrol(agent)
    before = fresh(agent).last_login_at
    assert users.authenticate(agent.email, DEMO_PASSWORD).id == agent.id
    assert fresh(agent).last_login_at == before


def test_recovery_code_is_single_use(agent, caplog):
    _, codes = enrol(agent)
    caplog.set_level(logging.INFO, logger="portail.events")
    two_factor.sign_in_with_code(agent.id, agent.session_version, codes[0].upper().replace("-", " "))
    assert two_factor.recovery_codes_left(fresh(agent)) == 9
    with pytest.raises(InvalidInput):
        two_factor.sign_in_with_code(agent.id, agent.session_version, codes[0])
    assert AuditLog.get(AuditLog.action == "code de secours utilisé").detail == "connexion ; 9 code(s) restant(s)"
    assert any(r.event == "two_factor_recovery_used" for r in caplog.records if r.name == "portail.events")


def test_a_stale_pending_sign_in_is_refused(agent):
    secret, _ = enrol(agent)
    version = agent.session_version
    users.sign_out(agent)  # session version bumped: the pending sign-in was for the old one
    with pytest.raises(LoginRefused, match="plus valable"):
        two_factor.sign_in_with_code(agent.id, version, code_now(secret, 1))


def test_renewed_recovery_codes_void_the_old_ones(agent, freeze):
    secret, old = enrol(agent)
    freeze("2026-11-29T11:01")
    new = two_factor.regenerate_recovery_codes(agent, code_now(secret))
    assert set(new).isdisjoint(old)
    with pytest.raises(InvalidInput):
        two_factor.sign_in_with_code(agent.id, agent.session_version, old[1])
    two_factor.sign_in_with_code(agent.id, agent.session_version, new[1])


def test_disable_needs_password_and_code(agent, freeze):
    secret, codes = enrol(agent)
    freeze("2026-11-29T11:01")
    with pytest.raises(InvalidInput, match="Mot de passe incorrect"):
        two_factor.disable(agent, "mauvais", code_now(secret))
    with pytest.raises(InvalidInput, match="Code incorrect"):
        two_factor.disable(agent, DEMO_PASSWORD, "123456")
    assert two_factor.is_enabled(fresh(agent))
    two_factor.disable(agent, DEMO_PASSWORD, codes[3])
    agent = fresh(agent)
    assert not two_factor.is_enabled(agent) and agent.totp_secret == ""
    assert RecoveryCode.select().where(RecoveryCode.user == agent.id).count() == 0
    assert AuditLog.get(AuditLog.action == "double authentification désactivée").detail == "avec un code de secours"


def test_admin_forced_to_enrol_when_the_commune_requires_it(admin, agent):
    commune = Commune.get_current()
    assert not two_factor.must_enrol(admin, commune)  # the demo commune does not require it
    commune.admin_two_factor_required = True
    assert two_factor.must_enrol(admin, commune)
    assert not two_factor.must_enrol(agent, commune)  # other staff choose
    enrol(admin)
    assert not two_factor.must_enrol(fresh(admin), commune)


def test_disabling_refused_while_required(admin, freeze):
    secret, _ = enrol(admin)
    Commune.update(admin_two_factor_required=True).execute()
    freeze("2026-11-29T11:01")
    with pytest.raises(two_factor.TwoFactorRequired, match="obligatoire"):
        two_factor.disable(admin, DEMO_PASSWORD, code_now(secret))
    assert two_factor.is_enabled(fresh(admin))


def test_admin_resets_a_colleague_who_lost_their_phone(admin, agent):
    enrol(agent)
    version = fresh(agent).session_version
    with pytest.raises(two_factor.TwoFactorState):
        two_factor.reset_for(admin, admin.id)
    with pytest.raises(NotFound):
        two_factor.reset_for(admin, User.get(User.role == "parent").id)
    two_factor.reset_for(admin, agent.id)
    agent = fresh(agent)
    assert not two_factor.is_enabled(agent) and agent.session_version == version + 1
    entry = AuditLog.get(AuditLog.action == "double authentification réinitialisée")
    assert (entry.user_id, entry.object_id) == (admin.id, agent.id)
    with pytest.raises(two_factor.TwoFactorState):  # nothing left to reset
        two_factor.reset_for(admin, agent.id)


def test_terminal_reset_for_a_locked_out_last_administrator(app, admin):
    enrol(admin)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reset-two-factor", "Admin@Example.fr"])
    assert result.exit_code == 0, result.output
    assert "réinitialisée pour admin@example.fr" in result.output
    assert not two_factor.is_enabled(fresh(admin))
    entry = AuditLog.get(AuditLog.action == "double authentification réinitialisée")
    assert entry.user_id is None and entry.detail == "admin@example.fr (terminal)"
    again = runner.invoke(args=["reset-two-factor", "admin@example.fr"])
    assert again.exit_code != 0 and "pas de double authentification" in again.output
    unknown = runner.invoke(args=["reset-two-factor", "personne@example.fr"])
    assert unknown.exit_code != 0 and "n'existe pas" in unknown.output
