"""011_school_classes: the class levels each school teaches, entered on /gestion/ecoles (issue 12);
existing schools start with none listed (the screen shows « non renseignées »)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("school", classes=pw.CharField(default="", max_length=255))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("school", "classes")
