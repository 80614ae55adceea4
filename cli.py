"""The `flask --app app …` commands (refresh-holidays, expire-orders and invoice are registered by their blueprints)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from peewee import SqliteDatabase

import jobs
import models
from models import User, db
from services.core import backup as backups
from services.core import migrations


def register(app: Flask) -> None:
    """Add the commands to the application's CLI."""
    app.cli.add_command(jobs.worker_command)  # flask --app app worker: the background worker (jobs.py)

    @app.cli.command("upgrade-db")
    def upgrade_db():
        """Apply the migrations not yet applied (an old database is recognised)."""
        with db.connection_context():
            _upgrade()

    @app.cli.command("init-db")
    @click.option("--demo/--no-demo", default=True, help="Charger la commune de démo si la base est vide.")
    def init_db(demo: bool):
        """Bring the schema up to date (upgrade-db); load the demo commune into an empty database."""
        with db.connection_context():
            _upgrade()
            if demo and not User.select().exists():
                from services import demo as demo_seed
                demo_seed.seed_demo()
                click.echo("Base créée avec la commune de démo.")
            else:
                click.echo("Base prête (données existantes conservées).")

    @app.cli.command("seed-demo")
    @click.option("--reset", is_flag=True, help="Effacer toutes les données avant de charger la démo.")
    def seed_demo(reset: bool):
        """Load the demo commune (Mairie de Démo) with its accounts."""
        from services import demo as demo_seed
        with db.connection_context():
            if reset:
                _drop_everything()
            _upgrade(quiet=True)
            if User.select().exists():
                click.echo("La base contient déjà des données : rien n'est changé (utilisez --reset).")
                return
            demo_seed.seed_demo()
        click.echo("Commune de démo chargée.")

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


def _upgrade(quiet: bool = False) -> None:
    try:
        done = migrations.upgrade()
    except migrations.MigrationError as error:
        raise click.ClickException(str(error)) from error
    for line in done:
        click.echo(line)
    if not done and not quiet:
        click.echo("Schéma à jour : aucune migration en attente.")


def _drop_everything() -> None:
    """Drop the application's tables and the migration history (seed-demo --reset)."""
    db.drop_tables(models.all_models(), safe=True, cascade=not isinstance(db.obj, SqliteDatabase))
    db.execute_sql(f'DROP TABLE IF EXISTS "{migrations.HISTORY_TABLE}"')
