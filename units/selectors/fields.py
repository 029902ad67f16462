"""The fields each read takes from a model, named once for every reader."""

from __future__ import annotations

UNIT_STATE_FIELDS = (
    "id",
    "slug",
    "name",
    "short_name",
    "kind",
    "mandate",
    "location",
    "learn_more_url",
    "parent_id",
    "reporting_line",
    "sibling_order",
    "established_on",
    "abolished_on",
)
# Fields shown in a unit's history, in the order a reader expects them.
UNIT_HISTORY_FIELDS = (
    "name",
    "short_name",
    "kind",
    "parent_id",
    "reporting_line",
    "sibling_order",
    "mandate",
    "location",
    "learn_more_url",
    "established_on",
    "abolished_on",
)


POST_STATE_FIELDS = (
    "id",
    "slug",
    "title",
    "unit_id",
    "is_head",
    "filling_method",
    "term_years",
    "term_note",
    "abolished_on",
)
PERSON_FIELDS = ("id", "slug", "full_name")
APPOINTMENT_FIELDS = ("id", "person_id", "post_id", "started_on", "ended_on")
