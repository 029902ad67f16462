"""Template helpers of the pages: the unit tree, search highlights, text diffs, reasons.

The tree is rendered in Python rather than by a recursive ``{% include %}``: a tree of
thousands of units would otherwise cost one template render per unit.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from units import chart, selectors
from units.change_links import object_page_path
from units.highlight import highlighted
from units.models import ReportingLine, UnitKind
from units.selectors import Change, PartialTree, UnitNode
from units.selectors.languages import localized
from units.templatetags.registry_languages import localized_html, localized_parts
from units.word_diff import word_diff

register = template.Library()

# Lazy labels, read in the active language where they are shown.
KIND_LABELS = dict(UnitKind.choices)
REPORTING_LABELS = dict(ReportingLine.choices)
# Levels opened on first view; deeper ones start folded so a large tree stays readable.
OPEN_LEVELS = 2


@register.simple_tag
def registry_name() -> str:
    """The registry's name (``REGISTRY_NAME``), escaped by the template.

    A tag rather than a context variable: the server error page is rendered without
    a request, so without context processors.
    """
    return settings.REGISTRY_NAME


@register.simple_tag(takes_context=True)
def reason_for_reader(context: template.Context, item: Any) -> SafeString:
    """A change's reason as the page's reader may see it (``selectors.audience``).

    A public reason for everyone; an internal one, marked "internal", for signed-in
    auditors and editors; for anyone else only the words "Reason not public". Every
    page showing a reason uses this tag, so no page decides the rule on its own.
    """
    request = context.get("request")
    staff = selectors.may_see_staff_identities(getattr(request, "user", None))
    reason = selectors.shown_reason(item, staff=staff)
    if reason is None:
        return format_html(
            '<p class="reason reason-withheld"><span class="muted">{}</span></p>',
            gettext("Reason not public."),
        )
    if not reason:
        return mark_safe("")  # noqa: S308 (a constant)
    if selectors.is_internal(item):
        return format_html(
            '<p class="reason reason-internal"><span class="muted">{} '
            '<span class="internal-mark">{}</span>:</span> {}</p>',
            gettext("Reason"),
            gettext("(internal)"),
            reason,
        )
    return format_html(
        '<p class="reason"><span class="muted">{}</span> {}</p>',
        gettext("Reason:"),
        reason,
    )


@register.filter
def with_as_of(url: str, as_of: Any) -> str:
    """Carry the page's date along a link (``as_of`` is a ``views.AsOf``)."""
    query = getattr(as_of, "query", "")
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{query}"


@register.simple_tag(takes_context=True)
def dated_url(context: template.Context, url: str) -> str:
    """``url`` with the page's date, if any (safe on pages without one, like 404)."""
    return with_as_of(url, context.get("as_of"))


@register.filter
def object_page(change: Change) -> str:
    """The public page of what a change of the feed changed."""
    return object_page_path(change)


@register.filter
def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


@register.filter
def reporting_label(reporting_line: str) -> str:
    return str(REPORTING_LABELS.get(reporting_line, reporting_line))


def _head_html(node: UnitNode) -> SafeString:
    if node.head is None:
        return mark_safe("")
    if node.head.holder is None:
        return format_html(
            '<span class="head">{}: <em class="vacant">{}</em></span>',
            node.head.title,
            gettext("vacant"),
        )
    return format_html(
        '<span class="head">{}: <strong>{}</strong></span>',
        node.head.title,
        node.head.holder.person_name,
    )


class _UnitUrls:
    """Links of one rendered tree: each route reversed once, not once per unit."""

    MARK = "unit-slug-mark"

    def __init__(self, as_of: Any) -> None:
        self.as_of = as_of
        self.page = reverse("units:unit-detail", kwargs={"slug": self.MARK})
        self.children = reverse("units:unit-children", kwargs={"slug": self.MARK})

    def _url(self, route: str, slug: str) -> str:
        # Slugs hold only URL-safe characters: placing one needs no quoting.
        return with_as_of(route.replace(self.MARK, slug, 1), self.as_of)

    def page_of(self, slug: str) -> str:
        return self._url(self.page, slug)

    def children_of(self, slug: str) -> str:
        return self._url(self.children, slug)


def _entry_html(node: UnitNode, urls: _UnitUrls) -> SafeString:
    url = urls.page_of(node.slug)
    name, _language = localized(node, "name")
    short_name, _language = localized(node, "short_name")
    acronym = (
        format_html(
            ' <abbr class="acronym">{}</abbr>', localized_html(node, "short_name")
        )
        if short_name and short_name not in name
        else ""
    )
    line = ""
    if node.parent_id is not None:
        line = format_html(
            '<span class="line line-{}">{}</span>',
            node.reporting_line,
            REPORTING_LABELS.get(node.reporting_line, node.reporting_line),
        )
    shown_name, untranslated = localized_parts(node, "name")
    return format_html(
        '<span class="entry"><a class="unit-link" href="{}">{}</a>{}{}'
        '<span class="meta"><span class="kind">{}</span>{}{}</span></span>',
        url,
        shown_name,
        untranslated,
        acronym,
        str(KIND_LABELS.get(node.kind, node.kind)),
        line,
        _head_html(node),
    )


