"""Messaging between families and services (services/communication/messaging.py, sick_notices.py and the
/messagerie, /gestion/messagerie views): unread markers, the roles of each service's inbox, a sick-child
notice turned into absences, attachments checked like documents, texts and file names shown inert."""
from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest

from models import AbsenceDeclaration, AuditLog, Booking, Household, Message, OutgoingMail, Service, Thread, User
from services.billing import checkout
from services.communication import messaging, sick_notices
from services.core.errors import NotFound
from tests.conftest import csrf_token, outbox_messages

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the checks read the content's signature
MON = dt.date(2026, 11, 30)  # at the tests' « now » (Sun 29/11 11 h) past the canteen's cancel deadline


def user(email):
    return User.get(User.email == email)


def staff(role):
    return user(f"{role}@example.fr")


def household(demo, name="martin"):
    return Household.get_by_id(demo["households"][name].id)


def service(name):
    return Service.get(Service.name == name)


def link(thread_id):
    return f"https://portail.test/messagerie/{thread_id}"


def write(demo, name="Restauration scolaire", body="Bonjour", sick=False, child=None, attachment=None, tmp="/tmp"):
    return messaging.start_thread(user("famille.martin@example.fr"), household(demo), service(name).id,
                                  "Enfant malade" if sick else "Question", child, body, sick, attachment, tmp)


def book_monday(demo, child="lea"):
    """Monday's meal booked by staff past the deadline: a day only the desk may mark absent."""
    unit = demo["units"]["repas_phare"]
    checkout.validate_at_desk(household(demo), staff("agent"), {(demo["children"][child].id, unit.id, MON): True},
                              "Préparation du test")
    return Booking.get((Booking.child == demo["children"][child].id) & (Booking.unit == unit.id) & (Booking.date == MON))


# --- Services -------------------------------------------------------------------------------------------


def test_unread_markers_on_both_sides_and_the_family_mail_without_content(demo, tmp_path):
    family = household(demo)
    before = messaging.unread_count(family)
    agent = staff("agent")
    unread_before, open_before = messaging.staff_counts(agent)
    thread = write(demo, body="Léa a de la fièvre", tmp=tmp_path)
    assert messaging.unread_count(family) == before  # the family's own message is read by the family
    assert messaging.staff_counts(agent) == (unread_before + 1, open_before + 1)
    messaging.read_as_staff(agent, thread.id)
    assert messaging.staff_counts(agent) == (unread_before, open_before + 1)
    mails = OutgoingMail.select().count()
    messaging.staff_reply(agent, thread.id, "Bien reçu, bon rétablissement", None, tmp_path, link)
    assert messaging.unread_count(family) == before + 1
    sent = list(OutgoingMail.select().order_by(OutgoingMail.id.desc()).limit(OutgoingMail.select().count() - mails))
    assert [m.to for m in sent] == ["famille.martin@example.fr"]
    assert sent[0].subject == "Nouvelle réponse du service Restauration scolaire"
    assert link(thread.id) in sent[0].body
    assert "fièvre" not in sent[0].body and "rétablissement" not in sent[0].body  # no health data by e-mail
    _thread, messages = messaging.read_as_family(family, thread.id)
    assert [m.from_staff for m in messages] == [False, True]  # replies in order
    assert messaging.unread_count(family) == before
    messaging.family_reply(user("famille.martin@example.fr"), family, thread.id, "Merci", None, tmp_path)
    assert messaging.staff_counts(agent)[0] == unread_before + 1


