"""026_config_version: the configuration's token (one row), replaced by every change to services, units,
calendars, tariffs, rules, closed periods or the commune's settings, so each process knows when to read
them again (services/core/config_cache.py)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class ConfigVersion(pw.Model):
        id = pw.AutoField()
        token = pw.CharField(default='', max_length=255)

        class Meta:
            table_name = "config_version"
            legacy_table_names = False

    migrator.sql("INSERT INTO config_version (id, token) VALUES (1, 'initial')")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('config_version')
