"""The README's screenshots of the week grid (demo Famille Martin, week of 7 December 2026, two days
ticked), at 390 px (a phone) and 1280 px, each its first screen and a half: a live server
(the demo commune, its clock at 19 November 2026 17:55) and Playwright driving /usr/bin/chromium.

    .venv/bin/python bench/screenshots.py        (or: make screenshots)
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer  # noqa: E402

WEEK = "/reservations?semaine=2026-W50"
SHOTS = {"grille-390.png": (390, 844), "grille-1280.png": (1280, 800)}


def main() -> None:
    server = LiveServer(Path(tempfile.mkdtemp(prefix="screenshots-")))
    server.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for index, (name, (width, height)) in enumerate(SHOTS.items()):
                page = browser.new_page(viewport={"width": width, "height": height}, locale="fr-FR",
                                        timezone_id="Europe/Paris")
                page.goto(server.url + "/connexion")
                page.get_by_label("Adresse e-mail").fill("famille.martin@example.fr")
                page.get_by_label("Mot de passe").fill("Demo-Portail-2026!")
                page.get_by_role("button", name="Se connecter").click()
                page.wait_for_url("**/mon-espace")
                page.goto(server.url + WEEK)
                if index == 0:  # two days in the basket (they stay for the second shot): « À ajouter », the bar
                    for day in ("lundi 7 décembre 2026", "mardi 8 décembre 2026"):
                        page.get_by_label(f"Repas – Léa – {day}").check()
                        page.wait_for_selector(f'td.state-basket_add input[aria-label="Repas – Léa – {day}"]')
                # A screen and a half tall, so that the phone's sticky basket bar sits at the picture's foot.
                page.set_viewport_size({"width": width, "height": int(height * 1.5)})
                path = ROOT / "docs" / name
                page.screenshot(path=str(path))
                print(f"{path.relative_to(ROOT)} : {path.stat().st_size / 1000:.0f} k")
                page.close()
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
