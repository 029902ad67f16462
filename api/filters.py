"""The query parameters of the API's reads, validated once, before anything is read.

One FilterSet per read (django-filter): each parameter is a form field whose cleaning
turns the text into what the selector takes (a slug into an id, ``true`` into True)
or refuses it with a message that names the value. The selectors (``units.selectors``)
then choose and order the rows; the views only page them. A refusal is a 400 shaped as
the API has always answered: ``{"parameter": "message"}`` for the first bad parameter,
in the order the read documents them, or, for a malformed instant (``as_of``,
``since``, ``until``), ``{"detail": ..., "code": "invalid_instant"}``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, ClassVar, cast

import django_filters
from django import forms
from django.db import models
from django.http import QueryDict
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from units import selectors
from units.change_cursor import InvalidChangeCursor, read_change_cursor
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RegistryState,
    RelationshipKind,
    Reorganization,
    ReorganizationStatus,
    UnitKind,
    UnitRelationship,
)

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
INVALID_INSTANT = "invalid_instant"
OFFSET_REMOVED = "offset_removed"

# The largest page: a list answer is built in memory and cached whole, so a client
# asking for everything at once must page instead (a larger limit is a 400, not a
# silently shorter page, so the client learns why).
MAX_PAGE_SIZE = 1000
# Ids and offsets are 64-bit; a larger number cannot name anything (and would overflow).
LARGEST_ID = 2**63 - 1
# Before any change the services can record (a day of margin below year 1's end).
BEGINNING = datetime.datetime(1, 1, 2, tzinfo=datetime.UTC)


def ordering_choices(orderings: Iterable[str]) -> list[str]:
    """Each ordering key and its descending ``-`` form, as ``ordering`` accepts them."""
    keys = list(orderings)
    return [*keys, *(f"-{key}" for key in keys)]


# --- Fields: the text of one parameter, read or refused --------------------------------


def whole_number(text: str) -> int | None:
    """A plain non-negative integer (ASCII digits, below 2**63), or None."""
    digits = text.lstrip("0") or "0"
    if text.isascii() and text.isdigit() and len(digits) <= len(str(LARGEST_ID)):
        number = int(digits)
        return number if number <= LARGEST_ID else None
    return None


class InstantField(forms.Field):
    """An ISO 8601 date or date-time; ``absent`` (None: now) when not given.

    ``parameter`` names it in a refusal: ``as_of``, ``since`` or ``until``.
    """

    def __init__(
        self,
        *,
        parameter: str = "as_of",
        absent: datetime.datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.parameter = parameter
        self.absent = absent

    def to_python(self, value: str | None) -> Any:
        if value is None:
            if self.parameter == "as_of":
                # Now; as known at an earlier instant (``known_at``), now as an
                # instant, so that the read goes through history, not the live tables.
                return selectors.reading_instant(self.absent)
            return self.absent
        try:
            return selectors.parse_instant(value, parameter=self.parameter)
        except selectors.InvalidInstant as error:
            raise forms.ValidationError(str(error), code=INVALID_INSTANT) from None


class WindowStartField(InstantField):
    """``since``: the window excludes it, but a bare date includes that whole day.

    ``recorded_since`` too (absent: None, no bound)."""

    def __init__(
        self,
        *,
        parameter: str = "since",
        absent: datetime.datetime | None = BEGINNING,
        **kwargs: Any,
    ) -> None:
        super().__init__(parameter=parameter, absent=absent, **kwargs)

    def to_python(self, value: str | None) -> Any:
        if value is None:
            return self.absent
        # The compare page's rule too: a date opens the window at that day's start.
        try:
            return selectors.parse_window_start(value, parameter=self.parameter)
        except selectors.InvalidInstant as error:
            raise forms.ValidationError(str(error), code=INVALID_INSTANT) from None


class ChoiceTextField(forms.Field):
    """One of a fixed list of words, exactly as written; None when absent."""

    def __init__(self, *, choices: Iterable[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allowed = list(choices)

    def to_python(self, value: str | None) -> str | None:
        if value is None:
            return None
        if value not in self.allowed:
            raise forms.ValidationError(
                f"“{value}” is not one of: {', '.join(self.allowed)}.", code="invalid"
            )
        return value


class FlagField(forms.Field):
    """``true``/``false`` and their usual spellings; ``absent`` when not given."""

    def __init__(self, *, absent: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.absent = absent

    def to_python(self, value: str | None) -> bool | None:
        if value is None:
            return self.absent
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise forms.ValidationError(
            f"“{word}” is not a boolean; use true or false.", code="invalid"
        )


class SlugIdField(forms.Field):
    """The id of the object with this slug (one query); an unknown slug is refused."""

    def __init__(self, *, model: type[models.Model], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model

    def to_python(self, value: str | None) -> int | None:
        if value is None:
            return None
        pk = selectors.id_for_slug(self.model, value)
        if pk is None:
            raise forms.ValidationError(
                f"No {self.model._meta.verbose_name} has the slug “{value}”.",
                code="invalid",
            )
        return pk


class TextField(forms.Field):
    """Free text as sent (``q``: spaces count); None when absent."""


class PageSizeField(forms.Field):
    """``limit``: a whole number from 1 to ``MAX_PAGE_SIZE``; ``absent`` if not given.

    ``read_on`` tells a client asking for too large a page how to read the rest.
    """

    def __init__(
        self,
        *,
        absent: int | None = None,
        read_on: str = "read the rest with offset",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.absent = absent
        self.read_on = read_on

    def to_python(self, value: str | None) -> int | None:
        if value is None:
            return self.absent
        limit = whole_number(value)
        is_digits = value.isascii() and value.isdigit()
        if is_digits and (limit is None or limit > MAX_PAGE_SIZE):
            raise forms.ValidationError(
                f"{value[:20]} is more than the largest page, {MAX_PAGE_SIZE}; "
                f"{self.read_on}.",
                code="invalid",
            )
        if limit is None or limit < 1:
            raise forms.ValidationError(
                f"“{value[:40]}” is not a whole number from 1 to {MAX_PAGE_SIZE}.",
                code="invalid",
            )
        return limit


class OffsetField(forms.Field):
    """``offset``: a whole number from 0; None when not given."""

    def to_python(self, value: str | None) -> int | None:
        if value is None:
            return None
        offset = whole_number(value)
        if offset is None:
            raise forms.ValidationError(
                f"“{value[:40]}” is not a whole number from 0 upwards.", code="invalid"
            )
        return offset


class RemovedOffsetField(forms.Field):
    """The change feed's former ``offset``: any value is refused, saying what replaced it.

    Offset paging computed the whole window for every page (119 s for the first page
    of a 2-million-revision history), so one anonymous request could hold a worker for
    as long as the history is long. Cursor pages cost one page whatever the window.
    """

    def to_python(self, value: str | None) -> None:
        if value is None:
            return
        raise forms.ValidationError(
            "The change feed no longer pages by offset (deprecated, now removed: each "
            "page cost the whole window). Page by cursor: request the first page "
            "without offset and follow next.",
            code=OFFSET_REMOVED,
        )


class CursorField(forms.Field):
    """A change feed ``cursor``: its direction and position; None when not given."""

    def to_python(self, value: str | None) -> tuple[str, selectors.ChangeKey] | None:
        if value is None:
            return None
        try:
            return read_change_cursor(value)
        except InvalidChangeCursor:
            raise forms.ValidationError(
                f"“{value[:40]}” is not a cursor of this feed (changed, cut short or "
                "from elsewhere). Use the next and previous links as given, or start "
                "again without cursor.",
                code="invalid",
            ) from None


# --- Filters: the fields, named as the selector's keyword arguments ----------------------


class ParameterFilter(django_filters.Filter):
    """A query parameter read by its field; ``field_name`` is the selector's keyword.

    The lists are rows of past states, not a queryset, so these filters never filter
    a queryset: the selector does that with the cleaned values.
    """

    def filter(self, qs: Any, value: Any) -> Any:
        return qs


class InstantFilter(ParameterFilter):
    field_class = InstantField


class ChoiceTextFilter(ParameterFilter):
    field_class = ChoiceTextField


class FlagFilter(ParameterFilter):
    field_class = FlagField


class SlugIdFilter(ParameterFilter):
    field_class = SlugIdField


class TextFilter(ParameterFilter):
    field_class = TextField


class WindowStartFilter(ParameterFilter):
    field_class = WindowStartField


class PageSizeFilter(ParameterFilter):
    field_class = PageSizeField


class OffsetFilter(ParameterFilter):
    field_class = OffsetField


class RemovedOffsetFilter(ParameterFilter):
    field_class = RemovedOffsetField


class CursorFilter(ParameterFilter):
    field_class = CursorField


STATUS_CHOICES = ["active", "abolished"]


# --- FilterSets: the parameters of one read ---------------------------------------------


class QueryFilterSet(django_filters.FilterSet):
    """The parameters of one read, cleaned in the order they are declared.

    The filters never filter a queryset (the selectors read), but django-filter wants
    one: that of ``Meta.model``, or an empty one of the registry's state.
    """

    def __init__(self, query: QueryDict) -> None:
        model = self._meta.model or RegistryState
        super().__init__(data=query, queryset=model._default_manager.none())

    def refusal(self) -> tuple[str, forms.ValidationError]:
        """The parameter to name in the 400 and its error: the first found."""
        name, (error, *_) = next(iter(self.form.errors.as_data().items()))
        return name, error

    def selector_arguments(self) -> dict[str, Any]:
        """The cleaned parameters by selector keyword; ValidationError → 400."""
        if not self.is_valid():
            name, error = self.refusal()
            message = " ".join(error.messages)
            if error.code == INVALID_INSTANT:
                raise selectors.InvalidInstant(message)
            raise ValidationError({name: message})
        return {
            self.filters[name].field_name: value
            for name, value in self.form.cleaned_data.items()
        }


class AsOfFilterSet(QueryFilterSet):
    """A read of the registry as of an instant: ``as_of`` first."""

    as_of = InstantFilter(field_name="when")


class ListFilterSet(AsOfFilterSet):
    """The parameters of one list: ``as_of`` first, ``q`` and ``ordering`` last."""


class TreeFilterSet(AsOfFilterSet):
    """The tree, a branch of it, a unit's children or ancestors."""

    include_abolished = FlagFilter(absent=False)

    class Meta:
        model = OrganizationalUnit
        fields: ClassVar[list[str]] = []


