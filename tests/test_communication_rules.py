"""The audience rule of news and published documents (services/communication/audience.py): everyone,
a school, an activity (validated enrolment), a class level (of one school or of all), the window and
« Dépublier »; the Markdown cleaning; the categories."""
import datetime as dt

import pytest

from models import Child, Enrolment, NewsItem
from services.communication import categories, news, publications, rendering
from services.communication.audience import household_audience
from services.communication.news import Draft
from services.core import clock
from services.core.errors import DomainError, InvalidInput
from tests import inert

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def people(demo, app):
    """The demo's two households, an agent, the schools and ALSH Mercredi, and the app's upload folder."""
    return {"martin": demo["households"]["martin"], "dupont": demo["households"]["dupont"],
            "agent": demo["users"]["agent"], "phare": demo["schools"]["phare"],
            "petit_prince": demo["schools"]["petit_prince"], "mercredi": demo["activities"]["alsh_mercredi"],
            "vacances": demo["activities"]["alsh_vacances"], "uploads": app.config["UPLOAD_DIR"]}


def _publish(people, title, **audience) -> NewsItem:
    return news.save_news(people["agent"], Draft(title, body="Texte.", **audience), people["uploads"])


def _sees(household, item) -> bool:
    return any(row.item.id == item.id for row in news.news_for(household, per_page=100).rows)


@pytest.mark.parametrize("audience, martin, dupont", [
    ({}, True, True),
    ({"audience": "school", "school_id": "phare"}, True, True),  # Léa; Inès and Malo
    ({"audience": "school", "school_id": "petit_prince"}, True, True),  # Hugo; Jade
    ({"audience": "class", "class_level": "CE2", "school_id": "phare"}, True, False),  # Léa only
    ({"audience": "class", "class_level": "CE2"}, True, False),  # CE2 of every school
    ({"audience": "class", "class_level": "CM2", "school_id": "phare"}, False, True),  # Inès
    ({"audience": "class", "class_level": "MS", "school_id": "phare"}, False, False),  # Hugo's MS is at Petit Prince
    ({"audience": "class", "class_level": "MS"}, True, False),  # …which « all schools » reaches
    ({"audience": "activity", "activity_id": "vacances"}, True, True),  # Léa; Malo
])
def test_audience_rule(people, audience, martin, dupont):
    values = dict(audience)
    for key in ("school_id", "activity_id"):
        if key in values:
            values[key] = people[values[key]].id
    item = _publish(people, "Test", **values)
    assert (_sees(people["martin"], item), _sees(people["dupont"], item)) == (martin, dupont)
    document = publications.save_document(people["agent"], Draft("Doc", **values), categories.all_categories()[0].id,
                                          None, people["uploads"], upload=("a.pdf", PDF))
    for household, expected in ((people["martin"], martin), (people["dupont"], dupont)):
        shown = [row.document.id for category in publications.documents_for(household) for row in category.rows]
        assert (document.id in shown) == expected  # documents follow the same rule
        # The home page's prepared queries (one audience read for both) give the same answer.
        audience = household_audience(household)
        unread, count = news.unread_news_and_count(household, 100, audience)
        assert (item.id in [n.id for n in unread]) == expected and count == len(unread)
        assert (document.id in [d.id for d in publications.new_documents(household, 100, audience)]) == expected


def test_activity_audience_needs_a_validated_enrolment(people):
    item = _publish(people, "Mercredi", audience="activity", activity_id=people["mercredi"].id)
    assert _sees(people["dupont"], item)  # Inès is enrolled in ALSH Mercredi
    Enrolment.update(status="requested").where(
        (Enrolment.activity == people["mercredi"].id)
        & Enrolment.child.in_(Child.select(Child.id).where(Child.household == people["dupont"]))).execute()
    assert not _sees(people["dupont"], item)


