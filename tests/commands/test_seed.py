"""The IOM structure fixture, its loader and the development-setup commands."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django import DjangoDbBlocker

from tests.conftest import rolled_back_registry
from units import selectors, services
from units.models import (
    Appointment,
    FillingMethod,
    OrganizationalUnit,
    Person,
    Post,
    RecordedModel,
    RelationshipKind,
    ReportingLine,
    UnitKind,
    UnitRelationship,
)
from units.seed import SEED_REASON, LoadReport, load_structure

pytestmark = pytest.mark.django_db

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "iom_structure.json"
EFFECTIVE_AT = datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC)
TRACKED_MODELS: list[type[RecordedModel]] = [
    OrganizationalUnit,
    Post,
    Person,
    Appointment,
    UnitRelationship,
]

DG = "Office of the Director General"
DDG_OPS = "Office of the Deputy Director General for Operations"
DDG_MR = "Office of the Deputy Director General for Management and Reform"
UNNM = "United Nations Network on Migration Secretariat"
EO = "Executive Office"
DER = "Department of External Relations"
DSPOP = "Department of Strategic Planning and Organizational Performance"
DIRECT = ReportingLine.DIRECT_SUPERVISION
OVERSIGHT = ReportingLine.OVERSIGHT

# Every unit the seed names, headings and names inside paragraphs alike, in seed order:
# name -> (parent, nature of the reporting line).
EXPECTED_TREE: dict[str, tuple[str | None, str]] = {
    DG: (None, DIRECT),
    DDG_OPS: (DG, DIRECT),
    "IOM Development Fund Unit": (DDG_OPS, DIRECT),
    "Cash-based Initiatives Unit": (DDG_OPS, DIRECT),
    "Department of Operations and Emergencies": (DDG_OPS, DIRECT),
    "Department of Peace and Development Coordination": (DDG_OPS, DIRECT),
    "Department of Programme Support and Migration Management": (DDG_OPS, DIRECT),
    "Global Data Institute": (DDG_OPS, DIRECT),
    "Department of Policy and Research": (DDG_OPS, DIRECT),
    DDG_MR: (DG, DIRECT),
    "Gender and Diversity Unit": (DDG_MR, DIRECT),
    "Prevention of and Response to Sexual Exploitation and Abuse and Sexual "
    "Harassment Unit": (DDG_MR, DIRECT),
    "Office of Staff Security": (DDG_MR, DIRECT),
    "Ethics and Conduct Unit": (DDG_MR, DIRECT),
    "Environmental Sustainability Unit": (DDG_MR, DIRECT),
    "Headquarters Building Unit": (DDG_MR, DIRECT),
    "Occupational Health Unit": (DDG_MR, DIRECT),
    "Department of Financial and Administrative Management": (DDG_MR, OVERSIGHT),
    "Department of Human Resources Management": (DDG_MR, OVERSIGHT),
    "Department of Information and Communications Technology": (DDG_MR, OVERSIGHT),
    "Department of Legal Affairs": (DDG_MR, OVERSIGHT),
    "Manila Administrative Centre": (DDG_MR, OVERSIGHT),
    "Panama Administrative Centre": (DDG_MR, OVERSIGHT),
    "Office of the Inspector General": (DG, DIRECT),
    "Office of the Ombudsperson": (DG, DIRECT),
    UNNM: (DG, DIRECT),
    "Fund Management Unit": (UNNM, DIRECT),
    EO: (DG, DIRECT),
    "Media and Communications Unit": (EO, DIRECT),
    "Governing Bodies Secretariat": (EO, DIRECT),
    "Special Envoys of the Director General": (EO, DIRECT),
    "Regional Offices and Special Liaison Offices": (DG, DIRECT),
    DER: (DG, DIRECT),
    "International Partnerships Division": (DER, DIRECT),
    "United Nations Partnerships Division": (DER, DIRECT),
    "Donor Relations Division": (DER, DIRECT),
    "Global Compact on Migration Unit": (DER, DIRECT),
    DSPOP: (DG, DIRECT),
    "Internal Governance Framework Unit": (DSPOP, DIRECT),
    "Risk Management Unit": (DSPOP, DIRECT),
    "Results-based Management Unit": (DSPOP, DIRECT),
    "Monitoring and Evaluation Unit": (DSPOP, DIRECT),
    "Operational Compliance Unit": (DSPOP, DIRECT),
    "PRIMA Unit": (DSPOP, DIRECT),
}

# Paragraphs copied from the seed (its non-breaking spaces written as \u00a0), minus
# the trailing " Learn more" and trailing whitespace.
SEED_DDG_OPERATIONS = (
    "The\u00a0Deputy Director General for Operations\u00a0directly supervises the IOM "
    "Development Fund Unit, the Cash-based Initiatives Unit, as well as the following "
    "organizational structures: the Department of Operations and Emergencies; the "
    "Department of Peace and Development Coordination; the Department of Programme "
    "Support and Migration Management; the Global Data Institute; and the Department "
    "of Policy and Research."
)
SEED_INSPECTOR_GENERAL = (
    "The Office of the Inspector General contributes to the oversight and internal "
    "control of the Organization through its functions of internal audit and "
    "investigation. The Office formulates proposals for remedial action in response to "
    "problems encountered. It ensures that IOM’s objectives are pursued in compliance "
    "with the Organization’s rules, regulations and ethical standards; detects fraud, "
    "waste, abuse and mismanagement; and contributes to the management and "
    "minimization of risk."
)
SEED_EXECUTIVE_OFFICE = (
    "The Executive Office manages the Organization and has overall responsibility for "
    "the formulation of policies and oversight of activities to ensure coherence with "
    "strategic priorities. The Office comprises those units and functions that report "
    "directly to the Director General and provide advisory services and/or direct "
    "support to the whole Organization."
    "\n\n"
    "The Executive Office, led by the Chief of Staff, assists the Director General and "
    "Deputy Directors General in the fulfilment of the Organization’s mandate and "
    "provides strategic planning and coordination for the Director General’s "
    "organization and management objectives; facilitates the development and "
    "strengthening of management capacity and ensures that both Headquarters and field "
    "structures respond adequately to organizational challenges; coordinates the "
    "Organization’s complex activities; ensures accountability, follow-up and "
    "implementation of organizational policies and procedures; and facilitates "
    "coordination between Headquarters and the field. The Office also serves as a "
    "focal point for all matters that require direct intervention, such as staffing, "
    "financial issues and reporting matters, and includes the Senior Regional Advisors."
)
SEED_INTERNATIONAL_PARTNERSHIPS = (
    "The International Partnerships Division is responsible for developing and "
    "monitoring IOM’s partnerships with non-United Nations intergovernmental "
    "organizations, civil society and other multilateral and regional institutions. "
    "The Division develops IOM’s contributions to inter-State consultation mechanisms "
    "on migration and works as global focal point for IOM’s participation in such "
    "mechanisms as a member, partner, observer or service provider. It is the focal "
    "point for IOM’s partnership with civil society"
)
SEED_RESULTS_BASED_MANAGEMENT = (
    "The Results-based Management Unit leads results-based management at the "
    "institutional level. The Unit provides guidance to staff across the Organization "
    "on results-based management and strategic planning in line with the priorities of "
    "the IOM Strategic Vision 2019–2023 and as outlined in IOM’s Strategic Results "
    "Framework. The Unit promotes consistency in the reporting of institutional results "
    "at global, regional and country level, including through staff training and a "
    "dedicated results-based management community of practice."
)
SEED_PRIMA = (
    "The PRIMA Unit facilitates the ongoing maintenance and enhancement of the PRIMA "
    "system and provides support and guidance to users of the system (in conjunction "
    "with the Department of Information and Communications Technology). The Unit "
    "improves processes pertaining to the project lifecycle and provides analytical "
    "reporting capabilities which enhance the ability of IOM management to make "
    "data-driven decisions in their management of the IOM project portfolio."
)
SEED_UNNM_SECRETARIAT = (
    "The United Nations Network on Migration Secretariat provides support to enhance "
    "the ability of the United Nations system to deliver effective system-wide support "
    "to States and ensure greater coherence in the migration domain, specifically with "
    "regard to the implementation of the Global Compact for Safe, Orderly and Regular "
    "Migration, under overall IOM coordination. The Secretariat, through its Fund "
    "Management Unit, also supports management of a start-up fund to help strengthen "
    "capacities, foster multi-partner cooperation and promote overall coherence in the "
    "system-wide support to Member States in managing migration."
)

# Units whose seed paragraph ends with the "Learn more" marker.
WITH_LEARN_MORE = {
    DDG_OPS,
    DDG_MR,
    "Office of the Inspector General",
    "Office of the Ombudsperson",
    UNNM,
    "Media and Communications Unit",
    "Governing Bodies Secretariat",
    DER,
    "Donor Relations Division",
    "Global Compact on Migration Unit",
    "Monitoring and Evaluation Unit",
}


def object_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TRACKED_MODELS}


def history_counts() -> dict[str, int]:
    return {model.__name__: model.history.count() for model in TRACKED_MODELS}


def unit(name: str) -> OrganizationalUnit:
    return OrganizationalUnit.objects.get(name=name)


def fixture_document() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def write_document(tmp_path: Path, document: Any, name: str = "structure.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def shared_seed(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> Iterator[LoadReport]:
    """The seed, loaded once for the module's tests that read it (it was loaded for
    each of some twenty tests); rolled back after the last (tests/conftest.py)."""
    with rolled_back_registry(django_db_blocker):
        yield load_structure(FIXTURE)


@pytest.fixture
def loaded(shared_seed: LoadReport, db: None) -> LoadReport:
    """The module's loaded seed and the load's report; what a test writes on it is
    undone after it."""
    return shared_seed


# --- The structure as the seed describes it ----------------------------------------------


@pytest.mark.usefixtures("loaded")
def test_every_unit_named_by_the_seed_reports_to_the_right_parent() -> None:
    units = {
        unit.name: unit for unit in OrganizationalUnit.objects.select_related("parent")
    }

    assert sorted(units) == sorted(EXPECTED_TREE)
    for name, (parent_name, reporting_line) in EXPECTED_TREE.items():
        parent = units[name].parent
        assert (parent.name if parent else None) == parent_name, name
        assert units[name].reporting_line == reporting_line, name


@pytest.mark.usefixtures("loaded")
def test_siblings_keep_the_order_of_the_seed() -> None:
    names = list(OrganizationalUnit.objects.values_list("name", flat=True))

    assert names == list(EXPECTED_TREE)


@pytest.mark.usefixtures("loaded")
def test_units_have_the_kinds_short_names_and_locations_decided() -> None:
    assert unit(DG).kind == UnitKind.EXECUTIVE_OFFICE
    assert unit("Global Data Institute").kind == UnitKind.INSTITUTE
    assert unit("Regional Offices and Special Liaison Offices").kind == UnitKind.GROUP
    assert unit("Special Envoys of the Director General").kind == UnitKind.GROUP
    manila = unit("Manila Administrative Centre")
    assert (manila.kind, manila.location) == (UnitKind.ADMINISTRATIVE_CENTRE, "Manila")
    assert unit("Panama Administrative Centre").location == "Panama"
    # The source gives no unit an acronym: "IGF" is the Framework's, "PRIMA" the
    # system's.
    assert set(OrganizationalUnit.objects.values_list("short_name", flat=True)) == {""}
    assert unit("PRIMA Unit").slug == "prima-unit"
    assert unit("Office of the Inspector General").slug == (
        "office-of-the-inspector-general"
    )
    assert unit("Governing Bodies Secretariat").short_name == ""


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("name", "mandate"),
    [
        (DDG_OPS, SEED_DDG_OPERATIONS),
        ("Office of the Inspector General", SEED_INSPECTOR_GENERAL),
        (EO, SEED_EXECUTIVE_OFFICE),
        ("International Partnerships Division", SEED_INTERNATIONAL_PARTNERSHIPS),
        ("Results-based Management Unit", SEED_RESULTS_BASED_MANAGEMENT),
        ("PRIMA Unit", SEED_PRIMA),
        (UNNM, SEED_UNNM_SECRETARIAT),
    ],
)
def test_mandates_are_the_seeds_words_verbatim(name: str, mandate: str) -> None:
    assert unit(name).mandate == mandate


@pytest.mark.usefixtures("loaded")
def test_units_the_seed_only_names_have_no_mandate() -> None:
    for name in [
        "Fund Management Unit",
        "Regional Offices and Special Liaison Offices",
        "Department of Operations and Emergencies",
        "Manila Administrative Centre",
        "Occupational Health Unit",
    ]:
        assert unit(name).mandate == "", name


@pytest.mark.usefixtures("loaded")
def test_learn_more_markers_are_stripped_and_recorded_without_url() -> None:
    flagged = {
        item["name"] for item in fixture_document()["units"] if item["has_learn_more"]
    }

    assert flagged == WITH_LEARN_MORE
    for organizational_unit in OrganizationalUnit.objects.all():
        assert not organizational_unit.mandate.rstrip().endswith("Learn more")
        assert organizational_unit.learn_more_url == ""


@pytest.mark.usefixtures("loaded")
def test_posts_are_filled_as_the_seed_describes() -> None:
    director_general = Post.objects.get(slug="director-general")
    operations = Post.objects.get(slug="deputy-director-general-for-operations")
    management = Post.objects.get(
        slug="deputy-director-general-for-management-and-reform"
    )
    envoy = Post.objects.get(slug="special-envoy-of-the-director-general")
    advisor = Post.objects.get(slug="senior-regional-advisor")
    chief_of_staff = Post.objects.get(slug="chief-of-staff")

    assert (director_general.unit.name, director_general.is_head) == (DG, True)
    assert director_general.filling_method == FillingMethod.ELECTED_BY_COUNCIL
    assert director_general.term_years == 5
    for deputy, office in [(operations, DDG_OPS), (management, DDG_MR)]:
        assert (deputy.unit.name, deputy.is_head) == (office, True)
        assert deputy.filling_method == FillingMethod.APPOINTED_BY_DIRECTOR_GENERAL
        assert deputy.term_note == "For the duration of the Director General's term"
    assert (chief_of_staff.unit.name, chief_of_staff.is_head) == (EO, True)
    assert envoy.unit.name == "Special Envoys of the Director General"
    assert not envoy.is_head
    assert envoy.filling_method == FillingMethod.TEMPORARY_APPOINTMENT
    assert (advisor.unit.name, advisor.is_head) == (EO, False)


@pytest.mark.usefixtures("loaded")
def test_vitorino_holds_the_dg_post_pope_the_ddg_management_and_operations_is_vacant() -> (
    None
):
    holders = {
        appointment.post.slug: appointment
        for appointment in Appointment.objects.select_related("person", "post")
    }

    assert set(holders) == {
        "director-general",
        "deputy-director-general-for-management-and-reform",
    }
    assert holders["director-general"].person.full_name == "António Vitorino"
    management = holders["deputy-director-general-for-management-and-reform"]
    assert management.person.full_name == "Amy E. Pope"
    for appointment in holders.values():
        assert appointment.started_on == datetime.date(2023, 1, 1)
        assert appointment.ended_on is None
    assert not Post.objects.get(
        slug="deputy-director-general-for-operations"
    ).appointments.exists()
    assert sorted(Person.objects.values_list("slug", flat=True)) == [
        "amy-e-pope",
        "antonio-vitorino",
    ]


@pytest.mark.usefixtures("loaded")
def test_interpretations_of_the_source_carry_a_provenance_note() -> None:
    notes = {
        unit.slug: unit.provenance
        for unit in OrganizationalUnit.objects.exclude(provenance="")
    }
    assert set(notes) == {
        "office-of-the-director-general",
        "department-of-strategic-planning-and-organizational-performance",
        "internal-governance-framework-unit",
        "prima-unit",
    }
    assert notes["office-of-the-director-general"].startswith(
        "Name and mandate inferred from the source:"
    )
    for slug in set(notes) - {"office-of-the-director-general"}:
        assert notes[slug].startswith("Placement inferred from the source:")
    assert (
        "“IGF” for the Internal Governance Framework"
        in notes["internal-governance-framework-unit"]
    )
    assert "“PRIMA” is the name of the system" in notes["prima-unit"]
    # Recorded as part of the unit's first revision, like every other field.
    prima = unit("PRIMA Unit")
    assert prima.history.get().provenance == notes["prima-unit"]


@pytest.mark.usefixtures("loaded")
def test_search_finds_the_seeds_people_and_posts_not_only_units() -> None:
    hits, count = selectors.search_registry("Vitorino", None, limit=10)
    assert count == 1
    assert [(hit.type, hit.slug) for hit in hits] == [("person", "antonio-vitorino")]
    posts, _ = selectors.search_registry(
        "director general", None, types=["post"], limit=10
    )
    units = {hit.slug: hit.unit_slug for hit in posts}
    assert units["director-general"] == "office-of-the-director-general"
    assert len(units) == 4  # the two Deputies, the Special Envoy


@pytest.mark.usefixtures("loaded")
def test_dotted_line_relationships_are_loaded() -> None:
    links = {
        (link.source.name, link.kind, link.target.name): link
        for link in UnitRelationship.objects.select_related("source", "target")
    }

    assert set(links) == {
        (
            "PRIMA Unit",
            RelationshipKind.WORKS_IN_CONJUNCTION_WITH,
            "Department of Information and Communications Technology",
        ),
        (
            "Donor Relations Division",
            RelationshipKind.COLLABORATES_WITH,
            "Department of Operations and Emergencies",
        ),
        (DSPOP, RelationshipKind.SUPPORTS, DDG_MR),
    }
    donor_link = links[
        (
            "Donor Relations Division",
            RelationshipKind.COLLABORATES_WITH,
            "Department of Operations and Emergencies",
        )
    ]
    assert "Global Crisis Response Platform" in donor_link.description
    reform_link = links[(DSPOP, RelationshipKind.SUPPORTS, DDG_MR)]
    assert "reforms under the Internal Governance Framework" in reform_link.description


# --- How the load writes ---------------------------------------------------------------


def test_every_object_gets_one_history_row_with_the_public_seed_reason_and_date(
    loaded: LoadReport,
) -> None:
    report = loaded

    assert object_counts() == history_counts()
    assert report.total_created == sum(object_counts().values())
    assert report.created["units"] == len(EXPECTED_TREE)
    for model in TRACKED_MODELS:
        for revision in model.history.all():
            assert revision.history_change_reason == SEED_REASON
            # Whatever REASON_VISIBILITY_DEFAULT says: the load's reason hides nothing.
            assert revision.reason_visibility == "public"
            assert revision.history_date == EFFECTIVE_AT
            assert revision.history_type == "+"
            assert revision.history_user is None
    # The seed gives no founding dates: the load records the structure from its date.
    assert {unit.established_on for unit in OrganizationalUnit.objects.all()} == {None}
    assert {post.established_on for post in Post.objects.all()} == {None}


@pytest.mark.usefixtures("loaded")
def test_loading_twice_changes_nothing() -> None:
    objects, revisions = object_counts(), history_counts()
    versions = list(OrganizationalUnit.objects.values_list("slug", "version"))

    report = load_structure(FIXTURE)

    assert report.total_created == 0
    assert report.total_skipped == sum(objects.values())
    assert object_counts() == objects
    assert history_counts() == revisions
    assert list(OrganizationalUnit.objects.values_list("slug", "version")) == versions


@pytest.mark.usefixtures("loaded")
def test_reloading_keeps_edits_made_since_the_first_load() -> None:
    services.unit_update(
        unit=unit("Office of the Ombudsperson"),
        user=None,
        reason="Mandate revised",
        mandate="A revised mandate.",
    )

    load_structure(FIXTURE)

    assert unit("Office of the Ombudsperson").mandate == "A revised mandate."


def test_a_partial_registry_is_completed_without_touching_what_exists(
    tmp_path: Path,
) -> None:
    document = fixture_document()
    partial = {**document, "units": document["units"][:10]}
    for section in ("posts", "people", "appointments", "relationships"):
        partial[section] = []
    load_structure(write_document(tmp_path, partial))
    revisions = OrganizationalUnit.history.count()

    report = load_structure(FIXTURE)

    assert report.skipped["units"] == 10
    assert report.created["units"] == len(EXPECTED_TREE) - 10
    assert OrganizationalUnit.history.count() == revisions + len(EXPECTED_TREE) - 10


@pytest.mark.usefixtures("loaded")
def test_tree_fields_equal_a_fresh_rebuild() -> None:
    fields = ("pk", "lft", "rght", "tree_id", "level")
    before = list(OrganizationalUnit.objects.order_by("pk").values_list(*fields))

    OrganizationalUnit.objects.rebuild()

    assert (
        list(OrganizationalUnit.objects.order_by("pk").values_list(*fields)) == before
    )


# --- Refusals: nothing is written ------------------------------------------------------


def assert_nothing_written() -> None:
    assert set(object_counts().values()) == {0}
    assert set(history_counts().values()) == {0}


def test_command_loads_the_default_file_and_reports_counts() -> None:
    out = StringIO()

    call_command("load_seed", stdout=out)

    assert f"units: {len(EXPECTED_TREE)} created, 0 already present" in out.getvalue()
    assert "total: 57 created, 0 skipped" in out.getvalue()
    out = StringIO()
    call_command("load_seed", stdout=out)
    assert "total: 0 created, 57 skipped" in out.getvalue()


def test_command_records_the_named_user_as_author() -> None:
    editor = get_user_model().objects.create_user("editor", password="x-editor-pass")

    call_command("load_seed", "--user", "editor", stdout=StringIO())

    assert set(OrganizationalUnit.history.values_list("history_user", flat=True)) == {
        editor.pk
    }


def test_command_refuses_an_unknown_user() -> None:
    with pytest.raises(CommandError, match="no user “nobody”"):
        call_command("load_seed", "--user", "nobody", stdout=StringIO())

    assert_nothing_written()


def test_command_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot read the structure file"):
        call_command("load_seed", "--file", str(tmp_path / "absent.json"))

    assert_nothing_written()


def test_command_refuses_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"units": [', encoding="utf-8")

    with pytest.raises(CommandError, match="is not valid JSON"):
        call_command("load_seed", "--file", str(path))

    assert_nothing_written()


def test_command_refuses_an_unknown_parent_and_writes_nothing(tmp_path: Path) -> None:
    document = fixture_document()
    document["units"][-1]["parent"] = "department-of-nowhere"

    with pytest.raises(
        CommandError,
        match="units\\[43\\] “prima-unit”: unknown parent “department-of-nowhere”",
    ):
        call_command("load_seed", "--file", str(write_document(tmp_path, document)))

    assert_nothing_written()


def test_a_parent_listed_after_its_child_is_refused(tmp_path: Path) -> None:
    document = fixture_document()
    document["units"].insert(0, document["units"].pop(1))

    with pytest.raises(ValidationError, match="comes later in the file"):
        load_structure(write_document(tmp_path, document))

    assert_nothing_written()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda doc: doc["units"][3].update(kind="bureau"),
            "units[3] “cash-based-initiatives-unit”: unknown kind “bureau”",
        ),
        (
            lambda doc: doc["units"][5].pop("name"),
            "units[5] “department-of-peace-and-development-coordination”: "
            "the field “name” is missing",
        ),
        (
            lambda doc: doc["units"][2].update(reporting_line="dotted"),
            "unknown reporting line “dotted”",
        ),
        (
            lambda doc: doc["units"][2].update(parnet=None),
            "units[2] “iom-development-fund-unit”: unknown field(s) parnet",
        ),
        (
            lambda doc: doc["units"].append(dict(doc["units"][4])),
            "the slug “department-of-operations-and-emergencies” appears twice",
        ),
        (
            lambda doc: doc["posts"][0].update(filling_method="lottery"),
            "posts[0] “director-general”: unknown filling method “lottery”",
        ),
        (
            lambda doc: doc["posts"][1].update(unit="office-of-nobody"),
            "unknown unit “office-of-nobody”",
        ),
        (
            lambda doc: doc["appointments"][0].update(person="someone-else"),
            "unknown person “someone-else”",
        ),
        (
            lambda doc: doc["relationships"][0].update(kind="admires"),
            "unknown relationship kind “admires”",
        ),
        (
            lambda doc: doc.update(effective_on="first of January"),
            "“effective_on” must be a date",
        ),
        (lambda doc: doc.pop("units"), "“units” must be a list"),
    ],
)
def test_invalid_data_is_refused_naming_the_item(
    tmp_path: Path, change: Any, message: str
) -> None:
    document = fixture_document()
    change(document)

    with pytest.raises(ValidationError) as refusal:
        load_structure(write_document(tmp_path, document))

    assert any(message in text for text in refusal.value.messages), (
        refusal.value.messages
    )
    assert_nothing_written()


def test_a_refusal_by_a_service_rolls_back_the_whole_load(tmp_path: Path) -> None:
    document = fixture_document()
    # Valid as a file, but the service refuses it: the post already has a holder.
    document["appointments"].append(
        {"person": "amy-e-pope", "post": "director-general", "started_on": "2023-01-01"}
    )

    with pytest.raises(ValidationError, match="end that appointment first"):
        load_structure(write_document(tmp_path, document))

    assert_nothing_written()


# --- ensure_dev_admin ------------------------------------------------------------------


def test_ensure_dev_admin_creates_a_superuser_once(settings: Any) -> None:
    settings.DEBUG = True
    out = StringIO()

    call_command("ensure_dev_admin", stdout=out)
    call_command("ensure_dev_admin", stdout=out)

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.check_password("admin")
    assert not admin.groups.exists()
    assert get_user_model().objects.filter(username="admin").count() == 1
    assert "development only" in out.getvalue()
    assert "already exists" in out.getvalue()


def test_ensure_dev_admin_is_refused_when_debug_is_off(settings: Any) -> None:
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("ensure_dev_admin", stdout=StringIO())

    assert not get_user_model().objects.filter(username="admin").exists()


def test_ensure_dev_admin_runs_with_debug_off_when_forced(settings: Any) -> None:
    settings.DEBUG = False

    call_command("ensure_dev_admin", "--force", stdout=StringIO())

    assert get_user_model().objects.filter(username="admin", is_superuser=True).exists()