def test_each_service_inbox_is_open_only_to_its_roles(demo, tmp_path):
    canteen = write(demo, "Restauration scolaire", tmp=tmp_path)
    leisure = write(demo, "Centre de loisirs", tmp=tmp_path)
    regie = write(demo, "Régie", tmp=tmp_path)
    readers = {role: {t.id for t in messaging.inbox(staff(role), messaging.InboxFilter())}
               for role in ("agent", "regisseur", "animateur", "admin", "cuisine")}
    assert {canteen.id, leisure.id} <= readers["agent"] and regie.id not in readers["agent"]
    assert regie.id in readers["regisseur"] and canteen.id not in readers["regisseur"]
    assert leisure.id in readers["animateur"] and canteen.id not in readers["animateur"]
    assert {canteen.id, leisure.id, regie.id} <= readers["admin"]
    assert readers["cuisine"] == set()
    with pytest.raises(NotFound):
        messaging.staff_reply(staff("regisseur"), canteen.id, "Je lis tout", None, tmp_path, link)
    with pytest.raises(NotFound):
        messaging.read_as_staff(staff("animateur"), regie.id)
    with pytest.raises(NotFound):  # another household's thread does not exist for the Dupont family
        messaging.read_as_family(household(demo, "dupont"), canteen.id)
    # assignment only to a colleague who reads that service
    with pytest.raises(messaging.MessageRefused):
        messaging.assign(staff("agent"), canteen.id, staff("regisseur").id)
    assert messaging.assign(staff("agent"), canteen.id, staff("admin").id).assigned_to_id == staff("admin").id
    mine = messaging.inbox(staff("admin"), messaging.InboxFilter(mine=True))
    assert [t.id for t in mine] == [canteen.id]
    messaging.set_done(staff("agent"), canteen.id, True)
    done = messaging.inbox(staff("agent"), messaging.InboxFilter(status="done"))
    assert canteen.id in {t.id for t in done}


def test_a_sick_notice_becomes_a_justified_absence_in_one_step(demo, tmp_path):
    booking = book_monday(demo)
    thread = write(demo, "Service enfance", sick=True, child=demo["children"]["lea"].id, tmp=tmp_path)
    agent = staff("agent")
    _thread, options = sick_notices.absence_options(agent, thread.id)
    recordable = [o.booking.id for o in options if o.recordable]
    assert booking.id in recordable
    with pytest.raises(messaging.MessageRefused):
        sick_notices.declare_absences(agent, thread.id, [])
    other = Booking.select().where(Booking.household == demo["households"]["dupont"].id).first()
    with pytest.raises(NotFound):  # a day of another family is not this notice's
        sick_notices.declare_absences(agent, thread.id, [other.id])
    assert Booking.get_by_id(booking.id).attendance == ""
    names = sick_notices.declare_absences(agent, thread.id, [booking.id])
    assert len(names) == 1
    assert Booking.get_by_id(booking.id).attendance == "absent_justified"
    declaration = AbsenceDeclaration.get(AbsenceDeclaration.booking == booking.id)
    assert declaration.status == "accepted" and declaration.declared_by_id == agent.id
    thread = Thread.get_by_id(thread.id)
    assert thread.status == "done" and messaging.family_unread(thread)
    assert AuditLog.select().where(AuditLog.action == "message transformé en absence").count() == 1
    with pytest.raises(NotFound):  # a thread that is not a sick notice
        sick_notices.absence_options(agent, write(demo, tmp=tmp_path).id)
    with pytest.raises(NotFound):  # the régisseur does not read the Service enfance
        sick_notices.absence_options(staff("regisseur"), thread.id)


def test_a_sick_notice_needs_the_child_and_a_foreign_child_is_refused(demo, tmp_path):
    with pytest.raises(messaging.MessageRefused):
        write(demo, sick=True, tmp=tmp_path)
    with pytest.raises(messaging.MessageRefused):
        write(demo, child=demo["children"]["ines"].id, tmp=tmp_path)
    with pytest.raises(messaging.MessageRefused):
        write(demo, body="   \x00  ", tmp=tmp_path)


# --- Parent views -----------------------------------------------------------------------------------


def post_new(client, fields, file=None):
    token = csrf_token(client, "/messagerie/nouveau")
    data = {"csrf_token": token, **fields}
    if file is not None:
        data["attachment"] = (io.BytesIO(file[1]), file[0])
    return client.post("/messagerie/nouveau", data=data, content_type="multipart/form-data")