def test_window_and_unpublish(people, freeze):
    now = clock.local_now()
    later = _publish(people, "Programmée", publish_from=now + dt.timedelta(days=2),
                     publish_until=now + dt.timedelta(days=5))
    assert not _sees(people["martin"], later)
    freeze((now + dt.timedelta(days=3)).isoformat())
    assert _sees(people["martin"], later)
    freeze((now + dt.timedelta(days=6)).isoformat())
    assert not _sees(people["martin"], later)  # past its end
    freeze(now.isoformat())
    current = _publish(people, "Tout de suite")
    assert _sees(people["martin"], current)
    news.set_published(people["agent"], current, published=False)
    assert not _sees(people["martin"], current)
    with pytest.raises(DomainError):
        news.news_item_for(people["martin"], current.id)
    news.set_published(people["agent"], current, published=True)
    assert _sees(people["martin"], current)


def test_unread_count_and_read_marker(people):
    before = news.unread_news_count(people["martin"])
    item = _publish(people, "Nouvelle")
    assert news.unread_news_count(people["martin"]) == before + 1
    news.mark_read(people["martin"], item)
    news.mark_read(people["martin"], item)  # a second opening changes nothing
    assert news.unread_news_count(people["martin"]) == before
    assert news.unread_news_count(people["dupont"]) >= 1  # read markers are per household


def test_documents_counts_and_same_audience(people):
    menus = categories.all_categories()[0]
    for_ce2 = publications.save_document(people["agent"], Draft("Sortie CE2", audience="class", class_level="CE2",
                                                                school_id=people["phare"].id),
                                         menus.id, None, people["uploads"], upload=("a.pdf", PDF))
    martin_rows = {row.category.id: row for row in publications.documents_for(people["martin"])}
    dupont_rows = {row.category.id: row for row in publications.documents_for(people["dupont"])}
    assert for_ce2.id in [r.document.id for r in martin_rows[menus.id].rows]
    assert for_ce2.id not in [r.document.id for r in dupont_rows[menus.id].rows]
    new_before = martin_rows[menus.id].new_count
    publications.mark_read(people["martin"], for_ce2)
    after = {row.category.id: row for row in publications.documents_for(people["martin"])}
    assert after[menus.id].new_count == new_before - 1
    assert for_ce2 not in publications.new_documents(people["martin"], 10)
    with pytest.raises(DomainError):
        publications.document_for(people["dupont"], for_ce2.id)


@pytest.mark.parametrize("draft, field", [
    (Draft("", body="x"), "title"),
    (Draft("T", body="   "), "body"),
    (Draft("T", body="x", audience="school"), "school"),
    (Draft("T", body="x", audience="activity", activity_id=999999), "activity"),
    (Draft("T", body="x", audience="class", class_level="6e"), "class_level"),
    (Draft("T", body="x", audience="nobody"), "audience"),
    (Draft("T", body="x", publish_from=dt.datetime(2026, 12, 5), publish_until=dt.datetime(2026, 12, 1)),
     "publish_until"),
])
def test_refusals_change_nothing(people, draft, field):
    count = NewsItem.select().count()
    with pytest.raises(InvalidInput) as refusal:
        news.save_news(people["agent"], draft, people["uploads"])
    assert refusal.value.field == field
    assert NewsItem.select().count() == count


def test_class_level_must_be_taught_by_the_chosen_school(people):
    people["phare"].classes = "CP,CE1,CE2,CM1,CM2"
    people["phare"].save()
    with pytest.raises(InvalidInput, match="n'a pas de classe PS"):
        news.save_news(people["agent"], Draft("T", body="x", audience="class", class_level="PS",
                                              school_id=people["phare"].id), people["uploads"])


@pytest.mark.parametrize("markdown, forbidden", [
    ("<script>alert(1)</script>", ""),
    ("[clic](javascript:alert(1))", ""),
    ("[clic](JaVaScRiPt:alert(1)) [x](  javascript:alert(1))", ""),
    ('<img src=x onerror="alert(1)">', ""),
    ('<a href="https://a.fr" onclick="x()">a</a>', ""),
    ("[data](data:text/html;base64,PHNjcmlwdD4=)", ""),
    ("![image](https://evil.example/x.png)", ""),
    ("<iframe src=https://evil.example></iframe><style>*{}</style>", ""),
])
def test_markdown_is_cleaned(markdown, forbidden):
    elements = inert.elements(rendering.to_html(markdown))
    assert inert.problems(elements) == [], markdown


