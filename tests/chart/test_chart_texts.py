"""The chart's texts with their English fallbacks marked (units/chart/texts.py)."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ElementTree

import cairosvg
import pytest

from tests.chart.test_chart import node, render
from units.chart import NAME_LINE_CHARS, wrap
from units.chart.texts import (
    Marked,
    fill,
    marked_markup,
    text_in,
    wrapped_pieces,
)

SVG = "{http://www.w3.org/2000/svg}"


def wrap_before(text: str, width: int) -> list[str]:
    """The chart's word wrap as it was written before it kept offsets."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[: width - 1] + "-")
            word = word[width - 1 :]
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def test_the_wrap_breaks_lines_where_it_always_did() -> None:
    """Boxes keep their heights: the offsets change no line of any text."""
    generator = random.Random(17)  # noqa: S311 - reproducible texts, not secrets
    alphabet = "abcdé  -"
    for _attempt in range(2000):
        text = "".join(
            generator.choice(alphabet) for _ in range(generator.randint(0, 90))
        )
        for width in (5, 12, NAME_LINE_CHARS):
            assert wrap(text, width) == wrap_before(text, width), (text, width)


def test_fill_keeps_where_the_english_fallback_stands() -> None:
    name = Marked("Unit Ex", ((0, 7),))
    phrase = fill("Organigramme : %(name)s — 100 %% %(day)s", name=name, day="1 mai")
    assert phrase.text == "Organigramme : Unit Ex — 100 % 1 mai"
    start = phrase.text.index("Unit Ex")
    assert phrase.english == ((start, start + 7),)
    assert not phrase.all_english
    assert fill("%(name)s", name=name).all_english
    assert not Marked("").all_english


def test_text_in_marks_a_fallback_only_in_another_language() -> None:
    row = {"name": "Finance", "name_fr": "Finances", "name_es": ""}
    assert text_in(row, "name", "fr") == Marked("Finances")
    assert text_in(row, "name", "es") == Marked("Finance", ((0, 7),))
    assert text_in(row, "name", "en") == Marked("Finance")


def test_an_english_run_is_marked_on_every_line_it_reaches() -> None:
    phrase = fill(
        "Poste vacant : %(post)s", post=Marked("Deputy Director <General>", ((0, 25),))
    )
    lines = wrapped_pieces(phrase.text, 22)
    markup = [marked_markup(phrase, pieces) for pieces in lines]
    assert markup == [
        'Poste vacant : <tspan lang="en">Deputy</tspan>',
        '<tspan lang="en">Director &lt;General&gt;</tspan>',
    ]
    # A run ending inside a word ("X:") leaves the rest unmarked.
    head = fill("%(post)s: %(holder)s", post=Marked("X", ((0, 1),)), holder="Ana")
    assert marked_markup(head) == '<tspan lang="en">X</tspan>: Ana'


def test_a_chart_in_french_says_so_and_renders() -> None:
    translated = node("Finance")
    translated.name_fr = "Finances"
    root = node("Headquarters", translated)
    root.children[0].level = 1
    svg = render([root], language="fr")
    tree = ElementTree.fromstring(svg)  # noqa: S314 -- the registry's own markup
    assert tree.get("lang") == "fr"
    names = {
        "".join(text.itertext()): text.get("lang")
        for text in tree.iter(f"{SVG}text")
        if text.get("class") == "name"
    }
    assert names == {"Headquarters": "en", "Finances": None}
    # The marks are plain SVG: CairoSVG draws them (PNG and PDF exports).
    assert cairosvg.svg2png(bytestring=svg.encode()).startswith(b"\x89PNG")


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_chart_without_translations_marks_only_in_another_language(
    language: str,
) -> None:
    svg = render([node("Finance")], language=language)
    tree = ElementTree.fromstring(svg)  # noqa: S314 -- the registry's own markup
    name = next(text for text in tree.iter(f"{SVG}text") if text.get("class") == "name")
    assert name.get("lang") == (None if language == "en" else "en")
