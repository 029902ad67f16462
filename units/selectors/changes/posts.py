"""The feed's changes of a post: established, abolished, reinstated, moved to another
unit, retitled, any other field changed."""

from __future__ import annotations

from django.utils.translation import gettext as _

from units.models import Post
from units.selectors.changes.entries import (
    FieldsLeft,
    Revision,
    abolition,
    as_revert,
    change,
    field_changes,
    subject_of,
)
from units.selectors.changes.names import FeedNames
from units.selectors.fields import tracked_fields
from units.selectors.languages import localized
from units.selectors.results import Change


def post_changes(
    row: Revision, previous: Revision | None, names: FeedNames
) -> list[Change]:
    """The changes one post revision records, every changed field in one of them.

    Summaries name the post by its title then and leave its unit to ``unit`` and
    ``details``: a unit read by its current name would change an entry's title
    (Atom's too) whenever the unit is renamed. The title is the reader's language's,
    but a retitling quotes the English titles it changed.
    """
    unit_name = names.unit_name(row["unit_id"])
    title = localized(row, "title")[0]
    subject = subject_of(
        Post, row, title, slug=row["slug"], unit=names.units.get(row["unit_id"])
    )
    details = {"unit": names.unit_ref(row["unit_id"]), "is_head": row["is_head"]}
    if previous is None:
        return [
            change(
                "post_added",
                row,
                subject,
                summary=_("Post %(post)s established") % {"post": title},
                details=details,
                fields=tracked_fields(Post),
            )
        ]
    left = FieldsLeft(Post, row, previous)
    changes: list[Change] = []
    if verb := abolition(row, previous):
        changes.append(
            change(
                f"post_{verb}",
                row,
                subject,
                summary=(
                    _("Post %(post)s abolished")
                    if verb == "abolished"
                    else _("Post %(post)s reinstated")
                )
                % {"post": title},
                details=details,
                fields=left.take("abolished_on"),
            )
        )
    if previous["unit_id"] != row["unit_id"]:
        changes.append(
            change(
                "post_moved",
                row,
                subject,
                summary=_("Post %(post)s moved from %(old_unit)s to %(new_unit)s")
                % {
                    "post": title,
                    "old_unit": names.unit_name(previous["unit_id"]),
                    "new_unit": unit_name,
                },
                details={
                    **details,
                    "from": names.unit_ref(previous["unit_id"]),
                    "to": names.unit_ref(row["unit_id"]),
                },
                fields=left.take("unit_id"),
            )
        )
    if previous["title"] != row["title"]:
        changes.append(
            change(
                "post_renamed",
                row,
                subject,
                summary=_("Post %(old_title)s renamed %(new_title)s")
                % {"old_title": previous["title"], "new_title": row["title"]},
                details={
                    **details,
                    "old_title": previous["title"],
                    "new_title": row["title"],
                },
                fields=left.take("title"),
            )
        )
    changes += field_changes(
        Post,
        names,
        row,
        previous,
        left.names,
        _("the post %(post)s") % {"post": title},
        subject,
    )
    return as_revert(Post, row, subject, changes)
