"""018_news_mail: NewsItem.mailed_at, when the worker e-mailed a news item to its audience; the items
already published count as told (an upgrade sends no old news)."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'news_item',

        mailed_at=pw.DateTimeField(null=True))
    migrator.sql("UPDATE news_item SET mailed_at = publish_from")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('news_item', 'mailed_at')
