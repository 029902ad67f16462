"""The one word diff the admin history and the public pages both show."""

from __future__ import annotations

from django.template import Context, Template

from units.word_diff import word_diff


def test_a_changed_word_is_marked_and_shared_words_are_kept() -> None:
    assert str(
        word_diff("Leads the registry.", "Leads the registry and its data.")
    ) == ("Leads the registry<ins> and its data</ins>.")


def test_a_change_of_spaces_alone_keeps_the_words_apart() -> None:
    # Dropping the changed run of spaces would show "Leadsthe".
    assert (
        str(word_diff("Leads  the", "Leads the")) == "Leads<del>  </del><ins> </ins>the"
    )


def test_every_part_is_escaped() -> None:
    assert str(word_diff("<b>old</b>", "<b>new</b>")) == (
        "&lt;b&gt;<del>old</del><ins>new</ins>&lt;/b&gt;"
    )


def test_a_missing_text_reads_as_empty() -> None:
    assert str(word_diff(None, "New mandate")) == "<ins>New mandate</ins>"
    assert str(word_diff("Old", None)) == "<del>Old</del>"


def test_the_template_tag_is_the_same_diff() -> None:
    template = Template("{% load registry_pages %}{% text_diff old new %}")
    old, new = "Runs  the office.", "Runs the <i>office</i>."
    assert template.render(Context({"old": old, "new": new})) == str(
        word_diff(old, new)
    )
