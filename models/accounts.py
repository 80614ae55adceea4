"""Foundation models: the commune, schools, households and guardians, logins and their tokens,
the audit log."""
from __future__ import annotations

from contextvars import ContextVar

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.base import BaseModel, ConfigModel, config_token, now

# The commune row of the request being served (web/__init__.py turns it on for a request, off after):
# the rules engine, the page and its PDF logo each ask for it; outside a request it is read every time.
_request_commune: ContextVar[dict | None] = ContextVar("request_commune", default=None)
# The row's values, kept by the process under the configuration's token (the commune is configuration:
# every write to it replaces the token, models/base.py), so that a request reads it without a query.
_process_commune: dict[str, dict] = {}


class Commune(ConfigModel):
    """The single row of settings of the commune running the portal."""

    name = CharField(default="Mairie de Démo")
    address = CharField(default="1 place de la Mairie")
    postal_code = CharField(default="00000")
    city = CharField(default="Démo-sur-Mer")
    phone = CharField(default="01 23 45 67 89")
    email = CharField(default="mairie@example.fr")
    opening_hours = CharField(default="du lundi au vendredi, de 8 h 30 à 12 h et de 13 h 30 à 17 h")
    presentation = TextField(default="")
    school_zone = CharField(default="C")  # A, B or C (vacances scolaires)
    publisher = CharField(default="Le maire de la commune")  # directeur de la publication
    host = CharField(default="Hébergé par la commune sur son propre serveur")
    main_color = CharField(default="#1d4f91")  # buttons, links and headings (contrast checked on entry)
    # The logo's file name in UPLOAD_DIR (random, so it is also the version in its URL); empty: none.
    logo = CharField(default="")
    mail_sender = CharField(default="")  # "Mairie de … <enfance@…>"; empty: MAIL_SENDER of the environment
    payfip_client = CharField(default="")  # PayFiP numcli (6 digits); empty: PAYFIP_NUMCLI of the environment
    payfip_mode = CharField(default="")  # T test, X activation, W production; empty: PAYFIP_MODE
    legal_notice = TextField(default="")  # « Mentions légales », added to the generated ones
    accessibility_statement = TextField(default="")  # « Accessibilité »: the commune's statement
    reminders_enabled = BooleanField(default=True)  # deadline reminders by e-mail (the worker)
    # RGPD: the delegate (DPO) and how long a closed household's data is kept (see the README).
    dpo_name = CharField(default="")
    dpo_email = CharField(default="")
    retention_identity_months = IntegerField(default=12)  # closed household anonymised after this
    retention_accounting_years = IntegerField(default=10)  # invoices and payments (amounts, numbers, dates)
    # « Double authentification obligatoire pour les administrateurs »: an admin without it only reaches
    # /gestion/securite until it is enabled.
    admin_two_factor_required = BooleanField(default=False)

    @classmethod
    def get_current(cls) -> "Commune":
        """The commune row, created with defaults on first use (read once per request when remembered)."""
        memo = _request_commune.get()
        if memo is not None and "row" in memo:
            return memo["row"]
        token = config_token() if memo is not None else None
        kept = _process_commune.get(token) if token is not None else None
        if kept is not None:
            # A copy per request: a settings form may change it and then not save it.
            commune = cls(**kept)
            commune._dirty.clear()
        else:
            commune = cls.select().order_by(cls.id).first()
            if commune is None:
                commune = cls.create()
            if token is not None:  # read after its token: an entry is never older than its token says
                _process_commune.clear()
                _process_commune[token] = dict(commune.__data__)
        if memo is not None:
            memo["row"] = commune
        return commune

    @staticmethod
    def remember_per_request(on: bool) -> None:
        """Read the row once until `remember_per_request(False)` (the web layer, around each request)."""
        _request_commune.set({} if on else None)

    @classmethod
    def update(cls, *args, **kwargs):
        """An UPDATE of the row: the remembered one is stale, read it again next time."""
        memo = _request_commune.get()
        if memo is not None:
            memo.clear()
        return super().update(*args, **kwargs)


class School(BaseModel):
    name = CharField(unique=True)
    address = CharField(default="")
    classes = CharField(default="")  # the class levels it teaches, comma-separated ("PS,MS,GS")

    @property
    def class_list(self) -> list[str]:
        return [level for level in self.classes.split(",") if level]


