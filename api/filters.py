"""The query parameters of the API's lists, validated once, before anything is read.

One FilterSet per list (django-filter): each parameter is a form field whose cleaning
turns the text into what the selector takes (a slug into an id, ``true`` into True)
or refuses it with a message that names the value. The selectors in
``units.selectors.listings`` then choose and order the rows; the views only page them.
A refusal is a 400 shaped as the API has always answered: ``{"parameter": "message"}``
for the first bad parameter, in the order the list documents them, or, for a
malformed ``as_of``, ``{"detail": ..., "code": "invalid_instant"}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import django_filters
from django import forms
from django.db import models
from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from units import selectors
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RelationshipKind,
    UnitKind,
    UnitRelationship,
)

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
INVALID_INSTANT = "invalid_instant"


def ordering_choices(orderings: Iterable[str]) -> list[str]:
    """Each ordering key and its descending ``-`` form, as ``ordering`` accepts them."""
    keys = list(orderings)
    return [*keys, *(f"-{key}" for key in keys)]


# --- Fields: the text of one parameter, read or refused --------------------------------


class InstantField(forms.Field):
    """An ISO 8601 date or date-time (``as_of``); None for now."""

    def to_python(self, value: str | None) -> Any:
        if value is None:
            return None
        try:
            return selectors.parse_instant(value, parameter="as_of")
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


STATUS_CHOICES = ["active", "abolished"]


class ListFilterSet(django_filters.FilterSet):
    """The parameters of one list: ``as_of`` first, ``q`` and ``ordering`` last."""

    as_of = InstantFilter(field_name="when")

    def __init__(self, query: QueryDict) -> None:
        model = self._meta.model
        super().__init__(data=query, queryset=model._default_manager.none())

    def selector_arguments(self) -> dict[str, Any]:
        """The cleaned parameters by selector keyword; ValidationError → 400."""
        if not self.is_valid():
            name, (error, *_) = next(iter(self.form.errors.as_data().items()))
            message = " ".join(error.messages)
            if error.code == INVALID_INSTANT:
                raise selectors.InvalidInstant(message)
            raise ValidationError({name: message})
        return {
            self.filters[name].field_name: value
            for name, value in self.form.cleaned_data.items()
        }


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
