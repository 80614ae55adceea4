"""Demo household files: complete validated files for Martin and Dupont, one file waiting for validation."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from models import Child, ChildContact, Diet, DocumentType, FamilyDocument, Guardian, Household, User
from services.accounts.users import hash_password
from services.core import clock
from services.family import documents

DIETS = ["Sans porc", "Sans viande", "Végétarien", "Sans œuf", "Sans gluten"]
DOCUMENT_TYPES = [
    # name, code, scope, required, health, validity in months
    ("Attestation de quotient familial", "qf", "household", True, False, 12),
    ("Carnet de vaccination", "vaccins", "child", True, True, 36),
    ("Certificat médical", "certificat", "child", False, True, 12),
    ("Projet d'accueil individualisé (PAI)", "pai", "child", False, True, 12),
    ("Attestation employeur", "employeur", "household", False, False, 12),
    ("Autre document", "autre", "household", False, False, 12),
]
# A tiny valid PDF, written as the demo's accepted documents.
DEMO_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


def seed(ctx: dict) -> None:
    """Diets, document types, the Martin and Dupont files completed, and the Bernard file submitted."""
    now = clock.local_now()
    today = clock.today()
    diets = {name: Diet.create(name=name, position=i) for i, name in enumerate(DIETS, start=1)}
    types = {code: DocumentType.create(name=name, code=code, scope=scope, required=required, health=health,
                                       validity_months=months, position=i)
             for i, (name, code, scope, required, health, months) in enumerate(DOCUMENT_TYPES, start=1)}
    ctx["diets"], ctx["document_types"] = diets, types
    martin, dupont = ctx["households"]["martin"], ctx["households"]["dupont"]
    everyone = "cantine-{},cantine-{},garderie,alsh_mercredi,alsh_vacances".format(
        ctx["schools"]["phare"].id, ctx["schools"]["petit_prince"].id)
    Household.update(organisme="CAF", allocataire_number="1234567", family_situation="Marié(e)",
                     quotient_familial=850, needs=everyone, submitted_at=now).where(Household.id == martin.id).execute()
    Household.update(organisme="MSA", allocataire_number="7654321", family_situation="Pacsé(e)",
                     quotient_familial=1320, needs=everyone, submitted_at=now).where(Household.id == dupont.id).execute()
    Guardian.update(quality="Mère", occupation_category="Profession intermédiaire", phone_home="02 98 11 22 33").where(
        Guardian.household == martin).execute()
    Guardian.update(quality="Père", occupation_category="Employé").where(Guardian.household == dupont).execute()
    Guardian.create(household=martin, quality="Père", civility="Monsieur", last_name="Martin", first_name="Thomas",
                    address="12 rue des Goélands", postal_code="29999", city="Démo-sur-Mer",
                    email="thomas.martin@example.fr", phone_mobile="06 22 33 44 55",
                    occupation_category="Cadre, profession intellectuelle supérieure", position=1)
    for user in (ctx["users"]["martin"], ctx["users"]["dupont"]):
        User.update(guardian=Guardian.select().where((Guardian.household == user.household)
                                                     & (Guardian.position == 0)).first()).where(User.id == user.id).execute()

    children = ctx["children"]
    records = {
        "lea": dict(diet=diets["Sans porc"], allergies="Arachide", has_pai=True,
                    pai_details="Trousse d'urgence à l'école (stylo d'adrénaline)", doctor_name="Dr Le Bihan"),
        "hugo": dict(doctor_name="Dr Le Bihan"),
        "ines": dict(diet=diets["Végétarien"], doctor_name="Dr Morvan"),
        "malo": dict(doctor_name="Dr Morvan", leave_alone_allowed=False),
        "jade": dict(allergies="Lactose", doctor_name="Dr Morvan"),
    }
    for key, values in records.items():
        Child.update(doctor_phone="02 98 44 55 66", photo_allowed=True, emergency_care_allowed=True,
                     certified_at=now, **values).where(Child.id == children[key].id).execute()
    for key in ("lea", "hugo"):
        ChildContact.create(child=children[key], kind="urgence", name="Annick Martin", relation="grand-mère",
                            phone="06 55 44 33 22")
        ChildContact.create(child=children[key], kind="sortie", name="Thomas Martin", relation="père",
                            phone="06 22 33 44 55")
    for key in ("ines", "malo", "jade"):
        ChildContact.create(child=children[key], kind="urgence", name="Nadia Dupont", relation="mère",
                            phone="06 77 88 99 00")
        ChildContact.create(child=children[key], kind="sortie", name="Nadia Dupont", relation="mère",
                            phone="06 77 88 99 00")

    upload_dir = Path(ctx.get("upload_dir") or _upload_dir())
    upload_dir.mkdir(parents=True, exist_ok=True)
    staff = ctx["users"]["agent"]

    def accepted(household, doc_type, child=None):
        name = f"demo-{household.id}-{doc_type.code}-{child.id if child else 0}.pdf"
        (upload_dir / name).write_bytes(DEMO_PDF)
        return FamilyDocument.create(
            household=household, child=child, doc_type=doc_type, original_name=f"{doc_type.code}.pdf",
            stored_name=name, content_type="application/pdf", size=len(DEMO_PDF), status="accepted",
            valid_from=today - dt.timedelta(days=30), valid_until=today + dt.timedelta(days=335),
            uploaded_at=now, uploaded_by=ctx["users"]["martin"] if household.id == martin.id else ctx["users"]["dupont"],
            reviewed_at=now, reviewed_by=staff)

    for household, keys in ((martin, ("lea", "hugo")), (dupont, ("ines", "malo", "jade"))):
        accepted(household, types["qf"])
        for key in keys:
            accepted(household, types["vaccins"], children[key])
    accepted(martin, types["pai"], children["lea"])

    _seed_waiting_file(ctx, now, diets)


def _upload_dir() -> Path:
    """The application's upload folder (configured when the app is built), else instance/uploads."""
    return documents.default_upload_dir or Path(__file__).resolve().parents[2] / "instance" / "uploads"


def _seed_waiting_file(ctx: dict, now: dt.datetime, diets: dict) -> None:
    """Famille Bernard: a new family whose file waits for the mairie."""
    bernard = Household.create(name="Famille BERNARD", status="submitted", organisme="CAF",
                               allocataire_number="2345678", family_situation="Célibataire", quotient_familial=640,
                               needs=f"cantine-{ctx['schools']['phare'].id},garderie", submitted_at=now,
                               created_at=now)
    guardian = Guardian.create(household=bernard, quality="Mère", civility="Madame", last_name="Bernard",
                               first_name="Élodie", address="7 chemin des Dunes", postal_code="29999",
                               city="Démo-sur-Mer", email="famille.bernard@example.fr", phone_mobile="06 45 67 89 01",
                               occupation_category="Employé", is_payer=True)
    ctx["households"]["bernard"] = bernard
    ctx["users"]["bernard"] = User.create(
        email="famille.bernard@example.fr", password_hash=hash_password(ctx["password"]), role="parent",
        first_name="Élodie", last_name="Bernard", household=bernard, guardian=guardian, activated=True,
        created_at=now)
    ctx["children"]["nael"] = Child.create(household=bernard, first_name="Naël", last_name="Bernard", sex="M",
                                           birth_date=dt.date(2019, 4, 17), school=ctx["schools"]["phare"],
                                           class_level="CE1", diet=diets["Sans viande"], position=1)