def test_markdown_keeps_what_is_allowed():
    html = rendering.to_html("## Titre\n\n**gras** *it* [lien](https://mairie.fr) [m](mailto:a@b.fr)\n\n- un")
    assert "<h2>Titre</h2>" in html and "<strong>gras</strong>" in html and "<em>it</em>" in html
    assert '<a href="https://mairie.fr" rel="noopener noreferrer">lien</a>' in html
    assert 'href="mailto:a@b.fr"' in html and "<li>un</li>" in html


def test_categories_add_rename_move_delete(people, demo):
    admin = demo["users"]["admin"]
    names = [c.name for c in categories.all_categories()]
    assert names[:5] == categories.DEFAULTS
    extra = categories.add_category(admin, "  Sorties   scolaires ")
    assert extra.name == "Sorties scolaires" and categories.all_categories()[-1].id == extra.id
    with pytest.raises(InvalidInput):
        categories.add_category(admin, "menus")
    categories.move_category(admin, extra, "up")
    assert categories.all_categories()[-2].id == extra.id
    categories.rename_category(admin, extra, "Sorties")
    menus = categories.all_categories()[0]
    with pytest.raises(DomainError, match="contient"):
        categories.delete_category(admin, menus)  # the demo's December menus use it
    categories.delete_category(admin, categories.get_category(extra.id))
    assert "Sorties" not in [c.name for c in categories.all_categories()]


def test_news_is_mailed_once_to_its_audience_who_want_it_when_it_goes_live(people, freeze):
    """The worker's job: a news item that went live is e-mailed to the parents of its audience who kept
    « Actualités de la commune », once; a scheduled one waits for its day; the demo's past is not news."""
    from models import OutgoingMail, User
    from services.accounts import mail_preferences
    assert news.mail_published_news(base_url="https://famille.example.fr") == 0  # the demo's items are already told
    item = _publish(people, "Sortie au musée", audience="class", class_level="CE2", school_id=people["phare"].id)
    later = news.save_news(people["agent"], Draft("Fête de fin d'année", body="Texte.",
                                                  publish_from=clock.local_now() + dt.timedelta(days=2)), people["uploads"])
    dupont_parent = User.get(User.email == "famille.dupont@example.fr")
    mail_preferences.save(dupont_parent, {mail_preferences.REPLIES: True, mail_preferences.NEWS: False,
                                          mail_preferences.REMINDERS: True})
    before = OutgoingMail.select().count()
    assert news.mail_published_news(base_url="https://famille.example.fr") == 1
    mails = list(OutgoingMail.select().order_by(OutgoingMail.id).offset(before))
    assert [m.to for m in mails] == ["famille.martin@example.fr"]  # Léa is in CE2 at École du Phare
    assert mails[0].subject == "Actualité : Sortie au musée" and f"https://famille.example.fr/actualites/{item.id}" in mails[0].body
    assert news.mail_published_news(base_url="https://famille.example.fr") == 0  # never twice
    freeze((clock.local_now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
    assert news.mail_published_news(base_url="https://famille.example.fr") == 1  # the scheduled one, on its day, to everyone but Dupont (opted out)
    last = list(OutgoingMail.select().order_by(OutgoingMail.id).offset(before + len(mails)))
    assert "famille.dupont@example.fr" not in [m.to for m in last] and "famille.martin@example.fr" in [m.to for m in last]
    assert NewsItem.get_by_id(later.id).mailed_at is not None


def test_the_worker_mails_news_every_five_minutes(people):
    import jobs
    _publish(people, "Menus de janvier")
    assert jobs.mail_news.call_local() == "1 actualité(s) envoyée(s)"
    assert jobs.mail_news.call_local() == "0 actualité(s) envoyée(s)"
