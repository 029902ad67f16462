"""The feed's changes of a post: established, abolished, reinstated, moved to another
unit, retitled, any other field changed."""

from __future__ import annotations

from units.models import Post
from units.selectors.changes.entries import (
    FieldsLeft,
    Revision,
    Subject,
    change,
    field_changes,
)
from units.selectors.changes.names import FeedNames
from units.selectors.fields import tracked_fields
from units.selectors.results import Change

POST_CHANGE_FIELDS = ("id", *tracked_fields(Post))


def post_changes(
    row: Revision, previous: Revision | None, names: FeedNames
) -> list[Change]:
    """The changes one post revision records, every changed field in one of them.

    Summaries name the post by its title then and leave its unit to ``unit`` and
    ``details``: a unit read by its current name would change an entry's title
    (Atom's too) whenever the unit is renamed.
    """
    unit = names.units.get(row["unit_id"])
    unit_name = names.unit_name(row["unit_id"])
    title = row["title"]
    subject = Subject(
        "post",
        row["id"],
        row["slug"],
        title,
        unit["slug"] if unit else "",
        unit["name"] if unit else "",
    )
    details = {"unit": names.unit_ref(row["unit_id"]), "is_head": row["is_head"]}
    if previous is None:
        return [
            change(
                "post_added",
                row,
                subject,
                summary=f"Post {title} established",
                details=details,
                fields=POST_CHANGE_FIELDS[1:],
            )
        ]
    left = FieldsLeft(POST_CHANGE_FIELDS, row, previous)
    changes: list[Change] = []
    if previous["abolished_on"] is None and row["abolished_on"] is not None:
        changes.append(
            change(
                "post_abolished",
                row,
                subject,
                summary=f"Post {title} abolished",
                details=details,
                fields=left.take("abolished_on"),
            )
        )
    if previous["abolished_on"] is not None and row["abolished_on"] is None:
        changes.append(
            change(
                "post_reinstated",
                row,
                subject,
                summary=f"Post {title} reinstated",
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
                summary=f"Post {title} moved from "
                f"{names.unit_name(previous['unit_id'])} to {unit_name}",
                details={
                    **details,
                    "from": names.unit_ref(previous["unit_id"]),
                    "to": names.unit_ref(row["unit_id"]),
                },
                fields=left.take("unit_id"),
            )
        )
    if previous["title"] != title:
        changes.append(
            change(
                "post_renamed",
                row,
                subject,
                summary=f"Post {previous['title']} renamed {title}",
                details={
                    **details,
                    "old_title": previous["title"],
                    "new_title": title,
                },
                fields=left.take("title"),
            )
        )
    changes += field_changes(
        Post, names, row, previous, left.names, f"the post {title}", subject
    )
    return changes
