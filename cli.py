"""Every `flask --app app …` command: the database, the demo, backups, the worker, holidays, orders, invoicing."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from peewee import SqliteDatabase

import jobs
import models
from models import Regie, User, db
from services.accounts import team, two_factor
from services.billing import invoicing_runs
from services.booking import calendar, deadline_reminders, orders, planning, school_year
from services.core import backup as backups
from services.core import clock, formatting, migrations, statistics
from services.core.errors import DomainError
from services.family import retention


def register(app: Flask) -> None:
    """Add the commands to the application's CLI."""
    app.cli.add_command(jobs.worker_command)  # flask --app app worker: the background worker (jobs.py)

    @app.cli.command("upgrade-db")
    def upgrade_db():
        """Apply the migrations not yet applied (an old database is recognised)."""
        with db.connection_context():
            _upgrade()

    @app.cli.command("init-db")
    @click.option("--demo/--no-demo", default=None,
                  help="Charger la commune de démo si la base est vide (par défaut hors production).")
    def init_db(demo: bool | None):
        """Bring the schema up to date (upgrade-db); outside production, load the demo commune into an
        empty database."""
        if demo is None:
            demo = not _production()
        elif demo:
            _refuse_demo_in_production()
        with db.connection_context():
            _upgrade()
            if demo and not User.select().exists():
                from services import demo as demo_seed
                demo_seed.seed_demo()
                statistics.refresh()
                click.echo("Base créée avec la commune de démo.")
            else:
                click.echo("Base prête (données existantes conservées).")

    @app.cli.command("seed-demo")
    @click.option("--reset", is_flag=True, help="Effacer toutes les données avant de charger la démo.")
    def seed_demo(reset: bool):
        """Load the demo commune (Mairie de Démo) with its accounts."""
        from services import demo as demo_seed
        _refuse_demo_in_production()
        with db.connection_context():
            if reset:
                _drop_everything()
            _upgrade(quiet=True)
            if User.select().exists():
                click.echo("La base contient déjà des données : rien n'est changé (utilisez --reset).")
                return
            demo_seed.seed_demo()
        click.echo("Commune de démo chargée.")

    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l'entrée standard (scripts).")
    @click.option("--first-name", default="", help="Prénom.")
    @click.option("--last-name", default="", help="Nom.")
    def create_admin_command(email: str, password_stdin: bool, first_name: str, last_name: str):
        """Create an administrator account (the first sign-in of a new commune)."""
        if password_stdin:
            password = click.get_text_stream("stdin").readline().rstrip("\r\n")
            confirm = password
        else:
            click.echo("Mot de passe : au moins 12 caractères (majuscule, minuscule, chiffre et caractère "
                       "spécial), ou une phrase de passe d'au moins 4 mots et 20 caractères.")
            password = click.prompt("Mot de passe", hide_input=True, default="", show_default=False)
            confirm = click.prompt("Confirmez le mot de passe", hide_input=True, default="", show_default=False)
        with db.connection_context():
            if not User.table_exists():
                _refuse("la base n'est pas créée : lancez d'abord flask --app app upgrade-db.")
            try:
                admin = team.create_admin(email, password, confirm, first_name, last_name)
            except DomainError as refusal:
                _refuse(refusal.message)
        click.echo(f"Compte administrateur créé : {admin.email}. Connectez-vous sur /connexion avec cette "
                   "adresse et ce mot de passe.")

    @app.cli.command("reset-two-factor")
    @click.argument("email")
    def reset_two_factor_command(email: str):
        """Turn off two-factor sign-in of a staff account whose phone and codes are lost (audited)."""
        with db.connection_context():
            try:
                member = two_factor.reset_by_email(email)
            except DomainError as refusal:
                _refuse(refusal.message)
        click.echo(f"Double authentification réinitialisée pour {member.email} : connexion avec le seul mot de "
                   "passe, puis activation de nouveau sur /gestion/securite.")

    @app.cli.command("make-migration")
    @click.argument("name")
    def make_migration(name: str):
        """Write migrations/NNN_NAME.py from the models' changes since the last migration."""
        created = migrations.make(name, models.all_models())
        if created:
            click.echo(f"Migration écrite : migrations/{created}.py (relisez-la, puis lancez le test de "
                       "dérive : pytest tests/test_migrations.py).")
        else:
            click.echo("Aucun changement dans les modèles : aucune migration écrite.")

    @app.cli.command("backup")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    def backup_command(directory: Path):
        """Copy the database and the uploads into DIRECTORY/portail-<date>T<heure>/ (portal running)."""
        try:
            folder = backups.backup(app.config["DATABASE_URL"], Path(app.config["UPLOAD_DIR"]), directory)
        except backups.BackupError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Sauvegarde faite : {folder}")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Écraser une base qui contient déjà des données.")
    def restore_command(path: Path, force: bool):
        """Put back a backup folder made by `backup` (stop the portal and the worker first)."""
        try:
            done = backups.restore(path, app.config["DATABASE_URL"], Path(app.config["UPLOAD_DIR"]), force=force)
        except backups.BackupError as error:
            raise click.ClickException(str(error)) from error
        for line in done:
            click.echo(line)
        with db.connection_context():
            waiting = migrations.pending()
        if waiting:
            click.echo(f"Migrations en attente ({', '.join(waiting)}) : lancez flask --app app upgrade-db.")

    @app.cli.command("refresh-statistics")
    def refresh_statistics():
        """ANALYZE the database now (the worker does it every night at 3:50)."""
        with db.connection_context():
            click.echo(statistics.refresh())

    @app.cli.command("refresh-holidays")
    @click.option("--zone", default=None, help="Zone A, B ou C (par défaut celle de la commune).")
    @click.option("--years", default=None, help="Années civiles, ex. 2026,2027 (par défaut : l'an dernier à +2).")
    def refresh_holidays_command(zone: str | None, years: str | None):
        """Reload public holidays and school holidays into the database."""
        year = clock.today().year
        wanted = [int(y) for y in years.split(",")] if years else list(range(year - 1, year + 3))
        with db.connection_context():
            public, school = calendar.refresh_holidays(wanted, zone)
        click.echo(f"{public} jours fériés et {school} périodes de vacances scolaires enregistrés.")

    @app.cli.command("expire-orders")
    def expire_orders_command():
        """Expire prepaid orders unpaid after 1 hour (frees their places; for a cron job)."""
        with db.connection_context():
            count = orders.expire_unpaid_orders()
        click.echo(f"{count} commande(s) expirée(s).")

    @app.cli.command("apply-retention")
    def apply_retention_command():
        """Anonymise the closed households whose retention period is over (the worker does it nightly)."""
        with db.connection_context():
            report = retention.apply_retention()
        click.echo(f"{report}.")

    @app.cli.command("start-school-year")
    def start_school_year_command():
        """Give the children the classes confirmed at réinscription once their school year has started
        (the worker does it nightly; nothing happens twice)."""
        with db.connection_context():
            moved = school_year.start_school_year()
        click.echo(f"Changement d'année scolaire : {moved} enfant(s) changent de classe.")

    @app.cli.command("send-reminders")
    def send_reminders_command():
        """Send the deadline reminders due in the next 24 h (the worker does it every 15 minutes; never twice)."""
        with db.connection_context():
            report = deadline_reminders.send_deadline_reminders()
        click.echo(f"Rappels de date limite : {report}.")

    @app.cli.command("invoice")
    @click.option("--regie", "code", required=True, help="Code de la régie (ex. PERI).")
    @click.option("--month", "month", required=True, help="Mois à facturer, ex. 2026-11.")
    @click.option("--close", is_flag=True, help="Clôturer d'abord la période (pour facturer avant la fin du mois).")
    def invoice_command(code: str, month: str, close: bool) -> None:
        """Issue a régie's invoices for a month now, in this terminal, with its progress (as « Émettre »)."""
        with db.connection_context():
            _invoice(code, month, close)


