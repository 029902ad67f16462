"""The change feed as Atom, so people can subscribe to what changes in the registry.

In the answer's language (``?lang=``, else Accept-Language; ``orgregistry.languages``):
the feed's own words pass through gettext, the feed says its language
(``xml:lang``), and its ETag names the language, so a French reader's cached copy is
never confirmed to an English one.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.utils import translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import etag
from django.views.decorators.vary import vary_on_cookie
from rest_framework.exceptions import ValidationError

from api.filters import ChangeFilterSet, feed_filter
from units import selectors
from units.change_links import object_page_path
from units.characters import xml_safe
from units.selectors import ChangeGroup, FeedEntry, InvalidInstant

# Entries in the feed at most: the latest changes of the window. (Fewer when some of
# the latest revisions record nothing the feed lists, such as a new location.)
FEED_SIZE = 100


class LinkedAtomFeed(Atom1Feed):
    """Atom with a link to the same changes in the other order (``related``)."""

    def add_root_elements(self, handler: Any) -> None:
        super().add_root_elements(handler)
        if self.feed.get("related_link"):
            handler.addQuickElement(
                "link", "", {"rel": "related", "href": self.feed["related_link"]}
            )


class ChangesFeed(Feed):
    """The latest changes by effective time; corrections of the past appear where
    they took effect, saying so. ``RecordedChangesFeed`` is the other view."""

    feed_type = LinkedAtomFeed
    # Lazy: read in the request's language, when the feed is written.
    title = gettext_lazy("Changes to the organizational structure")
    subtitle = gettext_lazy(
        "Units, posts and people added, abolished, moved, renamed; appointments "
        "started and ended; dotted lines drawn and ended; every other field changed. "
        "By effective time; changes.recorded.atom lists them as the registry "
        "recorded them, corrections of the past included."
    )
    related_name = "api:changes-atom-recorded"

    def feed_extra_kwargs(self, obj: Any) -> dict[str, Any]:
        return {"related_link": self._related_link}

    def get_object(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> list[FeedEntry]:
        """The latest changes of the requested window, newest first, a
        reorganization's gathered into one entry.

        Read back from ``until`` by index, so the cost is the same for a window of a
        day and for the whole history.
        """
        arguments = ChangeFilterSet(request.GET).selector_arguments()
        latest = selectors.changes_page_before(
            arguments["since"],
            arguments["until"],
            limit=FEED_SIZE,
            only=feed_filter(arguments),
        )
        return selectors.page_entries(
            latest,
            arguments["since"],
            arguments["until"],
            direction="before",
            failed=self._staff_reader,
            only=feed_filter(arguments),
        )[::-1]

    def link(self) -> str:
        return reverse("api:changes")

    def items(self, entries: list[FeedEntry]) -> list[FeedEntry]:
        return entries

    # Every text an editor typed passes xml_safe: a control character stored before the
    # services refused them would otherwise make the whole feed a 500.

    def item_title(self, entry: FeedEntry) -> str:
        if isinstance(entry, ChangeGroup):
            heading = entry.reorganization
            title = (
                _("Reorganization failed: %(title)s")
                if heading.status == "failed"
                else _("Reorganization: %(title)s")
            ) % {"title": heading.title}
            reference = f" ({heading.reference})" if heading.reference else ""
            return xml_safe(title + reference)
        return xml_safe(entry.summary + correction_note(entry))

    def item_description(self, entry: FeedEntry) -> str:
        """Escaped: Atom sends the summary as ``type="html"``, which readers render.

        Names and reasons are whatever editors typed; unescaped, a unit named
        ``<img src=x onerror=…>`` would run in every subscriber's feed reader. An
        internal reason reaches staff only (``selectors.reason_text``); the public read
        that it is not public. A reorganization's entry lists its changes.
        """
        if isinstance(entry, ChangeGroup):
            reason = selectors.reason_text(
                entry.reorganization, staff=self._staff_reader
            )
            lines = [change.summary for change in entry.changes] or [
                problem_text(problem) for problem in entry.reorganization.problems
            ]
            items = "".join(f"<li>{escape(xml_safe(line))}</li>" for line in lines)
            said = _("Reason: %(reason)s") % {"reason": reason}
            return f"<p>{escape(xml_safe(said))}</p><ul>{items}</ul>"
        reason = selectors.reason_text(entry, staff=self._staff_reader)
        note = correction_note(entry)
        said = _("Reason: %(reason)s") % {"reason": reason}
        return escape(xml_safe(f"{entry.summary}{note}. {said}"))

    def item_link(self, entry: FeedEntry) -> str:
        """The public page of what changed: a unit's page (with its timeline), a post
        in its unit's list of posts, a person in the list of people; for a
        reorganization, its address in the API."""
        if isinstance(entry, ChangeGroup):
            return reverse(
                "api:reorganization-detail", kwargs={"pk": entry.reorganization.id}
            )
        return object_page_path(entry)

    def item_guid(self, entry: FeedEntry) -> str:
        """Stable and unique: one history row yields at most one change of each kind,
        and a reorganization is applied once.

        Links are shared by every change of a unit, so feed readers must tell entries
        apart by this id, which never changes once the change is recorded.
        """
        if isinstance(entry, ChangeGroup):
            return f"orgregistry:reorganization:{entry.reorganization.id}"
        return f"orgregistry:change:{entry.kind}:{entry.restates or entry.history_id}"

    def item_pubdate(self, entry: FeedEntry) -> datetime.datetime:
        return entry.effective_at

    def item_updateddate(self, entry: FeedEntry) -> datetime.datetime:
        """When it was recorded; a failed reorganization recorded nothing, and says
        when it was due."""
        if isinstance(entry, ChangeGroup):
            return max(
                (change.recorded_at for change in entry.changes),
                default=entry.effective_at,
            )
        return entry.recorded_at

    def item_author_name(self, entry: FeedEntry) -> str | None:
        author = (
            entry.reorganization.author
            if isinstance(entry, ChangeGroup)
            else entry.author
        )
        return xml_safe(author) if self._staff_reader and author else None

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._staff_reader = selectors.may_see_staff_identities(request.user)
        query = request.GET.urlencode()
        self._related_link = request.build_absolute_uri(
            reverse(self.related_name) + (f"?{query}" if query else "")
        )
        return super().__call__(request, *args, **kwargs)


class RecordedChangesFeed(ChangesFeed):
    """The latest changes as the registry recorded them, newest recorded first,
    whatever their effective time: a correction of the past appears when it was
    recorded, and the later revisions it carried forward add nothing."""

    title = gettext_lazy("Changes to the organizational structure, as recorded")
    subtitle = gettext_lazy(
        "What the registry learned last, corrections of the past included, newest "
        "recorded first. changes.atom lists the changes by effective time."
    )
    related_name = "api:changes-atom"

    def get_object(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> list[FeedEntry]:
        arguments = ChangeFilterSet(request.GET).selector_arguments()
        changes = selectors.changes_latest_recorded(
            arguments["since"],
            arguments["until"],
            limit=FEED_SIZE,
            only=feed_filter(arguments),
        )
        return selectors.grouped_by_reorganization(changes)

    def item_pubdate(self, entry: FeedEntry) -> datetime.datetime:
        return self.item_updateddate(entry)


def correction_note(change: selectors.Change) -> str:
    """ " (correction recorded on ..., was ...)" for a correction of the past."""
    correction = change.correction
    if correction is None:
        return ""
    was = ", ".join(
        _("%(field)s was %(value)s") % {"field": field, "value": value}
        for field, value in correction.previous.items()
    )
    note = _("correction recorded on %(date)s: %(previous)s") % {
        "date": f"{correction.corrected_on:%Y-%m-%d}",
        "previous": was,
    }
    return f" ({note})"


def problem_text(problem: dict[str, Any]) -> str:
    """One reason a reorganization failed, naming its operation (from 1) if any."""
    operation = problem.get("operation")
    message = problem.get("message", "")
    if not isinstance(operation, int):
        return message
    return _("Operation %(number)s: %(message)s") % {
        "number": operation + 1,
        "message": message,
    }


def _feed_etag(request: HttpRequest) -> str:
    """The generation, the reader's kind and what was asked, in which language:
    the same changes read in French are another representation (RFC 9110, 8.8.3)."""
    visibility = selectors.reader_kind(request.user)
    asked = f"{request.path}?{request.GET.urlencode()}"
    query = hashlib.sha256(asked.encode()).hexdigest()[:16]
    language = translation.get_language()
    return f"atom-g{selectors.registry_generation()}-{visibility}-{language}-{query}"


# Authors and internal reasons are shown to signed-in auditors only, so a shared cache must never hand their
# version of the feed to anyone else.
@vary_on_cookie
@etag(_feed_etag)
def changes_atom(request: HttpRequest) -> HttpResponse:
    """Serve the Atom feed; a malformed since/until, type or unit is a 400 naming
    the parameter."""
    return _serve(request, ChangesFeed())


@vary_on_cookie
@etag(_feed_etag)
def changes_recorded_atom(request: HttpRequest) -> HttpResponse:
    """Serve the Atom feed by recorded time, refusing as ``changes_atom`` does."""
    return _serve(request, RecordedChangesFeed())


def _serve(request: HttpRequest, feed: ChangesFeed) -> HttpResponse:
    try:
        ChangeFilterSet(request.GET).selector_arguments()
    except InvalidInstant as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    except ValidationError as error:
        # One parameter, named as the JSON feed's 400 names it.
        message = "; ".join(
            f"{name}: {text}"
            for name, text in dict(error.detail).items()  # type: ignore[arg-type]
        )
        return HttpResponseBadRequest(message, content_type="text/plain")
    return feed(request)
