"""015_publications: what the commune publishes (issue 13): news items (/actualites) and documents by
category (/documents), each for an audience (everyone, a school, an activity, a class) during a window,
with the households' read markers (« Nouveau »); the five usual categories are created, the
administrator renames or reorders them on /gestion/publications/categories."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class NewsItem(pw.Model):
        id = pw.AutoField()
        title = pw.CharField(max_length=200)
        body = pw.TextField(default='')
        audience = pw.CharField(default='all', max_length=20)
        school = pw.ForeignKeyField(column_name='school_id', field='id', model=migrator.orm['school'], null=True, on_delete='SET NULL')
        activity = pw.ForeignKeyField(column_name='activity_id', field='id', model=migrator.orm['activity'], null=True, on_delete='SET NULL')
        class_level = pw.CharField(default='', max_length=10)
        publish_from = pw.DateTimeField(index=True)
        publish_until = pw.DateTimeField(null=True)
        attachment_stored = pw.CharField(default='', max_length=80)
        attachment_name = pw.CharField(default='', max_length=120)
        attachment_mime = pw.CharField(default='', max_length=40)
        author = pw.ForeignKeyField(column_name='author_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()
        unpublished_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "news_item"
            legacy_table_names = False

    @migrator.create_model
    class NewsRead(pw.Model):
        id = pw.AutoField()
        news = pw.ForeignKeyField(column_name='news_id', field='id', model=migrator.orm['news_item'], on_delete='CASCADE')
        household = pw.ForeignKeyField(column_name='household_id', field='id', model=migrator.orm['household'], on_delete='CASCADE')
        read_at = pw.DateTimeField()

        class Meta:
            table_name = "news_read"
            legacy_table_names = False
            indexes = [(('news', 'household'), True)]

    @migrator.create_model
    class PublicationCategory(pw.Model):
        id = pw.AutoField()
        name = pw.CharField(max_length=80, unique=True)
        position = pw.IntegerField(default=0)

        class Meta:
            table_name = "publication_category"
            legacy_table_names = False

    @migrator.create_model
    class PublishedDocument(pw.Model):
        id = pw.AutoField()
        category = pw.ForeignKeyField(column_name='category_id', field='id', model=migrator.orm['publication_category'], on_delete='RESTRICT')
        title = pw.CharField(max_length=200)
        document_date = pw.DateField()
        stored_name = pw.CharField(max_length=80)
        original_name = pw.CharField(max_length=120)
        content_type = pw.CharField(max_length=40)
        size = pw.IntegerField(default=0)
        audience = pw.CharField(default='all', max_length=20)
        school = pw.ForeignKeyField(column_name='school_id', field='id', model=migrator.orm['school'], null=True, on_delete='SET NULL')
        activity = pw.ForeignKeyField(column_name='activity_id', field='id', model=migrator.orm['activity'], null=True, on_delete='SET NULL')
        class_level = pw.CharField(default='', max_length=10)
        publish_from = pw.DateTimeField(index=True)
        publish_until = pw.DateTimeField(null=True)
        author = pw.ForeignKeyField(column_name='author_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()
        unpublished_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "published_document"
            legacy_table_names = False

    @migrator.create_model
    class PublicationRead(pw.Model):
        id = pw.AutoField()
        document = pw.ForeignKeyField(column_name='document_id', field='id', model=migrator.orm['published_document'], on_delete='CASCADE')
        household = pw.ForeignKeyField(column_name='household_id', field='id', model=migrator.orm['household'], on_delete='CASCADE')
        read_at = pw.DateTimeField()

        class Meta:
            table_name = "publication_read"
            legacy_table_names = False
            indexes = [(('document', 'household'), True)]

    migrator.sql("INSERT INTO publication_category (name, position) VALUES ('Menus', 1), ('Tarifs', 2), "
                 "('Règlements de fonctionnement', 3), ('Inscriptions', 4), ('Projets pédagogiques', 5)")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('publication_read')

    migrator.remove_model('published_document')

    migrator.remove_model('publication_category')

    migrator.remove_model('news_read')

    migrator.remove_model('news_item')
