"""Unit tests of services.accounts: password rule, codes, lockout timing, reset tokens."""
import datetime as dt

import pytest

from models import AccessToken, EmailCode, Household, LoginThrottle, ThrottleEvent, User
from services.accounts import signup, throttle, users
from services.core import clock
from services.core.errors import (
    AccountLocked,
    CodeExpired,
    EmailAlreadyUsed,
    InvalidCode,
    InvalidInput,
    InvalidToken,
    LoginRefused,
    LoginThrottled,
    PasswordTooWeak,
)
from tests.conftest import last_code_for, outbox_messages

GOOD = "Bonjour-Portail-2026!"


@pytest.mark.parametrize("password, ok", [
    ("Abcdefgh1!xy", True),             # 12 characters, 4 kinds
    ("Abcdefgh1!x", False),             # 11 characters
    ("abcdefgh1!xy", False),            # no capital
    ("ABCDEFGH1!XY", False),            # no lower case
    ("Abcdefghij!x", False),            # no digit
    ("Abcdefghij1x", False),            # no special character
    ("cheval batterie agrafe correct", True),   # passphrase: 4 words, 20+ characters
    ("trois mots seulement ici", True),         # 4 words, 24 characters
    ("un deux trois quatre", True),             # exactly 20 characters, 4 words
    ("un deux trois", False),                   # 3 words
    ("", False),
])
def test_password_rule(password, ok):
    assert (users.password_problem(password) is None) == ok


def test_generated_password_passes_the_rule():
    for _ in range(50):
        assert users.password_problem(users.generate_password()) is None


def test_password_hash_is_argon2id(app):
    assert users.hash_password(GOOD).startswith("$argon2id$")


def test_register_sends_a_code_and_activation_creates_a_draft_household(app, freeze):
    freeze("2026-11-19T10:00")
    assert signup.register("  Parent@Example.FR ", GOOD) == "parent@example.fr"
    user = User.get(User.email == "parent@example.fr")
    assert not user.activated
    code = last_code_for("parent@example.fr")
    signup.confirm_code("parent@example.fr", code)
    user = User.get_by_id(user.id)
    assert user.activated
    assert user.household.status == "draft"


@pytest.mark.parametrize("email", ["", "pas-une-adresse", "a@b", "x y@z.fr"])
def test_register_refuses_malformed_email(app, email):
    with pytest.raises(InvalidInput):
        signup.register(email, GOOD)
    assert User.select().count() == 0


def test_register_refuses_weak_password_and_saves_nothing(app):
    with pytest.raises(PasswordTooWeak):
        signup.register("parent@example.fr", "motdepasse")
    assert User.select().count() == 0 and outbox_messages() == []


def test_register_never_touches_an_existing_account_and_tells_its_owner(demo):
    before = User.get(User.email == "famille.martin@example.fr")
    assert signup.register("famille.martin@example.fr", GOOD) == "famille.martin@example.fr"
    after = User.get_by_id(before.id)
    assert after.password_hash == before.password_hash and after.household_id == before.household_id
    assert not EmailCode.select().where(EmailCode.user == before.id).exists()
    mails = [m for m in outbox_messages() if m["to"] == "famille.martin@example.fr"]
    assert [m["subject"] for m in mails] == ["Tentative de création de compte avec votre adresse"]


def test_code_expires_after_30_minutes(app, freeze):
    freeze("2026-11-19T10:00")
    signup.register("parent@example.fr", GOOD)
    user = User.get(User.email == "parent@example.fr")
    code = last_code_for("parent@example.fr")
    freeze("2026-11-19T10:30:01")
    with pytest.raises(CodeExpired):
        signup.confirm_code("parent@example.fr", code)
    assert not User.get_by_id(user.id).activated


def test_code_valid_at_29_minutes(app, freeze):
    freeze("2026-11-19T10:00")
    signup.register("parent@example.fr", GOOD)
    user = User.get(User.email == "parent@example.fr")
    freeze("2026-11-19T10:29")
    signup.confirm_code("parent@example.fr", last_code_for("parent@example.fr"))
    assert User.get_by_id(user.id).activated


def test_five_wrong_codes_void_the_code(app, freeze):
    freeze("2026-11-19T10:00")
    signup.register("parent@example.fr", GOOD)
    user = User.get(User.email == "parent@example.fr")
    code = last_code_for("parent@example.fr")
    wrong = "0000" if code != "0000" else "1111"
    for attempt in range(4):
        with pytest.raises(InvalidCode) as error:
            signup.confirm_code("parent@example.fr", wrong)
        assert f"Il vous reste {4 - attempt} essai" in error.value.message
    with pytest.raises(CodeExpired):
        signup.confirm_code("parent@example.fr", wrong)
    with pytest.raises(CodeExpired):
        signup.confirm_code("parent@example.fr", code)  # the right code no longer works
    assert EmailCode.get(EmailCode.user == user).voided


def test_resend_voids_the_previous_code(app, freeze):
    freeze("2026-11-19T10:00")
    signup.register("parent@example.fr", GOOD)
    first = last_code_for("parent@example.fr")
    freeze("2026-11-19T10:01")
    signup.resend_code("parent@example.fr")
    second = last_code_for("parent@example.fr")
    if first != second:
        with pytest.raises((CodeExpired, InvalidCode)):
            signup.confirm_code("parent@example.fr", first)
    signup.confirm_code("parent@example.fr", second)


