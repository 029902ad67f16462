"""The interface in English, French and Spanish (issue 17, interface half).

The catalogs are complete (no untranslated or fuzzy msgid, and none of the sources'
strings missing from them); pages answer under /fr/ and /es/ with their language in
``<html lang>`` and hreflang alternates, while the English addresses stay as they
were; a first visit follows Accept-Language; the switcher keeps the page and its
query; the API chooses by ``?lang=`` (400 for an unknown code) or Accept-Language.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.conftest import ScriptedHistory, page_text

ROOT = Path(settings.BASE_DIR)
LANGUAGES = ("fr", "es")
DOMAINS = ("django", "djangojs")


# --- The catalogs ---------------------------------------------------------------------


@dataclass
class Entry:
    context: str | None = None
    msgid: str = ""
    plural: str | None = None
    translations: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (its header left out): enough of the format for
    checking what makemessages writes, without polib."""
    entries: list[Entry] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry = Entry()
        target: str | int | None = None  # what a continued line adds to
        for line in block.strip().splitlines():
            if line.startswith("#~"):
                entry.obsolete = True
            elif line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif match := re.match(
                r"(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d)\])?) (\".*\")$", line
            ):
                keyword, text = match.group(1), unquote(match.group(3))
                if keyword == "msgctxt":
                    entry.context, target = text, "context"
                elif keyword == "msgid":
                    entry.msgid, target = text, "msgid"
                elif keyword == "msgid_plural":
                    entry.plural, target = text, "plural"
                else:
                    target = int(match.group(2) or 0)
                    entry.translations[target] = text
            elif line.startswith('"'):
                text = unquote(line)
                if isinstance(target, int):
                    entry.translations[target] += text
                elif target == "context":
                    entry.context = (entry.context or "") + text
                elif target == "msgid":
                    entry.msgid += text
                elif target == "plural":
                    entry.plural = (entry.plural or "") + text
        if entry.msgid or entry.plural:
            entries.append(entry)
    return entries


def unquote(quoted: str) -> str:
    """A .po string's text: the quotes off, its escapes (\\n, \\", \\\\) read, as
    JSON reads them."""
    text: str = json.loads(quoted)
    return text


def plural_count(path: Path) -> int:
    header = path.read_text(encoding="utf-8").split("\n\n")[0]
    match = re.search(r"nplurals=(\d+)", header)
    assert match, f"{path}: no Plural-Forms header"
    return int(match.group(1))


def catalog_problems(locale: Path) -> list[str]:
    """Every entry of the French and Spanish catalogs under ``locale`` that a reader
    would see in English (untranslated), or that may be wrong (fuzzy)."""
    problems = []
    for language in LANGUAGES:
        for domain in DOMAINS:
            path = locale / language / "LC_MESSAGES" / f"{domain}.po"
            forms = plural_count(path)
            for entry in read_po(path):
                name = f"{language}/{domain}: {entry.msgid!r}"
                if entry.obsolete:
                    continue
                if "fuzzy" in entry.flags:
                    problems.append(f"{name} is fuzzy")
                expected = forms if entry.plural is not None else 1
                if sorted(entry.translations) != list(range(expected)):
                    problems.append(f"{name} has {len(entry.translations)} forms")
                if not all(entry.translations.values()):
                    problems.append(f"{name} is not translated")
    return problems


def test_the_reader_reads_plurals_contexts_and_continued_lines(tmp_path: Path) -> None:
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2; plural=(n > 1);\\n"\n\n'
        '#, fuzzy\nmsgctxt "date"\nmsgid "From"\nmsgstr "Du"\n\n'
        'msgid "%(n)s unit"\nmsgid_plural "%(n)s units"\nmsgstr[0] "%(n)s unité"\n'
        'msgstr[1] ""\n\n'
        'msgid ""\n"A long "\n"text"\nmsgstr ""\n"Un long "\n"texte « x »"\n',
        encoding="utf-8",
    )
    fuzzy, plural, long = read_po(po)
    assert (fuzzy.context, fuzzy.msgid, fuzzy.flags) == ("date", "From", {"fuzzy"})
    assert plural.translations == {0: "%(n)s unité", 1: ""}
    assert (long.msgid, long.translations) == (
        "A long text",
        {0: "Un long texte « x »"},
    )


def test_the_check_finds_untranslated_fuzzy_and_missing_forms(tmp_path: Path) -> None:
    """The catalog test below can fail: a broken copy of the catalogs is caught."""
    locale = tmp_path / "locale"
    shutil.copytree(ROOT / "locale", locale, ignore=shutil.ignore_patterns("*.mo"))
    french = locale / "fr" / "LC_MESSAGES" / "django.po"
    text = french.read_text(encoding="utf-8")
    text = text.replace(
        'msgid "Organization chart"\nmsgstr "Organigramme"',
        'msgid "Organization chart"\nmsgstr ""',
    )
    text = text.replace(
        'msgid "Zoom in"\nmsgstr', '#, fuzzy\nmsgid "Zoom in"\nmsgstr', 1
    )
    french.write_text(text, encoding="utf-8")
    spanish = locale / "es" / "LC_MESSAGES" / "djangojs.po"
    text = spanish.read_text(encoding="utf-8")
    spanish.write_text(re.sub(r"msgstr\[2\] .*\n", "", text, count=1), encoding="utf-8")
    problems = catalog_problems(locale)
    assert "fr/django: 'Organization chart' is not translated" in problems
    assert "fr/django: 'Zoom in' is fuzzy" in problems
    assert any(p.startswith("es/djangojs:") and "2 forms" in p for p in problems)