def test_parent_writes_with_a_photo_reads_the_reply_and_downloads_only_their_own(client, auth, demo):
    auth.login()
    before = Thread.select().count()
    response = post_new(client, {"service": service("Restauration scolaire").id, "subject": "Photo du menu",
                                 "child": demo["children"]["lea"].id, "body": "Voici la photo"},
                        ("menu.png", PNG))
    assert response.status_code == 302
    thread = Thread.select().order_by(Thread.id.desc()).first()
    assert Thread.select().count() == before + 1 and thread.household_id == demo["households"]["martin"].id
    message = Message.get(Message.thread == thread.id)
    assert message.attachment_name == "menu.png" and message.attachment_type == "image/png"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Voici la photo" in page and "Télécharger la pièce jointe « menu.png »" in page
    download = client.get(f"/messagerie/{thread.id}/pieces/{message.id}")
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["Content-Disposition"].startswith("attachment")
    # the agent replies: the family sees « Non lu » and the count, and gets the e-mail
    messaging.staff_reply(staff("agent"), thread.id, "Merci !", None, "/tmp", link)
    index = client.get("/messagerie").get_data(as_text=True)
    assert "Non lu" in index and "1 non lue" in index
    assert any(m["subject"] == "Nouvelle réponse du service Restauration scolaire" for m in outbox_messages())
    client.get(f"/messagerie/{thread.id}")
    assert "Non lu" not in client.get("/messagerie").get_data(as_text=True) or \
        messaging.unread_count(household(demo)) < 2
    assert messaging.family_unread(Thread.get_by_id(thread.id)) is False
    # another family: the thread, the reply and the attachment do not exist
    auth.logout()
    auth.login("famille.dupont@example.fr")
    assert client.get(f"/messagerie/{thread.id}").status_code == 404
    assert client.get(f"/messagerie/{thread.id}/pieces/{message.id}").status_code == 404
    token = csrf_token(client, "/messagerie")
    assert client.post(f"/messagerie/{thread.id}", data={"csrf_token": token, "body": "intrus"}).status_code == 404
    assert Message.select().where(Message.thread == thread.id).count() == 2


@pytest.mark.parametrize("file", [("note.txt", b"juste du texte"), ("vide.png", b""),
                                  ("faux.png", b"<html><script>alert(1)</script></html>")])
def test_an_attachment_that_is_not_a_pdf_jpeg_or_png_is_refused_and_nothing_is_sent(client, auth, demo, file):
    auth.login()
    before = (Thread.select().count(), Message.select().count())
    response = post_new(client, {"service": service("Service enfance").id, "subject": "Pièce", "body": "Voir PJ"},
                        file)
    assert response.status_code == 400
    assert (Thread.select().count(), Message.select().count()) == before
    assert "PDF, un JPEG ou un PNG" in response.get_data(as_text=True) or "vide" in response.get_data(as_text=True)


def test_missing_or_bad_fields_answer_a_french_message(client, auth, demo):
    auth.login()
    response = post_new(client, {"service": "999999", "subject": "", "body": ""})
    assert response.status_code == 400 and "Choisissez le service" in response.get_data(as_text=True)
    response = post_new(client, {"service": service("Service enfance").id, "subject": "x" * 151, "body": "a"})
    assert response.status_code == 400 and "150 caractères au plus" in response.get_data(as_text=True)
    response = post_new(client, {"service": service("Service enfance").id, "subject": "Malade", "body": "a",
                                 "sick_notice": "y"})
    assert response.status_code == 400 and "indiquez l'enfant malade" in html.unescape(response.get_data(as_text=True))


XSS_BODY = ("<script>alert('x')</script> <img src=x onerror=alert(1)> "
            "[clic](javascript:alert(1)) javascript:alert(2) https://exemple.fr/menu?a=1&b=2.")
XSS_NAME = "<img src=x onerror=alert(1)>.png"