class Household(BaseModel):
    """A foyer: the family account that bookings, documents and invoices belong to."""

    name = CharField(default="")  # display name, e.g. "Famille Martin"
    organisme = CharField(default="")  # CAF, MSA, autre
    allocataire_number = CharField(default="")
    no_allocataire_number = BooleanField(default=False)
    family_situation = CharField(default="")
    quotient_familial = IntegerField(null=True)  # in euros, as printed on the CAF attestation
    # draft → submitted → validated; closing_requested when the parent asks to close the account
    status = CharField(default="draft", index=True)
    needs = TextField(default="")  # comma-separated activity kinds ticked in "Besoins"
    submitted_at = DateTimeField(null=True)
    validated_at = DateTimeField(null=True)
    refusal_reason = TextField(default="")
    closing_requested_at = DateTimeField(null=True)
    status_before_closing = CharField(default="")  # restored if staff refuse the closure request
    ical_token = CharField(null=True, unique=True)
    created_at = DateTimeField(default=now)
    closed_at = DateTimeField(null=True)  # staff accepted the closure: health data and documents erased
    anonymised_at = DateTimeField(null=True)  # identity erased by the retention job

    def parent_emails(self) -> list[str]:
        """Where to write to the household: its parents' logins, else its guardians' addresses."""
        return Household.parent_emails_of([self.id])[self.id]

    @classmethod
    def parent_emails_of(cls, household_ids) -> dict[int, list[str]]:
        """parent_emails() of several households in two queries: household id → sorted addresses."""
        ids = sorted(set(household_ids))
        found: dict[int, set[str]] = {i: set() for i in ids}
        if not ids:
            return {}
        for household_id, email in (User.select(User.household, User.email)
                                    .where(User.household.in_(ids) & (User.role == "parent")).tuples()):
            found[household_id].add(email)
        without_login = [i for i in ids if not found[i]]
        if without_login:
            for household_id, email in (Guardian.select(Guardian.household, Guardian.email)
                                        .where(Guardian.household.in_(without_login)).tuples()):
                if email:
                    found[household_id].add(email)
        return {i: sorted(emails) for i, emails in found.items()}

    def children_in_file(self, include_archived: bool = False) -> list:
        """The household's children in file order; archived ones (removed from the file after validation,
        kept for bookings and invoices) only when asked."""
        query = self.children  # the backref of Child.household, unordered (models.family imports this module)
        child = query.model
        if not include_archived:
            query = query.where(child.archived == False)  # noqa: E712
        return list(query.order_by(child.position, child.id))


