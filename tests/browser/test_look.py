"""The commune's look (issue 14) at 320 px and 1280 px: login, a parent's dashboard, a child's file (a
French date), « Mes documents » (the French upload control, then the alert after sending), the staff
settings (the commune's colour drives the header, buttons and headings; an error then a success alert).
axe-core and no horizontal scroll on each page; a visible 2 px focus ring; no English « Browse… / No
file chosen » visible."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import axe_check, sign_in

RING = """el => { const s = getComputedStyle(el); return [el.matches(':focus-visible'), s.outlineStyle,
                 s.outlineWidth, s.outlineOffset]; }"""
SIGNED_IN = re.compile(r"/(mon-espace|gestion)")  # where a parent's or a staff member's sign-in lands


def keyboard_focus(page, locator) -> None:
    """Focus as a keyboard user does (focus there, Tab away and Shift+Tab back): :focus-visible applies."""
    locator.focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")


def assert_ring(locator, ring_of=None) -> None:
    """A focused control shows a solid 2 px outline 2 px away (on `ring_of` when its face draws it)."""
    focused, *_ = locator.evaluate(RING)
    assert focused, "the control is not focused by keyboard"
    _, style, width, offset = (ring_of or locator).evaluate(RING)
    assert (style, width, offset) == ("solid", "2px", "2px")


def each_width(page, check) -> None:
    """The same page at 320 px (the smallest phones) then 1280 px: `check(width)` after each resize."""
    for width in (320, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        check(width)


def test_look_of_representative_pages(browser, live_server):
    context = browser.new_context(viewport={"width": 320, "height": 800}, locale="fr-FR", bypass_csp=True,
                                  timezone_id="Europe/Paris")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(live_server.url + "/connexion")

        def login_page(width):
            axe_check(page, f"connexion à {width} px")
            button = page.get_by_role("button", name="Se connecter")
            keyboard_focus(page, button)
            assert_ring(button)
        each_width(page, login_page)

        sign_in(page, live_server.url, "famille.martin@example.fr", landing=SIGNED_IN)
        expect(page.get_by_role("heading", name="Raccourcis")).to_be_visible()

        def dashboard(width):
            axe_check(page, f"tableau de bord à {width} px")
            shortcut = page.locator(".shortcuts a").first
            assert shortcut.evaluate("a => getComputedStyle(a.parentElement).listStyleType") == "none"  # no bullets
            keyboard_focus(page, shortcut)
            assert_ring(shortcut)
            # No empty band at the top of a card: its heading starts at the card's padding.
            gap = page.locator(".dashboard-block").first.evaluate(
                "c => c.querySelector('h2').getBoundingClientRect().top - c.getBoundingClientRect().top")
            assert gap <= 20
            # The footer lines up with the page's content.
            main_left = page.locator("main").evaluate(
                "m => m.getBoundingClientRect().left + parseFloat(getComputedStyle(m).paddingLeft)")
            assert abs(main_left - page.locator(".footer-brand").evaluate("p => p.getBoundingClientRect().left")) <= 1
        each_width(page, dashboard)

        page.goto(live_server.url + "/mon-compte")
        page.locator("a[href$='/modifier'][href*='/enfants/']").first.click()
        birth = page.get_by_label("Date de naissance", exact=True)
        expect(birth).to_have_value("14/03/2018")
        expect(birth).to_have_attribute("type", "text")
        hint = page.locator("#" + birth.get_attribute("aria-describedby"))
        expect(hint).to_have_text("Format : jj/mm/aaaa, par exemple 14/03/2018.")
        each_width(page, lambda width: axe_check(page, f"fiche enfant à {width} px"))

        page.goto(live_server.url + "/mon-compte/documents")
        upload = page.locator(".upload").first
        native = page.get_by_label("Fichier (PDF, JPEG ou PNG, 10 Mo maximum)")

        def upload_control(width):
            expect(upload.locator(".upload-button")).to_have_text("Choisir un fichier")
            expect(upload.locator(".upload-name")).to_have_text("Aucun fichier choisi")
            # The browser's own control (« Browse… », « No file chosen » in an English one) is transparent, laid
            # over the French face: the eye sees only the face, a tap anywhere on it opens the file picker.
            assert native.evaluate("i => getComputedStyle(i).opacity") == "0"
            box, face = native.bounding_box(), upload.locator(".upload-face").bounding_box()
            assert abs(box["width"] - face["width"]) <= 1 and abs(box["height"] - face["height"]) <= 1
            visible = upload.evaluate("u => u.innerText")
            assert "Browse" not in visible and "No file" not in visible and "Choose" not in visible
            keyboard_focus(page, native)  # the real input takes the keyboard; its face shows the ring
            assert_ring(native, ring_of=upload.locator(".upload-button"))
        each_width(page, upload_control)
        page.get_by_label("Type de document").select_option(index=1)
        native.set_input_files({"name": "attestation-caf.pdf", "mimeType": "application/pdf",
                                "buffer": b"%PDF-1.4\n%test\n"})
        expect(upload.locator(".upload-name")).to_have_text("attestation-caf.pdf")
        page.get_by_role("button", name="Envoyer le document").click()
        status = page.locator("#messages")
        expect(status).to_contain_text("Votre document a été envoyé")

        def sent(width):
            band = status.locator(".message-success").evaluate(
                "a => [getComputedStyle(a).borderLeftWidth, getComputedStyle(a, '::before').maskImage"
                " || getComputedStyle(a, '::before').webkitMaskImage]")
            assert band[0] == "40px" and band[1].startswith("url(")  # the icon band beside the text
            axe_check(page, f"mes documents, document envoyé, à {width} px")
        each_width(page, sent)

        sign_in(page, live_server.url, "admin@example.fr", landing=SIGNED_IN)
        page.goto(live_server.url + "/gestion/parametres")
        page.get_by_label("Couleur principale").fill("#ffcc00")  # too light for white text
        page.get_by_role("button", name="Enregistrer les paramètres").click()
        expect(page.get_by_role("alert")).to_contain_text("Cette couleur est trop claire")
        page.get_by_label("Couleur principale").fill("#7a1f5c")
        page.get_by_role("button", name="Enregistrer les paramètres").click()
        expect(page.locator("#messages")).to_contain_text("Paramètres de la commune enregistrés.")
        page.reload()  # /theme.css may be cached 5 minutes; a reload asks again

        def themed(width):
            plum = "rgb(122, 31, 92)"
            assert page.locator(".site-header").evaluate("h => getComputedStyle(h).backgroundColor") == plum
            assert page.get_by_role("button", name="Enregistrer le logo").evaluate(
                "b => getComputedStyle(b).backgroundColor") == plum
            assert page.locator("h2").first.evaluate("h => getComputedStyle(h).color") == plum
            axe_check(page, f"paramètres de la commune à {width} px")
        each_width(page, themed)
        assert not errors
    finally:
        context.close()