def test_authenticate(demo):
    user = users.authenticate("Famille.Martin@example.fr ", "Demo-Portail-2026!", ip="10.0.0.1")
    assert user.email == "famille.martin@example.fr"
    with pytest.raises(LoginRefused) as error:
        users.authenticate("famille.martin@example.fr", "mauvais", ip="10.0.0.1")
    assert error.value.message == "Adresse e-mail ou mot de passe incorrect."
    with pytest.raises(LoginRefused) as unknown:
        users.authenticate("inconnu@example.fr", "mauvais", ip="10.0.0.1")
    assert unknown.value.message == error.value.message  # does not reveal which accounts exist


def test_lockout_timing(demo, freeze):
    email, good = "famille.martin@example.fr", "Demo-Portail-2026!"
    start = dt.datetime(2026, 11, 19, 10, 0, 0)
    freeze(start)
    for i in range(5):
        freeze(start + dt.timedelta(seconds=i))
        with pytest.raises(LoginRefused):
            users.authenticate(email, "faux")
    # After 5 failures the next attempt must wait (2 s), even with the right password.
    freeze(start + dt.timedelta(seconds=5))
    with pytest.raises(LoginThrottled) as waiting:
        users.authenticate(email, good)
    assert "patientez" in waiting.value.message
    # The delay grows: 2, 4, 8, 16, 32 s between the 5th and 10th failures.
    moment = start + dt.timedelta(seconds=4)
    for failures in range(5, 10):
        moment += dt.timedelta(seconds=2 ** (failures - 4))
        freeze(moment)
        with pytest.raises((LoginRefused,)) as refused:
            users.authenticate(email, "faux")
        assert not isinstance(refused.value, LoginThrottled)
    assert isinstance(refused.value, AccountLocked)
    user = User.get(User.email == email)
    assert LoginThrottle.get(LoginThrottle.email == email).locked_until == clock.local_now() + dt.timedelta(minutes=15)
    freeze(moment + dt.timedelta(minutes=14, seconds=59))
    with pytest.raises(AccountLocked):
        users.authenticate(email, good)
    freeze(moment + dt.timedelta(minutes=15, seconds=1))
    assert users.authenticate(email, good).id == user.id
    assert not LoginThrottle.select().where(LoginThrottle.email == email).exists()


def test_per_address_limit(demo, freeze):
    freeze("2026-11-19T10:00")
    for i in range(throttle.LOGIN_PER_IP.count):
        with pytest.raises(LoginRefused):
            users.authenticate(f"inconnu{i}@example.fr", "faux", ip="203.0.113.7")
    with pytest.raises(LoginThrottled):
        users.authenticate("famille.martin@example.fr", "Demo-Portail-2026!", ip="203.0.113.7")
    # Another address is not affected, and the window ends after 15 minutes.
    assert users.authenticate("famille.martin@example.fr", "Demo-Portail-2026!", ip="203.0.113.8")
    freeze("2026-11-19T10:15:01")
    assert users.authenticate("famille.martin@example.fr", "Demo-Portail-2026!", ip="203.0.113.7")
    assert ThrottleEvent.select().where(ThrottleEvent.kind == "login").count() == throttle.LOGIN_PER_IP.count


def test_reset_token_is_single_use_and_expires(demo, freeze):
    freeze("2026-11-19T10:00")
    tokens = []
    users.request_password_reset("famille.martin@example.fr", tokens.append)
    token = tokens[0]
    users.set_password_with_token(token, "reset", "Nouveau-Mot-2026!", "Nouveau-Mot-2026!")
    assert users.authenticate("famille.martin@example.fr", "Nouveau-Mot-2026!")
    with pytest.raises(InvalidToken):
        users.set_password_with_token(token, "reset", "Autre-Mot-2026!!", "Autre-Mot-2026!!")
    users.request_password_reset("famille.martin@example.fr", tokens.append)
    freeze("2026-11-20T10:00:01")
    with pytest.raises(InvalidToken):
        users.user_for_token(tokens[1], "reset")


def test_reset_for_unknown_address_sends_nothing(app):
    tokens = []
    users.request_password_reset("personne@example.fr", tokens.append)
    assert tokens == [] and outbox_messages() == [] and AccessToken.select().count() == 0


def test_reset_token_cannot_be_used_as_invitation(demo):
    tokens = []
    users.request_password_reset("famille.martin@example.fr", tokens.append)
    with pytest.raises(InvalidToken):
        users.user_for_token(tokens[0], "init")


def test_staff_invitation(demo):
    links = []
    agent = demo["users"]["agent"]
    households_before = Household.select().count()
    user = users.invite_parent(agent, "nouveau.parent@example.fr", "Anne", "Le Bris", None, links.append)
    assert not user.activated and user.password_hash is None
    assert user.household.status == "validated"
    with pytest.raises(LoginRefused):
        users.authenticate("nouveau.parent@example.fr", "")
    users.set_password_with_token(links[0], "init", "Mon-Nouveau-2026!", "Mon-Nouveau-2026!")
    assert users.authenticate("nouveau.parent@example.fr", "Mon-Nouveau-2026!").household_id == user.household_id
    assert Household.select().count() == households_before + 1


def test_change_password_and_email_notify(demo):
    user = demo["users"]["martin"]
    with pytest.raises(InvalidInput):
        users.change_password(user, "faux", "Nouveau-Mot-2026!", "Nouveau-Mot-2026!")
    users.change_password(user, "Demo-Portail-2026!", "Nouveau-Mot-2026!", "Nouveau-Mot-2026!")
    users.change_email(user, "Nouveau-Mot-2026!", "claire.martin@example.fr")
    assert User.get_by_id(user.id).email == "claire.martin@example.fr"
    sent = outbox_messages()
    assert sent[0]["to"] == "famille.martin@example.fr" and "adresse de connexion" in sent[0]["subject"]
    with pytest.raises(EmailAlreadyUsed):
        users.change_email(user, "Nouveau-Mot-2026!", "famille.dupont@example.fr")