class Guardian(BaseModel):
    """A responsable légal (or conjoint) of a household."""

    household = ForeignKeyField(Household, backref="guardians", on_delete="CASCADE")
    quality = CharField(default="")  # père, mère, tuteur, autre
    civility = CharField(default="")  # Madame, Monsieur
    last_name = CharField(default="")
    first_name = CharField(default="")
    address = CharField(default="")
    postal_code = CharField(default="")
    city = CharField(default="")
    email = CharField(default="")
    phone_home = CharField(default="")
    phone_mobile = CharField(default="")
    phone_work = CharField(default="")
    occupation_category = CharField(default="")  # catégorie socio-professionnelle
    is_payer = BooleanField(default=False)
    position = IntegerField(default=0)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class User(BaseModel):
    """A login: a parent (linked to a household) or a staff member."""

    ROLES = ("parent", "agent", "regisseur", "admin", "cuisine", "animateur")
    STAFF_ROLES = ("agent", "regisseur", "admin", "cuisine", "animateur")

    email = CharField(unique=True)
    password_hash = CharField(null=True)  # null until an invited parent sets one
    role = CharField(default="parent")
    first_name = CharField(default="")
    last_name = CharField(default="")
    household = ForeignKeyField(Household, null=True, backref="users", on_delete="SET NULL")
    guardian = ForeignKeyField(Guardian, null=True, backref="users", on_delete="SET NULL")
    activated = BooleanField(default=False)  # e-mail confirmed by code or by invitation link
    last_login_at = DateTimeField(null=True)
    password_changed_at = DateTimeField(null=True)
    # Part of the session and remember-me cookies: bumped at sign-out, password or e-mail change,
    # closure and deactivation, so every copy of an older cookie stops working at once.
    session_version = IntegerField(default=0)
    # Set when an administrator deactivates a staff account (/gestion/equipe): sign-in is refused.
    deactivated_at = DateTimeField(null=True)
    # Two-factor sign-in (services/accounts/two_factor.py): the TOTP secret encrypted with a key derived
    # from SECRET_KEY (empty when off); set but not yet enabled while the owner confirms a first code.
    totp_secret = CharField(default="")
    totp_enabled_at = DateTimeField(null=True)
    totp_last_step = IntegerField(default=0)  # the 30-second step of the last code accepted: no replay
    created_at = DateTimeField(default=now)

    # What Flask-Login asks of a user object (the model does not import Flask: see the contracts).
    is_active = True
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie: id and session version."""
        return f"{self.id}.{self.session_version}"

    @property
    def is_staff(self) -> bool:
        return self.role in self.STAFF_ROLES

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email

    def can_see_health(self) -> bool:
        """Health data (allergies, PAI, médecin) is for agents and admins, not the kitchen list."""
        return self.role in ("agent", "admin")


class FranceConnectLink(BaseModel):
    """A parent account linked to a FranceConnect identity (its `sub`, unique both ways), with the identity
    FranceConnect certified at the last sign-in (it pre-fills the household file)."""

    user = ForeignKeyField(User, unique=True, backref="franceconnect_links", on_delete="CASCADE")
    sub = CharField(unique=True)
    created_account = BooleanField(default=False)  # the account was created by this FranceConnect sign-in
    given_name = CharField(default="")
    family_name = CharField(default="")
    birthdate = DateField(null=True)
    gender = CharField(default="")  # female, male (as FranceConnect names them)
    birthplace = CharField(default="")  # INSEE code of the commune of birth
    linked_at = DateTimeField(default=now)
    last_sign_in_at = DateTimeField(null=True)


class MailOptOut(BaseModel):
    """An optional kind of e-mail a user chose not to receive (services/accounts/mail_preferences.py);
    no row means the default: received. Mandatory e-mails (codes, invoices, receipts) have no row."""

    user = ForeignKeyField(User, backref="mail_opt_outs", on_delete="CASCADE")
    kind = CharField(max_length=40)  # "replies", "news", "reminders"
    created_at = DateTimeField(default=now)

    class Meta:
        indexes = ((("user", "kind"), True),)


class EmailCode(BaseModel):
    """A 4-digit code e-mailed to confirm a new account."""

    user = ForeignKeyField(User, backref="email_codes", on_delete="CASCADE")
    code_hash = CharField()
    expires_at = DateTimeField()
    attempts = IntegerField(default=0)
    used_at = DateTimeField(null=True)
    voided = BooleanField(default=False)
    created_at = DateTimeField()


class RecoveryCode(BaseModel):
    """A single-use code of two-factor sign-in for a lost phone, stored as a keyed hash (shown once)."""

    user = ForeignKeyField(User, backref="recovery_codes", on_delete="CASCADE")
    code_hash = CharField()
    used_at = DateTimeField(null=True)
    created_at = DateTimeField()


class AccessToken(BaseModel):
    """A single-use link token: password reset or account initialisation."""

    user = ForeignKeyField(User, backref="access_tokens", on_delete="CASCADE")
    purpose = CharField()  # reset, init
    token_hash = CharField(unique=True)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    created_at = DateTimeField()


class ThrottleEvent(BaseModel):
    """One counted attempt (failed sign-in, sign-up, code guess, reset request) for rate limits that
    hold across every web worker: by client address and by e-mail address, known or not."""

    kind = CharField()  # login, signup, code, reset
    ip = CharField(default="")
    email = CharField(default="")
    at = DateTimeField()

    class Meta:
        indexes = ((("kind", "ip", "at"), False), (("kind", "email", "at"), False))


class LoginThrottle(BaseModel):
    """Failed sign-ins of one e-mail address, whether or not it has an account (no disclosure)."""

    email = CharField(unique=True)
    failures = IntegerField(default=0)
    last_failure_at = DateTimeField(null=True)
    locked_until = DateTimeField(null=True)


class AuditLog(BaseModel):
    """Who did what, when: every staff change and every read of sensitive health documents."""

    user = ForeignKeyField(User, null=True, backref="audit_entries", on_delete="SET NULL")
    at = DateTimeField(index=True)
    action = CharField()
    object_type = CharField(default="")
    object_id = IntegerField(null=True)
    detail = TextField(default="")
    # The household the object belongs to, so a family's history is one indexed query.
    household = ForeignKeyField(Household, null=True, backref="audit_entries", on_delete="SET NULL")
