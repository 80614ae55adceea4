"""Demo outings: « Sortie Océanopolis » (Brest aquarium, 8 places, 3-11 ans so that Léa and Hugo can go,
12,00 €, autorisation de sortie required) and one « Espace jeunes » afternoon for 11-17 ans with QF bands.
Puts ctx["outings"]."""
from __future__ import annotations

import datetime as dt

from models import DocumentType, TariffBand
from services.booking import outings

PROGRAMME = ("8 h 45 : rendez-vous devant l'école du Phare, départ en car à 9 h\n"
             "10 h 30 : visite des pavillons polaire, tropical et tempéré\n"
             "12 h 30 : pique-nique (à fournir par les familles)\n"
             "14 h : atelier « Les habitants de l'estran »\n"
             "17 h 30 : retour devant l'école du Phare")


def seed(ctx: dict) -> None:
    permission = DocumentType.create(name="Autorisation de sortie", code="sortie", scope="child", required=False,
                                     health=False, validity_months=12, position=7)
    ctx.setdefault("document_types", {})["sortie"] = permission
    regie = ctx["regies"]["loisirs"].id
    oceanopolis = outings.save_outing(None, outings.OutingSettings(
        name="Sortie Océanopolis", kind="sortie", starts_on=dt.date(2026, 12, 9), start_time="08:45",
        end_time="17:30", place="Océanopolis, port de plaisance du Moulin Blanc, Brest",
        description="Une journée à l'aquarium de Brest avec l'accueil de loisirs : manchots, phoques et "
                    "poissons des trois océans.",
        programme=PROGRAMME, min_age=3, max_age=11, price=1200, capacity=8, waiting_list=True,
        deadline=dt.datetime(2026, 12, 4, 18, 0), document_type_ids=[permission.id], regie_id=regie))
    youth = outings.save_outing(None, outings.OutingSettings(
        name="Espace jeunes : patinoire et crêpes", kind="espace_jeunes", starts_on=dt.date(2026, 12, 22),
        start_time="13:30", end_time="18:00", place="Patinoire Rinkla Stadium, Brest",
        description="Après-midi patinoire pendant les vacances, goûter crêpes au retour à l'Espace jeunes.",
        programme="13 h 30 : départ de l'Espace jeunes en minibus\n14 h 30 : patinoire\n17 h : goûter crêpes",
        min_age=11, max_age=17, price=800, capacity=12, waiting_list=True,
        deadline=dt.datetime(2026, 12, 18, 12, 0), document_type_ids=[permission.id], regie_id=regie))
    for qf_min, qf_max, price in ((0, 600, 400), (600, 1000, 600), (1000, None, 800)):
        TariffBand.create(unit=youth.unit, qf_min=qf_min, qf_max=qf_max, price=price)
    ctx["outings"] = {"oceanopolis": oceanopolis, "espace_jeunes": youth}
