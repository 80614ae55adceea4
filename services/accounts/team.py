"""The town hall's team: staff accounts and their roles, starting with the first administrator."""
from __future__ import annotations

from models import User
from services.accounts import users
from services.core import audit, clock
from services.core.errors import EmailAlreadyUsed, InvalidInput
from services.core.transactions import lock_name, write_transaction


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
