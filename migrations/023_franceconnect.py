"""023_franceconnect: parent accounts linked to a FranceConnect identity (the provider's `sub`, unique, one
link per account), whether the sign-in created the account, and the identity FranceConnect certified (it
pre-fills the household file). Nothing changes for existing accounts until their owner links one."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class FranceConnectLink(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name="user_id", field="id", model=migrator.orm["user"], on_delete="CASCADE",
                                  unique=True)
        sub = pw.CharField(max_length=255, unique=True)
        created_account = pw.BooleanField(default=False)
        given_name = pw.CharField(default="", max_length=255)
        family_name = pw.CharField(default="", max_length=255)
        birthdate = pw.DateField(null=True)
        gender = pw.CharField(default="", max_length=255)
        birthplace = pw.CharField(default="", max_length=255)
        linked_at = pw.DateTimeField()
        last_sign_in_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "france_connect_link"
            legacy_table_names = False


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("france_connect_link")
