"""The structure page, its sub-unit parts, and a unit's page with its timeline."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from units import selectors
from units.models import ClosureReason
from units.selectors import (
    unit_children,
    unit_family,
    unit_posts_as_of,
    unit_tree_top,
)
from units.views.base import (
    _page,
    _plain,
    kind_labels,
    read_as_of,
)

# The structure page shows whole top levels holding at most this many units; deeper
# branches load their sub-units when opened. The seed (44 units) always shows whole.
STRUCTURE_UNITS = 400

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@require_safe
def structure(request: HttpRequest) -> HttpResponse:
    """Home: the organization as a collapsible tree, its top levels at first.

    A large registry shows the top levels holding at most ``STRUCTURE_UNITS`` units;
    each branch below them loads its sub-units when opened (``unit_children_part``).
    """
    as_of = read_as_of(request)
    tree = unit_tree_top(as_of.when, max_units=STRUCTURE_UNITS)
    return _page(request, "units/structure.html", as_of, {"tree": tree})


@require_safe
def unit_children_part(request: HttpRequest, slug: str) -> HttpResponse:
    """The sub-units of one unit as a piece of the structure page's tree (for script).

    Errors are short texts the page shows in place of the sub-units: 400 for a bad
    date, 404 for a unit that does not exist or is not part of the structure then.
    """
    as_of = read_as_of(request)
    if as_of.error:
        return _plain(as_of.problem, HTTPStatus.BAD_REQUEST)
    part = unit_children(slug, as_of.when)
    if part is None:
        if not selectors.unit_exists(slug):
            return _plain(
                _("There is no unit “%(slug)s” in the registry.") % {"slug": slug},
                HTTPStatus.NOT_FOUND,
            )
        refusal = (
            _("The unit “%(slug)s” is not part of the structure on %(day)s.")
            if as_of.is_past
            else _("The unit “%(slug)s” is not part of the structure today.")
        )
        return _plain(
            refusal % {"slug": slug, "day": as_of.label},
            HTTPStatus.NOT_FOUND,
        )
    return render(request, "units/unit_children.html", {"tree": part, "as_of": as_of})


# What a unit's page says of each lineage event, before the units and the date:
# "Merged into X on 1 March 2026", "Formed from A and B on 1 March 2026".
LINEAGE_PHRASES: dict[tuple[str, str], StrOrPromise] = {
    ("successors", ClosureReason.MERGED): gettext_lazy("Merged into"),
    ("successors", ClosureReason.SPLIT): gettext_lazy("Split into"),
    ("successors", ClosureReason.REPLACED): gettext_lazy("Replaced by"),
    ("successors", ClosureReason.ABSORBED): gettext_lazy("Absorbed into"),
    ("successors", ClosureReason.CHANGED_NAME): gettext_lazy("Renamed; continued as"),
    ("predecessors", ClosureReason.MERGED): gettext_lazy("Formed from"),
    ("predecessors", ClosureReason.SPLIT): gettext_lazy("Formed from a split of"),
    ("predecessors", ClosureReason.REPLACED): gettext_lazy("Replaced"),
    ("predecessors", ClosureReason.ABSORBED): gettext_lazy("Absorbed"),
    ("predecessors", ClosureReason.CHANGED_NAME): gettext_lazy("Renamed from"),
}


@require_safe
def unit_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One unit: its mandate, posts and holders, place in the tree and its timeline."""
    as_of = read_as_of(request)
    family = unit_family(slug, as_of.when)
    if family is None:
        if not selectors.unit_exists(slug):
            raise Http404(
                _("There is no unit “%(slug)s” in the registry.") % {"slug": slug}
            )
        # The unit exists, just not on that date: say so on the page.
        return _page(
            request,
            "units/unit_not_yet.html",
            as_of,
            {"slug": slug},
            status=HTTPStatus.NOT_FOUND,
        )
    node = family.unit
    posts = unit_posts_as_of(node.id, as_of.when)
    post_tenures = selectors.tenures(as_of.when, post_ids=[post.id for post in posts])
    past_holders = [tenure for tenure in post_tenures if not tenure.is_current]
    timeline = selectors.unit_timeline(node.id, as_of.when)
    # A unit whose founding date is not known (a seed records a structure as it
    # stood on some day) says since when it is recorded instead: its first version,
    # which the timeline holds (the unit exists at as_of, so it is not cut off).
    recorded_since = min(
        (entry.effective_at for entry in timeline if entry.revision is not None),
        default=None,
    )
    relationships = selectors.relationships_as_of(as_of.when, unit_id=node.id)
    lineage = selectors.lineage_of([node.id], as_of.when)[node.id]
    return _page(
        request,
        "units/unit_detail.html",
        as_of,
        {
            "unit": node,
            "kind_label": kind_labels().get(node.kind, node.kind),
            "ancestors": family.ancestors,
            "active_children": [child for child in family.children if child.is_active],
            "abolished_children": [
                child for child in family.children if not child.is_active
            ],
            "posts": posts,
            "past_holders": past_holders,
            "relationships": relationships,
            "timeline": timeline,
            "recorded_since": recorded_since,
            "provenance": selectors.unit_provenance(node.id, as_of.when),
            "lineage": [
                (LINEAGE_PHRASES[event.side, event.reason], event)
                for event in lineage.events()
            ],
        },
    )
