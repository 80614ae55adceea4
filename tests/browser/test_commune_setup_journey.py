"""A commune installs the portal alone, in production mode, from an empty database: create-admin →
settings → school → régie → activity with a unit and its tariff → a parent signs up, has the file
validated, enrols, books and receives an invoice numbered with the régie's code → an agent books for the
family at the desk → the parent exports their data → the admin closes the account → once the retention
period is over the household is anonymised and the invoice totals stay. axe-core on every staff page.

The server runs with PORTAIL_ENV=production and the real clock (production refuses a frozen one), mail
goes to a real local SMTP server; dates are chosen relative to today. The retention step runs the
command an IT person would, on the same database, with the clock moved past the retention period.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import subprocess
import sys
import zipfile
from email import message_from_bytes, policy

import holidays
import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from tests.browser.conftest import ROOT, LiveServer, _free_port, axe_check, sign_in

ADMIN = "maire.adjointe@ville-exemple.fr"
ADMIN_PASSWORD = "Mairie-Exemple-2026!"
PARENT = "famille.leroy@example.net"
PARENT_PASSWORD = "Famille-Leroy-2026!"
AGENT = "agent.accueil@ville-exemple.fr"
AGENT_PASSWORD = "Guichet-Exemple-2026!"


class Mailbox:
    """An aiosmtpd handler keeping every message: the portal's worker delivers to it over SMTP."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        self.messages.append({"to": parsed["To"], "subject": str(parsed["Subject"]),
                              "body": body.get_content() if body else ""})
        return "250 OK"

    def wait_for(self, address: str, subject: str, timeout: float = 15.0) -> dict:
        import time
        deadline = time.time() + timeout
        while time.time() < deadline:
            for message in reversed(self.messages):
                if message["to"] == address and subject.lower() in message["subject"].lower():
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no mail « {subject} » to {address}: {[m['subject'] for m in self.messages]}")


class ProductionServer(LiveServer):
    """The portal as a commune runs it: production settings, an empty database, the real clock."""

    def __init__(self, instance, smtp_port: int):
        super().__init__(instance)
        for name in ("PORTAIL_NOW", "DEV_CLOCK_CONTROL"):
            self.env.pop(name, None)
        self.env.update(PORTAIL_ENV="production", SECRET_KEY="a-long-random-secret-for-this-test",
                        MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_port))

    def start(self) -> None:
        flask = [sys.executable, "-m", "flask", "--app", "app"]
        subprocess.run(flask + ["upgrade-db"], cwd=ROOT, env=self.env, check=True, capture_output=True)
        super().start()  # init-db on the now up-to-date, empty database loads nothing more in production

    def flask(self, *args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                              env={**self.env, **(env or {})}, input=stdin, capture_output=True, text=True)

    def query(self, sql: str, *params):
        with sqlite3.connect(self.instance / "portail.db") as connection:
            return connection.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def commune(tmp_path_factory):
    mailbox = Mailbox()
    smtp_port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    server = ProductionServer(tmp_path_factory.mktemp("commune"), smtp_port)
    server.mailbox = mailbox
    server.start()
    yield server
    server.stop()
    controller.stop()


def _sign_out(page, url: str) -> None:
    page.goto(url + "/deconnexion")
    page.locator("#contenu").get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(url + "/")


def _open_day(after: dt.date, weekday: int) -> dt.date:
    """The first `weekday` on or after `after` that is not a French public holiday (the portal closes them)."""
    closed = holidays.France(years=range(after.year, after.year + 2))
    day = after
    while day.weekday() != weekday or day in closed:
        day += dt.timedelta(days=1)
    return day


