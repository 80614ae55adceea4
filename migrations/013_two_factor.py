"""013_two_factor: two-factor sign-in for staff (TOTP secret encrypted with a SECRET_KEY-derived key,
when it was enabled, the last time step accepted), its single-use recovery codes (keyed hashes), and
the commune's « Double authentification obligatoire pour les administrateurs » (off: nothing changes
for existing accounts)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "user",
        totp_secret=pw.CharField(default="", max_length=255),
        totp_enabled_at=pw.DateTimeField(null=True),
        totp_last_step=pw.IntegerField(default=0),
    )
    migrator.add_fields("commune", admin_two_factor_required=pw.BooleanField(default=False))

    @migrator.create_model
    class RecoveryCode(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name="user_id", field="id", model=migrator.orm["user"], on_delete="CASCADE")
        code_hash = pw.CharField(max_length=255)
        used_at = pw.DateTimeField(null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "recovery_code"
            legacy_table_names = False


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("recovery_code")
    migrator.remove_fields("commune", "admin_two_factor_required")
    migrator.remove_fields("user", "totp_secret", "totp_enabled_at", "totp_last_step")
