"""The setup checklist of the administrators' dashboard: what is still missing before the portal opens
to families (commune, school, activity with units and a tariff, régie, PayFiP, mail delivery), and
« M'envoyer un e-mail de test ». In the billing area because it reads the layers below it."""
from __future__ import annotations

from dataclasses import dataclass

from models import Activity, Commune, OutgoingMail, Regie, School, TariffBand, Unit, User
from services.billing import invoice_numbers, regies
from services.core import audit, commune, outbox
from services.core.transactions import write_transaction

TEST_SUBJECT = "E-mail de test du portail famille"


@dataclass(frozen=True)
class SetupItem:
    key: str  # commune, school, activity, regie, payfip, mail: the view links each to its screen
    label: str
    done: bool
    explanation: str  # one line: what is done, or what to do


def _commune_item() -> SetupItem:
    demo = commune.still_demo(Commune.get_current())
    if demo:
        return SetupItem("commune", "Paramètres de la commune", False,
                         "Encore ceux de la démonstration : " + ", ".join(demo) + ".")
    return SetupItem("commune", "Paramètres de la commune", True, "Nom, adresse et contact de la commune renseignés.")


def _school_item() -> SetupItem:
    count = School.select().count()
    return SetupItem("school", "Écoles", count > 0,
                     f"{count} école(s) enregistrée(s)." if count else "Ajoutez au moins une école.")


def _activity_item() -> SetupItem:
    priced = (Unit.select(Unit.id).join(Activity).where(Activity.active & (
        (Unit.default_price > 0) | Unit.id.in_(TariffBand.select(TariffBand.unit)))))
    count = Activity.select().where(Activity.id.in_(priced.select(Unit.activity))).count()
    return SetupItem("activity", "Activités", count > 0,
                     f"{count} activité(s) avec des prestations et un tarif." if count else
                     "Créez une activité, ses prestations (repas, garderie…) et leurs tarifs.")


def _regie_item() -> SetupItem:
    coded = [regie for regie in Regie.select() if invoice_numbers.CODE_PATTERN.fullmatch(regie.code or "")]
    return SetupItem("regie", "Régies", bool(coded),
                     f"{len(coded)} régie(s) avec un code de facturation." if coded else
                     "Créez une régie avec son code (il commence les numéros de facture).")


def _payfip_item(environment_client: str) -> SetupItem:
    fallback = Commune.get_current().payfip_client or environment_client
    card_regies = [regie for regie in Regie.select().order_by(Regie.name) if regies.accepts_cards(regie)]
    missing = [regie.name for regie in card_regies if not (regies.payfip_client_of(regie) or fallback)]
    if not card_regies:
        return SetupItem("payfip", "Paiement en ligne (PayFiP)", True,
                         "Désactivé : aucune régie n'accepte la carte bancaire.")
    if missing:
        return SetupItem("payfip", "Paiement en ligne (PayFiP)", False,
                         "Numéro client PayFiP manquant pour : " + ", ".join(missing)
                         + " (ou décochez « Carte bancaire » dans ses modes de paiement).")
    return SetupItem("payfip", "Paiement en ligne (PayFiP)", True,
                     "Chaque régie qui accepte la carte a un numéro client PayFiP.")


def _mail_item() -> SetupItem:
    tests = OutgoingMail.select().where(OutgoingMail.subject == TEST_SUBJECT)
    if tests.where(OutgoingMail.status == "sent").exists():
        return SetupItem("mail", "Envoi des e-mails", True, "Un e-mail de test est bien parti.")
    if tests.where(OutgoingMail.status == "failed").exists():
        explanation = "L'e-mail de test n'a pas pu partir : vérifiez SMTP_HOST et les réglages du serveur de mail."
    elif tests.exists():
        explanation = "E-mail de test en attente d'envoi : le service d'envoi (worker) doit tourner."
    else:
        explanation = "Envoyez-vous un e-mail de test pour vérifier le serveur de mail."
    return SetupItem("mail", "Envoi des e-mails", False, explanation)


def checklist(environment_client: str = "") -> list[SetupItem]:
    """Each step of the setup, done or not; `environment_client` is PAYFIP_NUMCLI of the environment."""
    return [_commune_item(), _school_item(), _activity_item(), _regie_item(), _payfip_item(environment_client),
            _mail_item()]


def ready(items: list[SetupItem]) -> bool:
    return all(item.done for item in items)


def send_test_mail(admin: User) -> OutgoingMail:
    """Queue a test e-mail to the administrator through the outbox (the worker delivers it)."""
    with write_transaction():
        mail = outbox.send(admin.email, TEST_SUBJECT,
                           f"Bonjour {admin.first_name or ''},\n\nCet e-mail vérifie que le portail famille de "
                           f"{Commune.get_current().name} sait envoyer des messages. Vous n'avez rien à faire.\n")
        audit.record(admin, "setup.test_mail", admin, admin.email)
    return mail
