"""016_messaging: the messaging between families and the mairie's services (/messagerie, /gestion/messagerie):
the services families write to, with the staff roles that read each inbox, their threads and messages.
The four usual services are created (an administrator may rename them or change their roles in the
database); nothing changes for existing rows."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Service(pw.Model):
        id = pw.AutoField()
        name = pw.CharField(max_length=100, unique=True)
        email = pw.CharField(default='', max_length=320)
        roles = pw.CharField(default='agent', max_length=200)
        position = pw.IntegerField(default=0)
        active = pw.BooleanField(default=True)

        class Meta:
            table_name = "service"
            legacy_table_names = False

    @migrator.create_model
    class Thread(pw.Model):
        id = pw.AutoField()
        household = pw.ForeignKeyField(column_name='household_id', field='id', model=migrator.orm['household'], on_delete='CASCADE')
        service = pw.ForeignKeyField(column_name='service_id', field='id', model=migrator.orm['service'], on_delete='RESTRICT')
        subject = pw.CharField(max_length=200)
        child = pw.ForeignKeyField(column_name='child_id', field='id', model=migrator.orm['child'], null=True, on_delete='SET NULL')
        status = pw.CharField(default='open', index=True, max_length=255)
        assigned_to = pw.ForeignKeyField(column_name='assigned_to_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        sick_notice = pw.BooleanField(default=False)
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()
        last_message_at = pw.DateTimeField(index=True)
        last_family_message = pw.IntegerField(default=0)
        last_staff_message = pw.IntegerField(default=0)
        household_read_upto = pw.IntegerField(default=0)
        household_read_at = pw.DateTimeField(null=True)
        staff_read_upto = pw.IntegerField(default=0)
        staff_read_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "thread"
            legacy_table_names = False

    @migrator.create_model
    class Message(pw.Model):
        id = pw.AutoField()
        thread = pw.ForeignKeyField(column_name='thread_id', field='id', model=migrator.orm['thread'], on_delete='CASCADE')
        author = pw.ForeignKeyField(column_name='author_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        from_staff = pw.BooleanField(default=False)
        body = pw.TextField()
        attachment_stored = pw.CharField(default='', max_length=100)
        attachment_name = pw.CharField(default='', max_length=120)
        attachment_type = pw.CharField(default='', max_length=50)
        attachment_size = pw.IntegerField(default=0)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "message"
            legacy_table_names = False

    migrator.run(default_services, database)


# The services every commune starts with: (name, roles reading its inbox). Frozen here: the list in
# services/communication/messaging.py may change later, this migration must not.
DEFAULT_SERVICES = [("Service enfance", "agent"), ("Restauration scolaire", "agent"),
                    ("Centre de loisirs", "agent,animateur"), ("Régie", "regisseur")]


def default_services(database):
    """Create the usual services unless a service of that name exists already."""
    mark = database.param
    for position, (name, roles) in enumerate(DEFAULT_SERVICES):
        found = database.execute_sql(f'SELECT 1 FROM "service" WHERE name = {mark}', (name,)).fetchone()
        if not found:
            database.execute_sql(f'INSERT INTO "service" (name, email, roles, position, active) '
                                 f"VALUES ({mark}, '', {mark}, {mark}, {mark})", (name, roles, position, True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('message')

    migrator.remove_model('thread')

    migrator.remove_model('service')
