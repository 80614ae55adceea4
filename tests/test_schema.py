"""flask init-db brings an existing database up to date: missing tables and columns are added."""
from models import AbsenceDeclaration, Booking, db
from services import schema


def test_upgrade_adds_missing_column_and_table(app, demo):
    db.execute_sql('ALTER TABLE "booking" DROP COLUMN "prepaid"')
    db.drop_tables([AbsenceDeclaration])
    done = schema.upgrade()
    assert "table créée : absence_declaration" in done
    assert "colonne ajoutée : booking.prepaid" in done
    assert "prepaid" in {c.name for c in db.get_columns("booking")}
    assert Booking.select().where(Booking.prepaid == False).count() == Booking.select().count()  # noqa: E712
    assert schema.upgrade() == []


def test_init_db_command_keeps_data(app, demo):
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert "Base prête (données existantes conservées)." in result.output