def test_texts_and_file_names_come_out_inert(client, auth, demo):
    auth.login()
    response = post_new(client, {"service": service("Restauration scolaire").id, "subject": "<b>Objet</b><script>x</script>",
                                 "body": XSS_BODY}, (XSS_NAME, PNG))
    assert response.status_code == 302
    thread = Thread.select().order_by(Thread.id.desc()).first()
    assert Message.get(Message.thread == thread.id).body == XSS_BODY  # stored as typed
    for page in (client.get(f"/messagerie/{thread.id}").get_data(as_text=True),
                 client.get("/messagerie").get_data(as_text=True)):
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>Objet" not in page
        assert 'href="javascript:' not in page.lower()
    page = client.get(f"/messagerie/{thread.id}").get_data(as_text=True)
    assert "&lt;script&gt;" in page
    assert '<a href="https://exemple.fr/menu?a=1&amp;b=2" rel="noopener noreferrer nofollow">' in page
    name = Message.get(Message.thread == thread.id).attachment_name
    assert not set(name) & set("<>=\"'/") and name.endswith(".png")  # letters, digits, « -_() » only
    download = client.get(f"/messagerie/{thread.id}/pieces/{Message.get(Message.thread == thread.id).id}")
    assert "<" not in download.headers["Content-Disposition"]
    auth.logout()
    auth.login("agent@example.fr")
    page = client.get(f"/gestion/messagerie/{thread.id}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page and 'href="javascript:' not in page.lower()
    message = Message.get(Message.thread == thread.id)
    assert client.get(f"/gestion/messagerie/{thread.id}/pieces/{message.id}").data == PNG
    assert AuditLog.select().where(AuditLog.action == "lecture d'une pièce jointe de message").count() == 1
    inbox = client.get("/gestion/messagerie").get_data(as_text=True)
    assert "<b>Objet" not in inbox and "&lt;b&gt;Objet" in inbox


# --- Staff views --------------------------------------------------------------------------------------


def test_staff_inbox_counts_reply_assign_and_done(client, auth, demo, tmp_path):
    thread = write(demo, body="Question sur le menu", tmp=tmp_path)
    auth.login("agent@example.fr")
    unread, to_treat = messaging.staff_counts(staff("agent"))
    dashboard = client.get("/gestion/").get_data(as_text=True)
    assert re.search(r"Messages non lus</a> <span class=\"count\">" + str(unread), dashboard)
    assert "Messages à traiter" in dashboard
    inbox = client.get("/gestion/messagerie").get_data(as_text=True)
    assert f"<strong>{unread}</strong> conversation" in inbox and "Non lu" in inbox
    url = f"/gestion/messagerie/{thread.id}"
    token = csrf_token(client, url)
    assert messaging.staff_counts(staff("agent"))[0] == unread - 1  # opening marks it read
    assert client.post(url, data={"csrf_token": token, "body": ""}).status_code == 400
    assert client.post(url, data={"csrf_token": token, "body": "Réponse du service"}).status_code == 302
    assert OutgoingMail.select().where(OutgoingMail.subject == "Nouvelle réponse du service Restauration scolaire"
                                       ).count() == 1
    admin = staff("admin")
    assert client.post(url + "/attribuer", data={"csrf_token": token, "assignee": admin.id}).status_code == 302
    assert Thread.get_by_id(thread.id).assigned_to_id == admin.id
    client.post(url + "/attribuer", data={"csrf_token": token, "assignee": staff("cuisine").id})
    assert Thread.get_by_id(thread.id).assigned_to_id == admin.id  # refused: the kitchen reads no inbox
    client.post(url + "/statut", data={"csrf_token": token, "done": "1"})
    assert Thread.get_by_id(thread.id).status == "done"
    client.post(url + "/statut", data={"csrf_token": token})
    assert Thread.get_by_id(thread.id).status == "open"
    tab = client.get(f"/gestion/familles/{thread.household_id}/messages").get_data(as_text=True)
    assert url in tab and 'aria-current="page">Messages' in tab
    auth.logout()
    auth.login("regisseur@example.fr")
    assert client.get(url).status_code == 404  # the Restauration scolaire is not the régie's
    assert url not in client.get(f"/gestion/familles/{thread.household_id}/messages").get_data(as_text=True)
    auth.logout()
    auth.login("cuisine@example.fr")
    assert client.get(url).status_code == 403


def test_agent_declares_the_absence_from_the_sick_notice_page(client, auth, demo, tmp_path):
    booking = book_monday(demo)
    thread = write(demo, "Service enfance", sick=True, child=demo["children"]["lea"].id, tmp=tmp_path)
    auth.login("agent@example.fr")
    page = client.get(f"/gestion/messagerie/{thread.id}").get_data(as_text=True)
    url = f"/gestion/messagerie/{thread.id}/absence"
    assert url in page and "Déclarer l'absence" in html.unescape(page)
    form = client.get(url).get_data(as_text=True)
    assert f'value="{booking.id}"' in form
    token = csrf_token(client, url)
    assert client.post(url, data={"csrf_token": token}).status_code == 400
    response = client.post(url, data={"csrf_token": token, "bookings": str(booking.id)})
    assert response.status_code == 302
    assert Booking.get_by_id(booking.id).attendance == "absent_justified"
    assert "Absence justifiée enregistrée" in html.unescape(client.get(f"/gestion/messagerie/{thread.id}").get_data(as_text=True))
    auth.logout()
    auth.login("regisseur@example.fr")
    assert client.get(url).status_code == 403  # the desk's absence is the agents'


HOSTILE = ["99999999999999999999", "-1", "0", "é" * 6000, "<script>alert(1)</script>", "\x00", "1 2"]


def test_hostile_values_on_every_messaging_form_change_nothing(client, auth, demo, tmp_path):
    thread = write(demo, "Service enfance", sick=True, child=demo["children"]["lea"].id, tmp=tmp_path)
    messaging.assign(staff("agent"), thread.id, staff("agent").id)
    auth.login("agent@example.fr")
    base = f"/gestion/messagerie/{thread.id}"
    token = csrf_token(client, base)
    before = Booking.select().where(Booking.attendance != "").count()
    for value in HOSTILE:
        for url, field in [(base, "body"), (base + "/attribuer", "assignee"), (base + "/absence", "bookings")]:
            response = client.post(url, data={"csrf_token": token, field: value})
            assert response.status_code < 500, (url, value)
        assert client.get(f"/gestion/messagerie?service={value}&statut={value}&moi={value}").status_code in (200, 400)
    assert Thread.get_by_id(thread.id).assigned_to_id == staff("agent").id
    assert Booking.select().where(Booking.attendance != "").count() == before  # no absence from junk ids
    bodies = [m.body for m in Message.select().where(Message.thread == thread.id)]
    assert "é" * 6000 not in bodies and "\x00" not in bodies  # too long, empty once cleaned: refused


def test_lists_ask_the_same_number_of_queries_with_5_or_60_conversations(client, auth, demo, tmp_path):
    """No query per conversation: the inbox, the family's list and the desk tab (measured 5 → 60 threads)."""
    from tests.test_query_counts import counting_queries

    def measure(urls):
        counts = []
        for url in urls:
            client.get(url)  # warm-up
            with counting_queries() as log:
                assert client.get(url).status_code == 200
            counts.append(len(log.statements))
        return counts

    for _ in range(5):
        write(demo, tmp=tmp_path)
    family_id = demo["households"]["martin"].id
    staff_urls = ["/gestion/messagerie", f"/gestion/familles/{family_id}/messages", "/gestion/"]
    auth.login("agent@example.fr")
    small = measure(staff_urls)
    auth.logout()
    auth.login()
    small_family = measure(["/messagerie"])
    for _ in range(55):
        write(demo, tmp=tmp_path)
    large_family = measure(["/messagerie"])
    assert large_family == small_family
    auth.logout()
    auth.login("agent@example.fr")
    large = measure(staff_urls)
    assert large == small


def test_a_parent_who_switched_replies_off_gets_no_reply_mail_but_the_unread_marker(demo, tmp_path):
    from services.accounts import mail_preferences
    family = household(demo)
    parent = user("famille.martin@example.fr")
    mail_preferences.save(parent, {mail_preferences.REPLIES: False, mail_preferences.NEWS: True,
                                   mail_preferences.REMINDERS: True})
    thread = write(demo, body="Question sur le menu", tmp=tmp_path)
    mails = OutgoingMail.select().count()
    messaging.staff_reply(staff("agent"), thread.id, "Voici le menu", None, tmp_path, link)
    assert OutgoingMail.select().where(OutgoingMail.to == parent.email).count() == 0
    assert OutgoingMail.select().count() == mails
    assert messaging.unread_count(family) >= 1  # the reply is still there, marked unread
