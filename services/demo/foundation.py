"""Demo data of the foundation: the commune, its schools, and the documented accounts."""
from __future__ import annotations

import datetime as dt

from models import Child, Commune, Guardian, Household, School, User
from services.accounts.users import hash_password
from services.core import clock

PRESENTATION = (
    "Le portail famille de la Mairie de Démo vous permet, depuis votre téléphone ou votre ordinateur, "
    "d'inscrire vos enfants à la restauration scolaire, à la garderie du matin et du soir et à l'accueil "
    "de loisirs (mercredis et vacances), de réserver ou d'annuler des jours avant la date limite, de "
    "consulter vos consommations, de recevoir vos factures et de les payer en ligne, d'envoyer vos "
    "justificatifs et d'écrire au service enfance."
)


def seed(ctx: dict) -> None:
    """Commune, schools and accounts; households get their full file in the household area."""
    now = clock.local_now()
    commune = Commune.get_current()
    commune.name = "Mairie de Démo"
    commune.address = "1 place de la Mairie"
    commune.postal_code = "29999"
    commune.city = "Démo-sur-Mer"
    commune.phone = "02 98 00 00 00"
    commune.email = "enfance@mairie-demo.example.fr"
    commune.presentation = PRESENTATION
    commune.school_zone = "B"
    commune.save()
    ctx["commune"] = commune
    ctx["schools"] = {
        "phare": School.create(name="École du Phare", address="2 rue du Phare"),
        "petit_prince": School.create(name="École du Petit Prince", address="5 allée Saint-Exupéry"),
    }
    password = hash_password(ctx["password"])
    martin = Household.create(name="Famille Martin", status="validated", validated_at=now, created_at=now)
    dupont = Household.create(name="Famille Dupont", status="validated", validated_at=now, created_at=now)
    ctx["households"] = {"martin": martin, "dupont": dupont}
    ctx["users"] = {
        "martin": User.create(email="famille.martin@example.fr", password_hash=password, role="parent",
                              first_name="Claire", last_name="Martin", household=martin, activated=True,
                              created_at=now),
        "dupont": User.create(email="famille.dupont@example.fr", password_hash=password, role="parent",
                              first_name="Karim", last_name="Dupont", household=dupont, activated=True,
                              created_at=now),
        "agent": User.create(email="agent@example.fr", password_hash=password, role="agent",
                             first_name="Sophie", last_name="Le Gall", activated=True, created_at=now),
        "admin": User.create(email="admin@example.fr", password_hash=password, role="admin",
                             first_name="Yann", last_name="Kerleroux", activated=True, created_at=now),
        "regisseur": User.create(email="regisseur@example.fr", password_hash=password, role="regisseur",
                                 first_name="Nolwenn", last_name="Guivarc'h", activated=True, created_at=now),
        "cuisine": User.create(email="cuisine@example.fr", password_hash=password, role="cuisine",
                               first_name="Cuisine", last_name="centrale", activated=True, created_at=now),
        # Leads ALSH Mercredi (services/demo/activities.py): its attendance sheets and lists only.
        "animateur": User.create(email="animateur@example.fr", password_hash=password, role="animateur",
                                 first_name="Erwan", last_name="Le Bihan", activated=True, created_at=now),
    }
    phare, petit_prince = ctx["schools"]["phare"], ctx["schools"]["petit_prince"]
    Guardian.create(household=martin, quality="mère", civility="Madame", last_name="Martin", first_name="Claire",
                    address="12 rue des Goélands", postal_code="29999", city="Démo-sur-Mer",
                    email="famille.martin@example.fr", phone_mobile="06 12 34 56 78", is_payer=True)
    Guardian.create(household=dupont, quality="père", civility="Monsieur", last_name="Dupont", first_name="Karim",
                    address="4 impasse des Mouettes", postal_code="29999", city="Démo-sur-Mer",
                    email="famille.dupont@example.fr", phone_mobile="06 98 76 54 32", is_payer=True)
    ctx["children"] = {
        "lea": Child.create(household=martin, first_name="Léa", last_name="Martin", sex="F",
                            birth_date=dt.date(2018, 3, 14), school=phare, class_level="CE2", position=1),
        "hugo": Child.create(household=martin, first_name="Hugo", last_name="Martin", sex="M",
                             birth_date=dt.date(2022, 6, 2), school=petit_prince, class_level="MS", position=2),
        "ines": Child.create(household=dupont, first_name="Inès", last_name="Dupont", sex="F",
                             birth_date=dt.date(2016, 9, 21), school=phare, class_level="CM2", position=1),
        "malo": Child.create(household=dupont, first_name="Malo", last_name="Dupont", sex="M",
                             birth_date=dt.date(2019, 1, 8), school=phare, class_level="CE1", position=2),
        "jade": Child.create(household=dupont, first_name="Jade", last_name="Dupont", sex="F",
                             birth_date=dt.date(2021, 11, 30), school=petit_prince, class_level="GS", position=3),
    }