def _summary_html(node: UnitNode, count: int) -> str:
    return format_html(
        '<summary>{}<span class="visually-hidden"> {}</span></summary>',
        ngettext("%(count)s sub-unit", "%(count)s sub-units", count)
        % {"count": intcomma(count)},
        gettext("of %(name)s") % {"name": localized(node, "name")[0]},
    )


def _unloaded_branch_html(
    node: UnitNode, entry: str, count: int, urls: _UnitUrls
) -> str:
    """A branch whose sub-units load when it opens (pages.js fetches them).

    Until then, and without script, it holds a link to the unit's page, which lists
    the sub-units.
    """
    return format_html(
        '<li class="branch">{} <details data-children-url="{}">{}<ul>'
        '<li class="tree-note"><a href="{}#subunits-heading">{}'
        "</a></li></ul></details></li>",
        entry,
        urls.children_of(node.slug),
        _summary_html(node, count),
        urls.page_of(node.slug),
        gettext("See the sub-units of %(name)s") % {"name": localized(node, "name")[0]},
    )


def _tree_html(
    tree: PartialTree, as_of: Any, *, open_levels: int, attributes: str
) -> SafeString:
    urls = _UnitUrls(as_of)
    parts: list[str] = [f"<ul{attributes}>"]
    # Iterative walk with explicit close markers: no recursion limit on deep trees.
    stack: list[UnitNode | None] = list(reversed(tree.roots))
    while stack:
        node = stack.pop()
        if node is None:
            parts.append("</ul></details></li>")
            continue
        entry = _entry_html(node, urls)
        count = tree.descendants.get(node.id, 0)
        if not count:
            parts.append(f'<li class="leaf">{entry}</li>')
            continue
        if not node.children:
            parts.append(_unloaded_branch_html(node, entry, count, urls))
            continue
        is_open = " open" if node.level < open_levels else ""
        # The link stays outside <summary>: a link nested in the toggle is unusable
        # with assistive technology (axe "nested-interactive").
        parts.append(
            f'<li class="branch">{entry} <details{is_open}>'
            f"{_summary_html(node, count)}<ul>"
        )
        stack.append(None)
        stack.extend(reversed(node.children))
    parts.append("</ul>")
    return mark_safe("".join(parts))  # noqa: S308 -- every piece is escaped above


@register.simple_tag
def unit_tree(tree: PartialTree, as_of: Any = None) -> SafeString:
    """The structure as nested lists; units with sub-units fold with <details>.

    Branches below the loaded levels fold too and load their sub-units when opened.
    """
    return _tree_html(
        tree, as_of, open_levels=OPEN_LEVELS, attributes=' class="tree" data-tree'
    )


@register.simple_tag
def unit_subtree(tree: PartialTree, as_of: Any = None) -> SafeString:
    """Sub-units loaded into an opened branch of ``unit_tree``: one folded level."""
    return _tree_html(tree, as_of, open_levels=0, attributes="")


@register.filter
def highlight(text: str, query: str) -> SafeString:
    """Escape ``text`` and wrap each occurrence of a word of ``query`` in <mark>."""
    return highlighted(text, query)


@register.simple_tag
def text_diff(old: str, new: str) -> SafeString:
    """A word-level diff: removed words in <del>, added words in <ins>."""
    return word_diff(old, new)


LEGEND_STYLES = {
    "supervision": (chart.SUPERVISION_STROKE, "1.5", ""),
    "oversight": (chart.OVERSIGHT_STROKE, "2", chart.OVERSIGHT_DASH),
    "relationship": (chart.RELATIONSHIP_STROKE, "2.2", chart.RELATIONSHIP_DASH),
}


@register.simple_tag
def chart_line_sample(kind: str) -> SafeString:
    """A short line drawn exactly as the chart draws ``kind`` (one source of truth)."""
    stroke, width, dash = LEGEND_STYLES[kind]
    return format_html(
        '<svg width="44" height="10" aria-hidden="true" focusable="false">'
        '<line x1="0" y1="5" x2="44" y2="5" stroke="{}" stroke-width="{}"'
        ' stroke-dasharray="{}" stroke-linecap="round"/></svg>',
        stroke,
        width,
        dash or "none",
    )
