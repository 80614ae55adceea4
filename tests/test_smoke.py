"""The public pages answer in French, and the demo commune loads."""
import pytest

from models import Child, User


@pytest.mark.parametrize("url, text", [
    ("/", "Me connecter"),
    ("/", "Créer mon compte"),
    ("/", "Accessibilité : non conforme"),
    ("/accessibilite", "non conforme"),
    ("/mentions-legales", "Mentions légales"),
    ("/contact", "02 98 00 00 00"),
])
def test_public_pages(client, demo, url, text):
    response = client.get(url)
    assert response.status_code == 200
    assert text in response.get_data(as_text=True)


def test_demo_commune(demo):
    assert User.select().count() >= 4  # the household area adds a third parent (file waiting for validation)
    assert [c.first_name for c in Child.select().where(Child.household == demo["households"]["martin"])] == ["Léa", "Hugo"]
