"""School classes limit the class of a child's fiche (parent and staff forms): when the child's school
lists its classes the select offers only those and the server refuses another one in French; a school
without classes listed keeps every level."""
import html
import re

from models import Child, School
from services.family import schools
from tests.conftest import post_form
from tests.formdata import browser_form


def _class_options(page: str) -> list[str]:
    select = re.search(r'<select[^>]*name="class_level".*?</select>', page, re.S).group(0)
    return [value for value in re.findall(r'<option[^>]*value="([^"]*)"', select) if value]


def test_check_class_rule(demo):
    lea = demo["children"]["lea"]
    School.update(classes="").where(School.id == lea.school_id).execute()
    schools.check_class(lea.school_id, "PS")  # none listed: any level
    School.update(classes="CE1,CE2").where(School.id == lea.school_id).execute()
    schools.check_class(lea.school_id, "CE2")
    schools.check_class(None, "PS")
    try:
        schools.check_class(lea.school_id, "PS")
    except Exception as refusal:  # noqa: BLE001 - the message is what the test reads
        assert "accueille les classes CE1, CE2" in refusal.message and refusal.field == "class_level"
    else:
        raise AssertionError("PS should be refused")


def test_staff_form_offers_and_enforces_the_schools_classes(demo, client, auth):
    lea, martin = demo["children"]["lea"], demo["households"]["martin"]
    url = f"/gestion/familles/{martin.id}/enfants/{lea.id}"
    auth.login("agent@example.fr")
    assert len(_class_options(client.get(url).get_data(as_text=True))) == 9  # none listed: every level
    School.update(classes="CE1,CE2,CM1").where(School.id == lea.school_id).execute()
    page = client.get(url).get_data(as_text=True)
    assert _class_options(page) == ["CE1", "CE2", "CM1"]
    data = browser_form(page)
    data["class_level"] = "PS"  # a value the page did not offer
    response = post_form(client, url, data, token_page=url)
    assert response.status_code == 400
    assert "accueille les classes CE1, CE2, CM1" in html.unescape(response.get_data(as_text=True))
    assert Child.get_by_id(lea.id).class_level == "CE2"
    data["class_level"] = "CM1"
    assert post_form(client, url, data, token_page=url).status_code == 302
    assert Child.get_by_id(lea.id).class_level == "CM1"


def test_parent_form_offers_only_the_schools_classes(demo, client, auth):
    lea = demo["children"]["lea"]
    School.update(classes="CE2,CM1,CM2").where(School.id == lea.school_id).execute()
    auth.login("famille.martin@example.fr")
    url = f"/mon-compte/enfants/{lea.id}/modifier"
    page = client.get(url).get_data(as_text=True)
    assert _class_options(page) == ["CE2", "CM1", "CM2"]
    data = browser_form(page)
    data["class_level"] = "GS"
    response = post_form(client, url, data, token_page=url)
    assert response.status_code == 400
    assert "accueille les classes CE2, CM1, CM2" in html.unescape(response.get_data(as_text=True))
    assert Child.get_by_id(lea.id).class_level == "CE2"
