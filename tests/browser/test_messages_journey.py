"""Messaging: Famille Martin writes to the Restauration scolaire with a photo (Léa is sick) → the agent
reads it, replies → the family's e-mail is in the outbox and the thread shows « Non lu » → the agent turns
the message into a justified absence. axe-core on every page, phone and desktop."""
from __future__ import annotations

import re
import struct
import zlib

from playwright.sync_api import expect

from tests.browser.conftest import axe_check, sign_in


def small_png() -> bytes:
    """A real 2×2 PNG, made here (no file in the repository)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_family_writes_agent_replies_and_declares_the_absence(page, live_server):
    url = live_server.url
    subject = f"Léa malade ({page.viewport_name})"

    # The family writes, with a photo, and flags a sick child.
    sign_in(page, url, "famille.martin@example.fr")
    page.goto(url + "/messagerie")
    axe_check(page, "mes conversations")
    page.get_by_role("link", name="Nouveau message").click()
    axe_check(page, "nouveau message")
    page.get_by_label("Service à contacter").select_option(label="Restauration scolaire")
    page.get_by_label("Objet du message").fill(subject)
    page.get_by_label("Enfant concerné (facultatif)").select_option(label="Léa Martin")
    page.get_by_label("Signaler une absence (enfant malade)").check()
    page.get_by_label("Votre message").fill("Léa a de la fièvre <script>alert(1)</script>, voir https://exemple.fr/ordonnance")
    page.get_by_label(re.compile("Pièce jointe")).set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": small_png()}])
    page.get_by_role("button", name="Envoyer le message").click()
    expect(page.get_by_role("status")).to_contain_text("envoyé au service Restauration scolaire")
    expect(page.get_by_role("heading", name=subject)).to_be_visible()
    expect(page.get_by_text("<script>alert(1)</script>", exact=False)).to_be_visible()  # shown as text
    expect(page.get_by_role("link", name="https://exemple.fr/ordonnance")).to_have_attribute(
        "rel", "noopener noreferrer nofollow")
    expect(page.get_by_role("link", name=re.compile("Télécharger la pièce jointe « photo.png »"))).to_be_visible()
    axe_check(page, "conversation (famille)")

    # The agent finds it unread in the Restauration scolaire inbox and replies.
    sign_in(page, url, "agent@example.fr")
    page.goto(url + "/gestion/")
    expect(page.get_by_role("link", name="Messages non lus")).to_be_visible()
    page.goto(url + "/gestion/messagerie")
    axe_check(page, "messagerie (gestion)")
    row = page.locator("li", has=page.get_by_role("link", name=subject))
    expect(row).to_contain_text("Non lu")
    page.get_by_role("link", name=subject).click()
    axe_check(page, "conversation (gestion)")
    page.get_by_label("Votre message").fill("Bien reçu, bon rétablissement à Léa.")
    page.get_by_role("button", name="Envoyer la réponse").click()
    expect(page.get_by_role("status")).to_contain_text("la famille est prévenue par e-mail")
    thread_url = page.url

    mails = [m for m in live_server.outbox() if m["to"] == "famille.martin@example.fr"
             and m["subject"] == "Nouvelle réponse du service Restauration scolaire"]
    assert mails, "the family's e-mail is in the outbox"
    assert "/messagerie/" in mails[0]["body"] and "rétablissement" not in mails[0]["body"]

    # The family sees the reply unread.
    sign_in(page, url, "famille.martin@example.fr")
    page.goto(url + "/messagerie")
    expect(page.locator("li", has=page.get_by_role("link", name=subject))).to_contain_text("Non lu")
    expect(page.get_by_role("heading", name=re.compile("non lue"))).to_be_visible()
    axe_check(page, "non lu (famille)")
    page.get_by_role("link", name=subject).click()
    expect(page.get_by_text("Bien reçu, bon rétablissement à Léa.")).to_be_visible()

    # The agent turns the message into a justified absence.
    sign_in(page, url, "agent@example.fr")
    page.goto(thread_url)
    page.get_by_role("link", name="Déclarer l'absence").click()
    axe_check(page, "déclarer l'absence")
    day = page.get_by_role("checkbox").first
    name = page.locator("label", has_text="Léa").first.inner_text()
    day.check()
    page.get_by_role("button", name="Enregistrer l'absence justifiée").click()
    expect(page.get_by_role("status")).to_contain_text("Absence justifiée enregistrée pour 1 jour(s)")
    expect(page.locator(".msg-list")).to_contain_text(name)
    expect(page.get_by_text("Traité", exact=True)).to_be_visible()
    axe_check(page, "absence enregistrée")
    assert not page.js_errors
