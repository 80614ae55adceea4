"""`flask --app app create-admin`: the first administrator of a new commune, from a terminal or a script."""
from models import AuditLog, User
from tests.conftest import Auth

STRONG = "Cantine-2026-Demo!"


def test_an_admin_created_in_the_terminal_signs_in_to_the_staff_side(app, client):
    result = app.test_cli_runner().invoke(args=["create-admin", "Directrice@Mairie.fr", "--first-name", "Anne"],
                                          input=f"{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0, result.output
    assert "Compte administrateur créé : directrice@mairie.fr" in result.output
    assert STRONG not in result.output  # the password is never echoed
    admin = User.get(User.email == "directrice@mairie.fr")
    assert (admin.role, admin.activated, admin.first_name) == ("admin", True, "Anne")
    assert admin.password_hash and STRONG not in admin.password_hash
    assert AuditLog.get(AuditLog.action == "staff.create_admin").object_id == admin.id
    Auth(client).login("directrice@mairie.fr", STRONG)
    assert "Tableau de bord" in client.get("/gestion", follow_redirects=True).get_data(as_text=True)


def test_password_stdin_for_scripts(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "dsi@mairie.fr", "--password-stdin"],
                                          input=f"{STRONG}\n")
    assert result.exit_code == 0, result.output
    assert User.get(User.email == "dsi@mairie.fr").role == "admin"


def test_refusals_change_nothing_and_say_why_in_french(app):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["create-admin", "a@mairie.fr", "--password-stdin"], input="motdepasse\n")
    assert weak.exit_code == 1 and "au moins 12 caractères" in weak.output
    typo = runner.invoke(args=["create-admin", "a@mairie.fr"], input=f"{STRONG}\n{STRONG}x\n")
    assert typo.exit_code == 1 and "différents" in typo.output
    bad = runner.invoke(args=["create-admin", "pas-une-adresse", "--password-stdin"], input=f"{STRONG}\n")
    assert bad.exit_code == 1 and "Adresse e-mail invalide" in bad.output
    assert not User.select().where(User.email == "a@mairie.fr").exists()
    assert runner.invoke(args=["create-admin", "a@mairie.fr", "--password-stdin"], input=f"{STRONG}\n").exit_code == 0
    again = runner.invoke(args=["create-admin", "A@mairie.fr", "--password-stdin"], input=f"{STRONG}\n")
    assert again.exit_code == 1 and "existe déjà" in again.output
    assert User.select().where(User.email == "a@mairie.fr").count() == 1

