"""The change feed as Atom, so people can subscribe to what changes in the registry."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.views.decorators.http import etag
from django.views.decorators.vary import vary_on_cookie

from api.filters import ChangeWindowFilterSet
from units import selectors
from units.change_links import object_page_path
from units.characters import xml_safe
from units.selectors import Change, InvalidInstant

# Entries in the feed at most: the latest changes of the window. (Fewer when some of
# the latest revisions record nothing the feed lists, such as a new location.)
FEED_SIZE = 100


class ChangesFeed(Feed):
    feed_type = Atom1Feed
    title = "Changes to the organizational structure"
    subtitle = (
        "Units, posts and people added, abolished, moved, renamed; appointments "
        "started and ended; dotted lines drawn and ended; every other field changed."
    )

    def get_object(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> list[Change]:
        """The latest changes of the requested window, newest first.

        Read back from ``until`` by index, so the cost is the same for a window of a
        day and for the whole history.
        """
        window = ChangeWindowFilterSet(request.GET).selector_arguments()
        latest = selectors.changes_page_before(
            window["since"], window["until"], limit=FEED_SIZE
        )
        return latest.changes[::-1]

    def link(self) -> str:
        return reverse("api:changes")

    def items(self, changes: list[Change]) -> list[Change]:
        return changes

    # Every text an editor typed passes xml_safe: a control character stored before the
    # services refused them would otherwise make the whole feed a 500.

    def item_title(self, change: Change) -> str:
        return xml_safe(change.summary)

    def item_description(self, change: Change) -> str:
        """Escaped: Atom sends the summary as ``type="html"``, which readers render.

        Names and reasons are whatever editors typed; unescaped, a unit named
        ``<img src=x onerror=…>`` would run in every subscriber's feed reader. An
        internal reason reaches staff only (``selectors.reason_text``); the public read
        that it is not public.
        """
        reason = selectors.reason_text(change, staff=self._staff_reader)
        return escape(xml_safe(f"{change.summary}. Reason: {reason}"))

    def item_link(self, change: Change) -> str:
        """The public page of what changed: a unit's page (with its timeline), a post
        in its unit's list of posts, a person in the list of people."""
        return object_page_path(change)

    def item_guid(self, change: Change) -> str:
        """Stable and unique: one history row yields at most one change of each kind.

        Links are shared by every change of a unit, so feed readers must tell entries
        apart by this id, which never changes once the change is recorded.
        """
        return f"orgregistry:change:{change.kind}:{change.history_id}"

    def item_pubdate(self, change: Change) -> datetime.datetime:
        return change.effective_at

    def item_updateddate(self, change: Change) -> datetime.datetime:
        return change.recorded_at

    def item_author_name(self, change: Change) -> str | None:
        return xml_safe(change.author) if self._staff_reader and change.author else None

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._staff_reader = selectors.may_see_staff_identities(request.user)
        return super().__call__(request, *args, **kwargs)


def _feed_etag(request: HttpRequest) -> str:
    visibility = selectors.reader_kind(request.user)
    query = hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:16]
    return f"atom-g{selectors.registry_generation()}-{visibility}-{query}"


# Authors and internal reasons are shown to signed-in auditors only, so a shared cache must never hand their
# version of the feed to anyone else.
@vary_on_cookie
@etag(_feed_etag)
def changes_atom(request: HttpRequest) -> HttpResponse:
    """Serve the Atom feed; a malformed since/until is a 400 naming the parameter."""
    try:
        ChangeWindowFilterSet(request.GET).selector_arguments()
    except InvalidInstant as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    return ChangesFeed()(request)