def test_a_commune_sets_up_and_runs_the_portal_alone(commune, page_desktop):
    page, url = page_desktop, commune.url

    # 1. The IT person creates the first administrator; families are refused while the commune is the demo one.
    created = commune.flask("create-admin", ADMIN, "--password-stdin", "--first-name", "Anne",
                            "--last-name", "Durand", stdin=ADMIN_PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    assert commune.query("SELECT role FROM user WHERE email = ?", ADMIN) == [("admin",)]
    response = page.goto(url + "/creer-mon-compte")
    assert response.status == 503
    expect(page.get_by_role("heading", name="Portail pas encore ouvert")).to_be_visible()

    # 2. The administrator signs in and enters the commune's settings.
    sign_in(page, url, ADMIN, ADMIN_PASSWORD, landing="**/gestion/")
    axe_check(page, "admin dashboard, empty commune")
    page.goto(url + "/gestion/parametres")
    axe_check(page, "settings")
    page.get_by_label("Nom affiché").fill("Mairie de Ville-Exemple")
    page.get_by_label("Adresse", exact=True).fill("1 place de la Mairie")
    page.get_by_label("Code postal").fill("35000")
    page.get_by_label("Ville").fill("Ville-Exemple")
    page.get_by_label("Téléphone").fill("02 99 00 11 22")
    page.get_by_label("Adresse e-mail du service").fill("enfance@ville-exemple.fr")
    page.get_by_role("button", name="Enregistrer les paramètres").click()
    expect(page.get_by_role("status")).to_contain_text("enregistr")
    assert commune.query("SELECT name, city FROM commune") == [("Mairie de Ville-Exemple", "Ville-Exemple")]

    # 3. A school with its classes.
    page.goto(url + "/gestion/ecoles")
    axe_check(page, "schools")
    page.get_by_label("Nom de l'école").fill("École des Tilleuls")
    page.get_by_role("button", name="Ajouter l'école").click()
    expect(page.get_by_role("status")).to_contain_text("École des Tilleuls")
    assert commune.query("SELECT name FROM school") == [("École des Tilleuls",)]

    # 4. The setup checklist says what is missing; the test e-mail goes through the worker and SMTP; a régie.
    page.goto(url + "/gestion/")
    expect(page.get_by_role("heading", name="Avant d'ouvrir le portail aux familles")).to_be_visible()
    expect(page.get_by_text("Paramètres de la commune : fait")).to_be_visible()
    page.get_by_role("button", name="M'envoyer un e-mail de test").click()
    expect(page.get_by_role("status").filter(has_text="E-mail de test mis en file d'envoi")).to_be_visible()
    commune.mailbox.wait_for(ADMIN, "test")
    page.goto(url + "/gestion/regies")
    axe_check(page, "régies")
    form = page.locator("form[aria-labelledby=nouvelle]")
    form.get_by_label("Nom de la régie").fill("Régie enfance")
    form.get_by_label("Code de la régie").fill("enf")
    form.get_by_label("Numéro client PayFiP de la régie").fill("123456")
    form.get_by_role("button", name="Créer la régie").click()
    expect(page.get_by_role("status").filter(has_text="Régie « Régie enfance » créée")).to_be_visible()
    assert commune.query("SELECT code, payfip_client FROM regie") == [("ENF", "123456")]

    # 5. An activity of that régie, with a unit open every weekday and its tariff.
    page.goto(url + "/gestion/activites")
    axe_check(page, "activities")
    page.get_by_label("Nom de l'activité").fill("Restauration scolaire – Tilleuls")
    page.get_by_label("Type d'activité").select_option(label="Restauration scolaire")
    today = dt.date.today()  # from May on, the next school year: its days are the ones still ahead
    page.get_by_label("Année scolaire (année de la rentrée)").fill(str(today.year if today.month >= 5 else today.year - 1))
    page.get_by_label("Régie", exact=True).select_option(label="Régie enfance")
    page.get_by_label("Inscriptions validées par le service").uncheck()
    page.get_by_role("button", name="Créer l'activité").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Restauration scolaire – Tilleuls")
    axe_check(page, "activity")
    page.get_by_role("link", name="Ajouter une prestation").click()
    page.get_by_label("Nom de la prestation").fill("Repas")
    for weekday in ("Lundi", "Mardi", "Jeudi", "Vendredi"):
        page.get_by_label(weekday, exact=True).check()
    page.get_by_label("Période").select_option(label="Toute l'année")
    page.get_by_label("Tarif par défaut (QF inconnu), en euros").fill("3,10")
    page.get_by_role("button", name="Enregistrer la prestation").click()
    expect(page.get_by_role("status")).to_contain_text("Prestation « Repas » créée")
    axe_check(page, "unit")
    assert commune.query("SELECT name, default_price FROM unit") == [("Repas", 310)]
    page.goto(url + "/gestion/")
    expect(page.get_by_text("Portail prêt à ouvrir aux familles")).to_be_visible()
    axe_check(page, "dashboard, ready")
    _sign_out(page, url)

    # 6. A family signs up (the code comes by SMTP), fills its file and submits it; the admin validates it.
    page.goto(url + "/creer-mon-compte")
    page.get_by_label("Adresse e-mail").fill(PARENT)
    page.get_by_label("Mot de passe").fill(PARENT_PASSWORD)
    page.get_by_role("button", name="S'inscrire").click()
    page.wait_for_url("**/creer-mon-compte/confirmation")
    code = re.search(r"Voici votre code : (\d{4})", commune.mailbox.wait_for(PARENT, "code")["body"]).group(1)
    page.get_by_label("Code reçu par e-mail").fill(code)
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url("**/mon-espace")
    page.get_by_role("link", name="Compléter mon dossier famille").click()
    page.get_by_label("Organisme").select_option("CAF")
    page.get_by_label("Numéro d'allocataire", exact=True).fill("1234567")
    page.get_by_label("Situation familiale").select_option("Vie maritale")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.wait_for_url("**/mon-dossier/responsables")
    page.get_by_label("Qualité").select_option("Mère")
    page.get_by_label("Civilité").select_option("Madame")
    page.get_by_label("Nom", exact=True).fill("Leroy")
    page.get_by_label("Prénom", exact=True).fill("Sophie")
    page.get_by_label("Adresse", exact=True).fill("4 rue des Tilleuls")
    page.get_by_label("Code postal").fill("35000")
    page.get_by_label("Ville").fill("Ville-Exemple")
    page.get_by_label("Téléphone portable").fill("0612345678")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.wait_for_url("**/mon-dossier/enfants")
    child = page.locator("#enfant-1")
    child.get_by_label("Sexe").select_option("F")
    child.get_by_label("Prénom de l'enfant").fill("Zoé")
    child.get_by_label("Date de naissance", exact=True).fill("2018-04-12")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.wait_for_url("**/mon-dossier/besoins")
    page.get_by_label("Restauration scolaire").check()
    page.get_by_role("button", name="Valider mon compte").click()
    page.wait_for_url("**/mon-compte")
    _sign_out(page, url)

    sign_in(page, url, ADMIN, ADMIN_PASSWORD)
    page.get_by_role("link", name="Dossiers famille à valider").click()
    axe_check(page, "files queue")
    page.get_by_label("Sélectionner Famille LEROY").check()
    page.get_by_role("button", name="Accepter les dossiers cochés").click()
    expect(page.get_by_role("status").get_by_text("acceptée(s)")).to_be_visible()
    _sign_out(page, url)

    # 7. The parent enrols Zoé and books a Tuesday; the order is confirmed by e-mail.
    # Two weeks ahead at least (far from any deadline), within the school year of the activity.
    starts_on, ends_on = map(dt.date.fromisoformat, commune.query("SELECT starts_on, ends_on FROM activity")[0])
    day = _open_day(max(dt.date.today() + dt.timedelta(days=14), starts_on), 1)
    assert day + dt.timedelta(days=45) < ends_on, "the activity's school year ends too soon for this journey"
    sign_in(page, url, PARENT, PARENT_PASSWORD, landing="**/mon-espace")
    page.goto(url + "/inscriptions")
    choice = page.get_by_label("Inscrire Zoé à une nouvelle activité")
    choice.select_option(label=next(text for text in choice.locator("option").all_inner_texts()
                                    if text.startswith("Restauration scolaire")))
    page.get_by_role("button", name="Inscrire à une nouvelle activité").click()
    expect(page.get_by_role("status")).to_be_visible()
    iso_year, iso_week, _ = day.isocalendar()
    page.goto(f"{url}/reservations?semaine={iso_year}-W{iso_week:02d}")
    page.get_by_role("checkbox", name=_cell_name("Zoé", day)).check()
    page.get_by_role("link", name=re.compile("Panier")).first.click()
    page.get_by_role("button", name=re.compile("^Valider")).click()
    expect(page.get_by_role("status")).to_contain_text("Commande")
    commune.mailbox.wait_for(PARENT, "commande")
    assert commune.query("SELECT b.status, b.price FROM booking b JOIN child c ON c.id = b.child_id "
                         "WHERE c.first_name = 'Zoé'") == [("booked", 310)]
    _sign_out(page, url)

    # 8. The régisseur's work: close the month early and issue it; the worker numbers the invoice with ENF.
    sign_in(page, url, ADMIN, ADMIN_PASSWORD)
    page.goto(url + "/gestion/facturation/")
    axe_check(page, "invoicing")
    page.get_by_label("Régie").select_option(label="Régie enfance")
    page.get_by_label("Mois").select_option(label=MONTHS[day.month - 1].capitalize())
    page.get_by_label("Année").fill(str(day.year))
    page.get_by_role("button", name="Prévisualiser").click()
    axe_check(page, "invoicing preview")
    page.get_by_role("button", name="Clôturer la période").click()
    page.get_by_role("button", name=re.compile(r"^Émettre les 1 facture|^Émettre la facture|^Émettre")).click()
    page.get_by_text("Facturation terminée").wait_for(timeout=30_000)
    axe_check(page, "invoicing run")
    number = f"ENF-{day.year}-{day.month:02d}-00001"
    assert commune.query("SELECT number, amount FROM invoice") == [(number, 310)]
    _sign_out(page, url)
    sign_in(page, url, PARENT, PARENT_PASSWORD)
    page.goto(url + "/factures")
    expect(page.get_by_role("link", name=re.compile(number)).first).to_be_visible()
    commune.mailbox.wait_for(PARENT, "facture")
    _sign_out(page, url)

    # 9. The admin invites an agent; the agent sets a password from the e-mailed link.
    sign_in(page, url, ADMIN, ADMIN_PASSWORD)
    page.goto(url + "/gestion/equipe")
    axe_check(page, "team")
    page.get_by_role("link", name="Ajouter un membre").click()
    axe_check(page, "new team member")
    page.get_by_label("Adresse e-mail").fill(AGENT)
    page.get_by_label("Prénom").fill("Karim")
    page.get_by_label("Nom", exact=True).fill("Benali")
    page.get_by_label("Rôle").select_option(label="Agent")
    page.get_by_role("button", name="Créer le compte et envoyer l'invitation").click()
    expect(page.get_by_role("status")).to_be_visible()
    _sign_out(page, url)
    link = re.search(r"(http\S+)", commune.mailbox.wait_for(AGENT, "Votre compte")["body"]).group(1)
    page.goto(link)
    page.get_by_label("Nouveau mot de passe").fill(AGENT_PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()

    # 10. The agent books for the family at the desk (a day of the next month: this one is invoiced).
    desk_day = _open_day(day.replace(day=28) + dt.timedelta(days=10), 3)  # a Thursday of the next month
    sign_in(page, url, AGENT, AGENT_PASSWORD, landing="**/gestion/")
    page.goto(url + "/gestion/familles?q=Leroy")
    axe_check(page, "families")
    page.get_by_role("link", name=re.compile("Leroy", re.I)).first.click()
    axe_check(page, "family file")
    household_id = commune.query("SELECT id FROM household WHERE name LIKE '%LEROY%'")[0][0]
    iso_year, iso_week, _ = desk_day.isocalendar()
    page.goto(f"{url}/gestion/familles/{household_id}/reservations?semaine={iso_year}-W{iso_week:02d}")
    axe_check(page, "desk week")
    page.get_by_role("checkbox", name=_cell_name("Zoé", desk_day)).check()
    page.get_by_role("button", name="Valider les changements pour la famille").click()
    expect(page.get_by_role("status")).to_contain_text("enregistrée au guichet")
    expect(page.get_by_role("checkbox", name=_cell_name("Zoé", desk_day))).to_be_checked()
    assert commune.query("SELECT COUNT(*) FROM booking WHERE status = 'booked'") == [(2,)]
    assert commune.query("SELECT at_desk FROM \"order\" ORDER BY id") == [(0,), (1,)]
    commune.mailbox.wait_for(PARENT, "commande")
    _sign_out(page, url)

    # 11. The parent downloads « Mes données », then asks to close the account.
    sign_in(page, url, PARENT, PARENT_PASSWORD)
    page.goto(url + "/mon-compte/mes-donnees")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger mes données (ZIP)").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        held = json.loads(archive.read("donnees.json"))
    text = json.dumps(held, ensure_ascii=False)
    assert "Zoé" in text and number in text and PARENT in text
    page.goto(url + "/mon-compte/suppression")
    page.get_by_label("Je demande la suppression de mon compte").check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_role("status")).to_contain_text("transmise à la mairie")
    _sign_out(page, url)

    # 12. The admin closes the account: sign-in refused from now on, health data gone, invoices kept.
    sign_in(page, url, ADMIN, ADMIN_PASSWORD)
    page.goto(url + "/gestion/suppressions-de-compte")
    axe_check(page, "closures")
    page.get_by_label(re.compile("Sélectionner .*LEROY", re.I)).check()
    page.get_by_role("button", name="Accepter les demandes cochées").click()
    expect(page.get_by_role("status").get_by_text("acceptée(s)")).to_be_visible()
    assert commune.query("SELECT status FROM household WHERE id = ?", household_id) == [("closed",)]
    _sign_out(page, url)

    # 13. Past the retention period (the nightly job, run by hand with the clock moved): anonymised,
    # and the invoice's number and total are what they were.
    months = commune.query("SELECT retention_identity_months FROM commune")[0][0]
    later = dt.date.today() + dt.timedelta(days=31 * months + 2)
    too_soon = commune.flask("apply-retention")
    assert too_soon.returncode == 0 and "0 foyer(s) anonymisé(s), 1 en attente" in too_soon.stdout
    done = commune.flask("apply-retention", env={"PORTAIL_ENV": "development", "PORTAIL_NOW": f"{later}T03:45"})
    assert done.returncode == 0 and "1 foyer(s) anonymisé(s)" in done.stdout, done.stdout + done.stderr
    assert commune.query("SELECT name FROM household WHERE id = ?", household_id) == [
        (f"Foyer anonymisé n° {household_id}",)]
    assert commune.query("SELECT COUNT(*) FROM user WHERE email = ?", PARENT) == [(0,)]
    assert commune.query("SELECT number, amount FROM invoice") == [(number, 310)]
    assert not page.js_errors


DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def _cell_name(child: str, day: dt.date) -> str:
    return f"Repas – {child} – {DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