class PageFilterSet(QueryFilterSet):
    """``limit`` and ``offset`` of a list, checked before DRF's pager reads them."""

    limit = PageSizeFilter()
    offset = OffsetFilter()


class ChangeWindowForm(forms.Form):
    def clean_until(self) -> datetime.datetime:
        until: datetime.datetime = self.cleaned_data["until"]
        since = self.cleaned_data.get("since")
        if since is not None and until < since:
            raise forms.ValidationError(
                "until must not be earlier than since.", code=INVALID_INSTANT
            )
        return until

    def clean_recorded_until(self) -> datetime.datetime | None:
        until: datetime.datetime | None = self.cleaned_data.get("recorded_until")
        since = self.cleaned_data.get("recorded_since")
        if since is not None and until is not None and until < since:
            raise forms.ValidationError(
                "recorded_until must not be earlier than recorded_since.",
                code=INVALID_INSTANT,
            )
        return until


class ChangeWindowFilterSet(QueryFilterSet):
    """The (since, until] window of the change feed, as JSON or Atom.

    Either bound may be a bare date, which includes that day: ``since`` then starts
    the window at the day's beginning.
    """

    since = WindowStartFilter()
    until = InstantFilter(parameter="until", absent=selectors.LATEST)

    class Meta:
        form = ChangeWindowForm