def test_every_msgid_is_translated_in_french_and_spanish() -> None:
    assert catalog_problems(ROOT / "locale") == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext")
def test_the_catalogs_hold_every_string_of_the_code_and_templates(
    tmp_path: Path,
) -> None:
    """makemessages run on a copy of the sources adds nothing to the catalogs: no
    string of a page, a view or a script is missing from them (untranslated)."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("api", "orgregistry", "units", "templates", "locale"):
        shutil.copytree(
            ROOT / name,
            copy / name,
            ignore=shutil.ignore_patterns("*.mo", "__pycache__"),
        )
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    for domain in DOMAINS:
        subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
            [
                sys.executable,
                "manage.py",
                "makemessages",
                "-d",
                domain,
                "-l",
                "fr",
                "-l",
                "es",
                "--no-obsolete",
            ],
            cwd=copy,
            check=True,
            capture_output=True,
        )
    assert catalog_problems(copy / "locale") == []
    for language in LANGUAGES:
        for domain in DOMAINS:
            path = Path(language) / "LC_MESSAGES" / f"{domain}.po"
            fresh = {(e.context, e.msgid) for e in read_po(copy / "locale" / path)}
            kept = {(e.context, e.msgid) for e in read_po(ROOT / "locale" / path)}
            assert fresh == kept, f"run `make messages`: {path} is out of date"


# --- Pages ----------------------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("plain_static_files")


def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "no <html lang>"
    return match.group(1)


def alternates(html: str) -> dict[str, str]:
    return dict(
        re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)"', html)
    )


@pytest.mark.django_db
def test_english_addresses_are_unchanged(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    assert reverse("units:structure") == "/"
    assert reverse("units:unit-detail", kwargs={"slug": "unit-x"}) == "/units/unit-x/"
    response = client.get("/units/unit-x/")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert html_lang(html) == "en"
    assert "Head and posts" in html
    assert "Accept-Language" in response["Vary"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "heading", "posts", "date"),
    [
        ("fr", "Structure organisationnelle", "Chef et postes", "1 juin 2020"),
        ("es", "Estructura organizativa", "Jefatura y puestos", "1 de junio de 2020"),
    ],
)
def test_pages_under_a_language_prefix_speak_it(
    client: Client,
    scripted_history: ScriptedHistory,
    language: str,
    heading: str,
    posts: str,
    date: str,
) -> None:
    structure = client.get(f"/{language}/")
    assert structure.status_code == HTTPStatus.OK
    html = structure.content.decode()
    assert html_lang(html) == language
    assert heading in page_text(structure)
    # Links stay in the language.
    assert f'href="/{language}/units/unit-x/"' in html
    unit = client.get(f"/{language}/units/unit-x/?as_of=2020-07-01")
    assert unit.status_code == HTTPStatus.OK
    text = page_text(unit)
    assert posts in text
    # Dates in the language's format: Unit X was established on 1 June 2020.
    assert date in text
    assert "Head and posts" not in text
    assert structure["Content-Language"] == language


@pytest.mark.django_db
def test_every_page_names_its_versions_in_every_language(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    html = client.get("/fr/units/unit-x/?as_of=2021-01-01").content.decode()
    assert alternates(html) == {
        "en": "http://testserver/units/unit-x/?as_of=2021-01-01",
        "fr": "http://testserver/fr/units/unit-x/?as_of=2021-01-01",
        "es": "http://testserver/es/units/unit-x/?as_of=2021-01-01",
        "x-default": "http://testserver/units/unit-x/?as_of=2021-01-01",
    }
    # The switcher: each language's button in that language, the current one marked.
    assert 'value="es" lang="es">Español</button>' in html
    assert 'value="fr" lang="fr" aria-current="true">Français</button>' in html
    assert 'name="next" value="/fr/units/unit-x/?as_of=2021-01-01"' in html


@pytest.mark.django_db
def test_the_switcher_keeps_the_page_and_its_query(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    page = client.get("/fr/chart/?root=unit-x&depth=2&as_of=2022-02-01")
    html = page.content.decode()
    # The form posts under the page's prefix, so that its "next" resolves.
    assert 'action="/fr/i18n/setlang/"' in html
    assert (
        'name="next" value="/fr/chart/?root=unit-x&amp;depth=2&amp;as_of=2022-02-01"'
        in html
    )
    response = client.post(
        "/fr/i18n/setlang/",
        {"language": "es", "next": "/fr/chart/?root=unit-x&depth=2&as_of=2022-02-01"},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/es/chart/?root=unit-x&depth=2&as_of=2022-02-01"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    back = client.post(
        "/es/i18n/setlang/", {"language": "en", "next": "/es/compare/?from=2020-01-01"}
    )
    assert back["Location"] == "/compare/?from=2020-01-01"
    # Having chosen English, the reader stays in English whatever the browser prefers.
    page = client.get("/compare/?from=2020-01-01", HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == HTTPStatus.OK
    assert html_lang(page.content.decode()) == "en"
    # From an English page to French.
    french = client.post(
        "/i18n/setlang/", {"language": "fr", "next": "/units/unit-x/?as_of=2021-01-01"}
    )
    assert french["Location"] == "/fr/units/unit-x/?as_of=2021-01-01"


@pytest.mark.django_db
def test_a_first_visit_follows_accept_language(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get(
        "/units/unit-x/?as_of=2021-01-01",
        HTTP_ACCEPT_LANGUAGE="fr-CH, fr;q=0.9, en;q=0.8",
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/fr/units/unit-x/?as_of=2021-01-01"
    assert {"accept-language", "cookie"} <= {
        part.strip().lower() for part in response["Vary"].split(",")
    }
    spanish = client.get("/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    assert spanish["Location"] == "/es/"
    # English, or a language the registry does not speak: the English page itself.
    for header in ("en-GB,en;q=0.9", "de-DE,de;q=0.9", ""):
        page = client.get("/", HTTP_ACCEPT_LANGUAGE=header)
        assert page.status_code == HTTPStatus.OK, header
        assert html_lang(page.content.decode()) == "en"
    # The admin and the API are never sent to a prefix.
    assert (
        client.get("/api/v1/", HTTP_ACCEPT_LANGUAGE="fr").status_code == HTTPStatus.OK
    )


@pytest.mark.django_db
def test_the_chart_and_its_svg_speak_the_language(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    page = client.get("/es/chart/")
    assert page.status_code == HTTPStatus.OK
    text = page_text(page)
    assert "Organigrama" in text and "Tutela" in text
    svg = client.get("/fr/chart/download.svg?as_of=2021-01-01").content.decode()
    assert "Supervision directe" in svg
    assert "Organigramme — au 1 janvier 2021" in svg


@pytest.mark.django_db
def test_view_messages_are_translated(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/fr/compare/?from=2021-13-01")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "n’est pas une date" in page_text(response)
    response = client.get("/es/chart/?depth=many")
    assert "no es un número" in page_text(response)


def test_the_javascript_catalog_follows_the_page_language(client: Client) -> None:
    """pages.js's texts (its announcements) come from the catalog of the page's
    language, loaded from the same prefix."""
    english = client.get("/jsi18n/").content.decode()
    assert "Chargement" not in english
    french = client.get("/fr/jsi18n/").content.decode()
    assert "Chargement des sous-unit" in french  # JSON-escaped accents follow


# --- The API --------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_lang_is_a_400_that_lists_the_supported_codes(
    client: Client,
) -> None:
    response = client.get("/api/v1/units/?lang=xx")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "lang": "“xx” is not a supported language; use one of: en, fr, es."
    }
    assert "Accept-Language" in response["Vary"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "header", "language"),
    [
        ("", "", "en"),
        ("", "es-AR,es;q=0.9", "es"),
        ("?lang=fr", "es", "fr"),
        ("?lang=en", "fr", "en"),
    ],
)
def test_the_api_chooses_by_lang_then_accept_language(
    client: Client, query: str, header: str, language: str
) -> None:
    response = client.get(f"/api/v1/units/{query}", HTTP_ACCEPT_LANGUAGE=header)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Language"] == language
    assert "Accept-Language" in response["Vary"]
    # Its messages too: an unknown unit, in the chosen language.
    missing = client.get(
        f"/api/v1/units/no-such-unit/{query}", HTTP_ACCEPT_LANGUAGE=header
    )
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert missing["Content-Language"] == language


@pytest.mark.django_db
def test_the_api_keeps_one_answer_and_etag_per_language(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    """A change's field label is spelled in the chosen language: the read cache and
    the ETag must not hand a French answer to an English reader, nor say 304."""
    english = client.get("/api/v1/changes/?lang=en")
    french = client.get("/api/v1/changes/?lang=fr")
    assert english.status_code == french.status_code == HTTPStatus.OK
    assert english["ETag"] != french["ETag"]
    again = client.get("/api/v1/changes/", HTTP_IF_NONE_MATCH=french["ETag"])
    assert again.status_code == HTTPStatus.OK  # English, not the French 304
    assert (
        client.get(
            "/api/v1/changes/?lang=fr", HTTP_IF_NONE_MATCH=french["ETag"]
        ).status_code
        == HTTPStatus.NOT_MODIFIED
    )


@pytest.mark.django_db
def test_a_page_without_language_versions_offers_no_switcher(client: Client) -> None:
    """A 404 (and the API's own pages) exist at one address only: no alternates that
    all name it, no switcher that could only reload it."""
    response = client.get("/fr/no-such-page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    html = response.content.decode()
    assert html_lang(html) == "fr"
    assert alternates(html) == {}
    assert "language-switcher" not in html
