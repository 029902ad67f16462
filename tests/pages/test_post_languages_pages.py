"""Post titles and dotted lines' descriptions on the public pages, per language.

The unit page (its posts, past holders and dotted lines), the posts page and the
people page show the French or Spanish text where one is recorded, and the English
one marked ``lang="en"`` and "not yet translated" where not; as of a date, the text
recorded then.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from tests.factories import (
    AppointmentFactory,
    PersonFactory,
    PostFactory,
    RelationshipFactory,
    UnitFactory,
    editor_user,
)
from units import services
from units.models import Post, UnitRelationship

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]

JAN = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
FEB = datetime.datetime(2024, 2, 1, tzinfo=datetime.UTC)
MAR = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)

NOTE = '<span class="untranslated">'


def staffed_finance() -> tuple[Post, Post, UnitRelationship]:
    """Finance, with a translated head post held by Ana since January, an
    untranslated one Ben held in January, and a dotted line to Audit."""
    finance = UnitFactory.create(name="Finance", slug="finance", effective_at=JAN)
    treasurer = PostFactory.create(
        title="Treasurer",
        unit=finance,
        is_head=True,
        slug="treasurer",
        effective_at=JAN,
    )
    clerk = PostFactory.create(
        title="Clerk", unit=finance, slug="clerk", effective_at=JAN
    )
    ana = PersonFactory.create(full_name="Ana Lima", slug="ana", effective_at=JAN)
    ben = PersonFactory.create(full_name="Ben Okoro", slug="ben", effective_at=JAN)
    AppointmentFactory.create(
        person=ana, post=treasurer, started_on=JAN.date(), effective_at=JAN
    )
    clerkship = AppointmentFactory.create(
        person=ben, post=clerk, started_on=JAN.date(), effective_at=JAN
    )
    services.appointment_end(
        appointment=clerkship,
        user=editor_user(),
        reason="Left",
        ended_on=FEB.date(),
        effective_at=FEB,
    )
    audit = UnitFactory.create(
        name="Audit",
        slug="audit",
        translations={"name_fr": "Vérification"},
        effective_at=JAN,
    )
    link = RelationshipFactory.create(
        source=finance,
        target=audit,
        description="Shares staff",
        effective_at=JAN,
    )
    services.post_update(
        post=treasurer,
        user=editor_user(),
        reason="Traduction",
        effective_at=MAR,
        title_fr="Trésorier",
    )
    services.relationship_correct(
        relationship=link,
        user=editor_user(),
        reason="Traduction",
        effective_at=MAR,
        description_fr="Partage du personnel",
    )
    return treasurer, clerk, link


def test_the_unit_page_shows_titles_and_descriptions_in_french(client: Client) -> None:
    staffed_finance()
    html = client.get("/fr/units/finance/").content.decode()
    assert ">Trésorier" in html
    assert '<span lang="en">Treasurer</span>' not in html
    # Ben's past post has no French title: English, marked.
    assert '<span lang="en">Clerk</span>' in html
    assert "Partage du personnel" in html
    assert "Shares staff" not in html
    # The other end of the dotted line is named in French, inside its link.
    assert ">Vérification</a>" in html


def test_the_unit_page_marks_untranslated_descriptions_in_spanish(
    client: Client,
) -> None:
    staffed_finance()
    html = client.get("/es/units/finance/").content.decode()
    assert '<span lang="en">Shares staff</span>' + " " + NOTE in html
    assert '<span lang="en">Treasurer</span>' in html
    # A link holds the name alone; the note follows it.
    assert '<span lang="en">Audit</span></a> ' + NOTE in html


def test_the_unit_page_as_of_shows_the_french_texts_recorded_then(
    client: Client,
) -> None:
    staffed_finance()
    html = client.get("/fr/units/finance/", {"as_of": "2024-02-15"}).content.decode()
    assert '<span lang="en">Treasurer</span>' in html
    # The posts as of then; the timeline names posts by their current titles, as the
    # change feed does in every language.
    assert ">Trésorier" not in html
    assert '<span lang="en">Shares staff</span>' in html
    assert "Partage du personnel" not in html


def test_the_english_unit_page_marks_nothing(client: Client) -> None:
    staffed_finance()
    html = client.get("/units/finance/").content.decode()
    assert "Treasurer" in html
    assert "Shares staff" in html
    assert "untranslated" not in html
    assert 'lang="en"><' not in html.split("<main", 1)[-1]


def test_the_posts_page_shows_titles_in_french(client: Client) -> None:
    staffed_finance()
    html = client.get("/fr/posts/").content.decode()
    assert 'id="post-treasurer">Trésorier' in html
    assert 'id="post-clerk"><span lang="en">Clerk</span> ' + NOTE in html


def test_the_people_page_shows_the_post_and_unit_in_french(client: Client) -> None:
    finance = UnitFactory.create(name="Finance", slug="finance", effective_at=JAN)
    services.unit_update(
        unit=finance, user=editor_user(), reason="Nom", name_fr="Finances"
    )
    staffed = PostFactory.create(
        title="Treasurer", unit=finance, slug="treasurer", effective_at=JAN
    )
    ana = PersonFactory.create(full_name="Ana Lima", slug="ana", effective_at=JAN)
    AppointmentFactory.create(
        person=ana, post=staffed, started_on=JAN.date(), effective_at=JAN
    )
    french = client.get("/fr/people/").content.decode()
    # The post's title is not translated: English, marked outside its link.
    assert '<span lang="en">Treasurer</span></a> ' + NOTE in french
    assert ">Finances</a>)" in french
    services.post_update(
        post=staffed, user=editor_user(), reason="Traduction", title_fr="Trésorier"
    )
    french = client.get("/fr/people/").content.decode()
    assert '#post-treasurer">Trésorier</a> (' in french
    assert NOTE not in french