def _refuse(message: str):
    click.echo(f"Refusé : {message}", err=True)
    raise click.exceptions.Exit(1)


def _invoice(code: str, month: str, close: bool) -> None:
    regie = Regie.get_or_none(Regie.code == code.strip().upper())
    if regie is None:
        codes = ", ".join(r.code for r in Regie.select().order_by(Regie.code)) or "aucune"
        _refuse(f"régie inconnue « {code} » (codes : {codes}).")
    try:
        first = planning.parse_month(month or "-")
    except DomainError as refusal:
        _refuse(refusal.message)
    click.echo(f"Facturation de {formatting.month_label(first)} – {regie.name} ({regie.code})")
    shown = {"step": 0}

    def report(done: int, total: int, issued: int) -> None:
        step = max(1, total // 20)  # about twenty lines, whatever the size
        if done == total or done // step > shown["step"]:
            shown["step"] = done // step
            click.echo(f"  {formatting.number(done)} / {formatting.number(total)} foyers – "
                       f"{formatting.number(issued)} facture(s) émise(s)")

    try:
        result = invoicing_runs.issue_run(regie, first.year, first.month, close=close, on_progress=report)
    except DomainError as refusal:
        _refuse(refusal.message)
    numbers = [i.number for i in result.issued]
    span = f" ({numbers[0]} à {numbers[-1]})" if len(numbers) > 1 else f" ({numbers[0]})" if numbers else ""
    click.echo(f"Terminé : {formatting.number(len(numbers))} facture(s) émise(s){span} pour "
               f"{formatting.money(result.run.amount_issued)} ; {formatting.number(result.skipped)} foyer(s) sans "
               "nouvelle facture (déjà facturés ou rien à facturer).")


def _upgrade(quiet: bool = False) -> None:
    try:
        done = migrations.upgrade()
    except migrations.MigrationError as error:
        raise click.ClickException(str(error)) from error
    for line in done:
        click.echo(line)
    if done:  # new tables and indexes: the planner's statistics again (the nightly job does it too)
        click.echo(statistics.refresh())
    elif not quiet:
        click.echo("Schéma à jour : aucune migration en attente.")
        warning = statistics.autovacuum_warning()
        if warning:
            click.echo(warning, err=True)


def _drop_everything() -> None:
    """Drop the application's tables and the migration history (seed-demo --reset)."""
    db.drop_tables(models.all_models(), safe=True, cascade=not isinstance(db.obj, SqliteDatabase))
    db.execute_sql(f'DROP TABLE IF EXISTS "{migrations.HISTORY_TABLE}"')


def _production() -> bool:
    return current_app.config["PORTAIL_ENV"] == "production"


def _refuse_demo_in_production() -> None:
    # The demo accounts' password is printed in the README: on a public server anyone could sign in.
    if _production():
        _refuse("la commune de démo n'est jamais chargée en production (ses mots de passe sont publics). "
                "Créez le premier administrateur avec flask --app app create-admin ADRESSE.")