class ChangeFilterSet(ChangeWindowFilterSet):
    """The window and which changes of it to keep (JSON and Atom): ``type`` (a kind
    of object, or ``reorganization``), ``unit`` (a unit's slug) and ``unit_posts``
    (its posts' changes too)."""

    type = ChoiceTextFilter(choices=list(selectors.FEED_TYPES))
    unit = SlugIdFilter(field_name="unit_id", model=OrganizationalUnit)
    unit_posts = FlagFilter(absent=False)
    # What the registry learned in a window of recorded time, whatever the effective
    # time (a bare date includes that day, as for since and until).
    recorded_since = WindowStartFilter(parameter="recorded_since", absent=None)
    recorded_until = InstantFilter(parameter="recorded_until", absent=None)

    class Meta:
        form = ChangeWindowForm


def feed_filter(arguments: dict[str, Any]) -> selectors.FeedFilter:
    """The selector's filter from a ``ChangeFilterSet``'s cleaned arguments."""
    return selectors.FeedFilter(
        type=arguments["type"] or "",
        unit_id=arguments["unit_id"],
        unit_posts=arguments["unit_posts"],
        recorded_since=arguments["recorded_since"],
        recorded_until=arguments["recorded_until"],
    )


class ChangeFeedForm(ChangeWindowForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = cast(PageSizeField, self.fields["limit"])
        # PAGE_SIZE is set in settings.REST_FRAMEWORK (DRF's own default is None).
        limit.absent = api_settings.PAGE_SIZE
        limit.read_on = "read the rest by following next"


class ChangeFeedFilterSet(ChangeFilterSet):
    """The change feed's window, filters and page, read from a ``cursor``.

    Refusals come in the order: the window, then the removed ``offset`` (which makes
    the page moot), then the filters, limit and cursor.
    """

    limit = PageSizeFilter()
    offset = RemovedOffsetFilter()
    cursor = CursorFilter()

    class Meta:
        form = ChangeFeedForm

    def refusal(self) -> tuple[str, forms.ValidationError]:
        errors = self.form.errors.as_data()
        window = {"since", "until", "recorded_since", "recorded_until"}
        if "offset" in errors and not errors.keys() & window:
            return "offset", errors["offset"][0]
        return super().refusal()


def search_filter() -> TextFilter:
    return TextFilter(field_name="query")


def ordering_filter(choices: Iterable[str]) -> ChoiceTextFilter:
    return ChoiceTextFilter(field_name="ordering", choices=list(choices))


class UnitFilterSet(ListFilterSet):
    kind = ChoiceTextFilter(choices=UnitKind.values)
    status = ChoiceTextFilter(choices=STATUS_CHOICES)
    parent = TextFilter()
    q = search_filter()
    ordering = ordering_filter(["tree", *ordering_choices(selectors.UNIT_ORDERINGS)])

    class Meta:
        model = OrganizationalUnit
        fields: ClassVar[list[str]] = []


class PostFilterSet(ListFilterSet):
    unit = SlugIdFilter(field_name="unit_id", model=OrganizationalUnit)
    status = ChoiceTextFilter(choices=STATUS_CHOICES)
    is_head = FlagFilter()
    q = search_filter()
    ordering = ordering_filter(ordering_choices(selectors.POST_ORDERINGS))

    class Meta:
        model = Post
        fields: ClassVar[list[str]] = []


class PersonFilterSet(ListFilterSet):
    q = search_filter()
    ordering = ordering_filter(ordering_choices(selectors.PERSON_ORDERINGS))

    class Meta:
        model = Person
        fields: ClassVar[list[str]] = []


class AppointmentFilterSet(ListFilterSet):
    person = SlugIdFilter(field_name="person_id", model=Person)
    post = SlugIdFilter(field_name="post_id", model=Post)
    current = FlagFilter()
    q = search_filter()
    ordering = ordering_filter(ordering_choices(selectors.APPOINTMENT_ORDERINGS))

    class Meta:
        model = Appointment
        fields: ClassVar[list[str]] = []


class RelationshipFilterSet(ListFilterSet):
    unit = SlugIdFilter(field_name="unit_id", model=OrganizationalUnit)
    kind = ChoiceTextFilter(choices=RelationshipKind.values)
    status = ChoiceTextFilter(choices=["active", "ended"])
    q = search_filter()
    ordering = ordering_filter(ordering_choices(selectors.RELATIONSHIP_ORDERINGS))

    class Meta:
        model = UnitRelationship
        fields: ClassVar[list[str]] = []


class SearchFilterSet(ListFilterSet):
    """The registry search; without words in ``q`` it finds nothing (an empty page,
    so that the root's link answers)."""

    q = search_filter()
    type = ChoiceTextFilter(field_name="search_type", choices=selectors.SEARCH_TYPES)

    class Meta:
        model = OrganizationalUnit
        fields: ClassVar[list[str]] = []


# Not a status of its own: approved with an effective time still to come.
SCHEDULED = "scheduled"


class ReorganizationImportFilterSet(QueryFilterSet):
    """An import of a spreadsheet: ``dry_run`` answers the difference, drafts nothing."""

    dry_run = FlagFilter(absent=False)

    class Meta:
        model = Reorganization
        fields: ClassVar[list[str]] = []


class ReorganizationFilterSet(QueryFilterSet):
    """The reorganizations list: by status, or ``scheduled`` (approved, waiting for
    its effective time)."""

    status = ChoiceTextFilter(choices=[*ReorganizationStatus.values, SCHEDULED])

    class Meta:
        model = Reorganization
        fields: ClassVar[list[str]] = []
