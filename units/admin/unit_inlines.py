"""The rows on a unit's page: its posts with their holders, its dotted lines.

Each saved row becomes the service calls for what the editor changed in it; a
refusal names the row it came from.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from units import selectors, services
from units.admin.base import (
    RefusedRowInline,
    ServiceRefused,
    formset_bookkeeping,
    refusal_field,
)
from units.admin.forms import PostInlineForm, RelationshipInlineForm
from units.content_languages import (
    RELATIONSHIP_TRANSLATED,
    language_fields,
    translation_fields,
)
from units.dates import day_text
from units.models import OrganizationalUnit, Post, UnitRelationship


class ActiveUnitInline(RefusedRowInline, admin.TabularInline):
    """Rows can be added only while the unit is active."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not obj.is_active:
            return False
        return super().has_add_permission(request, obj)


class PostInline(ActiveUnitInline):
    """The unit's posts with their current holders; appoint or end from here."""

    model = Post
    form = PostInlineForm
    fields = (
        "title",
        "is_head",
        "filling_method",
        "current_holder",
        "appoint_person",
        "new_person",
        "appointed_on",
        "end_holder_on",
        "abolish",
        "abolished_on",
        "expected_version",
    )
    readonly_fields = ("current_holder", "abolished_on")
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.with_open_appointments(super().get_queryset(request))

    @admin.display(description=_("Held by"))
    def current_holder(self, post: Post) -> str:
        if not post.pk:
            return ""
        holders = selectors.open_appointments(post)
        if not holders:
            return str(_("vacant"))
        holder = holders[0]
        return _("%(person)s (since %(day)s)") % {
            "person": holder.person,
            "day": day_text(holder.started_on),
        }


class RelationshipInline(ActiveUnitInline):
    """Dotted lines from this unit to others; existing ones can only be ended."""

    model = UnitRelationship
    fk_name = "source"
    form = RelationshipInlineForm
    fields = (
        "target",
        "kind",
        *language_fields(RELATIONSHIP_TRANSLATED),
        "started_on",
        "ended_on",
        "end",
        "correct",
    )
    readonly_fields = ("started_on", "ended_on", "correct")
    autocomplete_fields = ("target",)
    extra = 0
    can_delete = False
    verbose_name = _("dotted-line relationship")
    verbose_name_plural = _("dotted-line relationships")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("target")

    @admin.display(description=_("correct"))
    def correct(self, relationship: UnitRelationship) -> str:
        """A link to correct the recorded dates or description (new rows only)."""
        if relationship.pk is None:
            return ""
        url = reverse(
            "admin:units_organizationalunit_correct_relationship",
            args=[relationship.source_id, relationship.pk],
        )
        return format_html('<a href="{}">{}</a>', url, _("Correct…"))

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        # An ended or frozen description is a disabled field: in a one-line input the
        # end of a long text could not even be scrolled to, so it wraps in a text area.
        kwargs.setdefault(
            "widgets",
            {
                name: forms.Textarea(attrs={"rows": 2, "cols": 40})
                for name in language_fields(RELATIONSHIP_TRANSLATED)
            },
        )
        return super().get_formset(request, obj, **kwargs)


def save_posts(unit: OrganizationalUnit, formset: Any, record: dict[str, Any]) -> None:
    """Create or change each changed post row, then its holder, then abolish it.

    A refusal is shown on its row, next to the field of the step that was refused.
    """
    new: list[Post] = []
    changed_posts: list[tuple[Post, list[str]]] = []
    for post_form in formset.forms:
        if not post_form.has_changed() or not post_form.cleaned_data:
            continue
        data = post_form.cleaned_data
        post = post_form.instance
        subject = str(_("Post “%(title)s”") % {"title": data.get("title") or post})
        step = "post"
        try:
            if post.pk is None:
                post = services.post_create(
                    **record,
                    unit=unit,
                    title=data["title"],
                    is_head=data.get("is_head", False),
                    filling_method=data["filling_method"],
                    term_years=data.get("term_years"),
                    term_note=data.get("term_note", ""),
                )
                new.append(post)
            else:
                changes = {
                    name: data[name]
                    for name in post_form.changed_data
                    if name in services.POST_UPDATABLE_FIELDS
                }
                if changes:
                    post = services.post_update(
                        **record,
                        post=post,
                        expected_version=data.get("expected_version"),
                        **changes,
                    )
                    changed_posts.append((post, list(changes)))
            step = "end_holder_on"
            if data.get("end_holder_on"):
                services.post_end_holder(
                    post=post, ended_on=data["end_holder_on"], **author_of(record)
                )
            step = "appoint"
            appoint(post, data, record)
            step = "abolish"
            if data.get("abolish"):
                services.post_abolish(**record, post=post)
        except ValidationError as error:
            raise ServiceRefused(
                error,
                subject=subject,
                field=refused_field(step, error, post_form),
                row=post_form.prefix,
            ) from error
    formset_bookkeeping(formset, new, changed_posts)


# Appointment refusals about its day (the post did not exist yet, a future day, a
# change recorded after it) belong next to the day; any other next to the person.
APPOINTMENT_DAY_REFUSALS = frozenset(
    {
        services.Refusal.NOT_YET_ESTABLISHED,
        services.Refusal.FUTURE_EFFECTIVE_TIME,
        services.Refusal.OUT_OF_ORDER,
    }
)


def refused_field(step: str, error: ValidationError, post_form: Any) -> str | None:
    """The field of a post row that the refusal of ``step`` concerns."""
    if step == "post":
        return refusal_field(error, post_form.fields)
    if step != "appoint":
        return step
    if services.refusal_code(error) in APPOINTMENT_DAY_REFUSALS:
        return "appointed_on"
    if post_form.cleaned_data.get("new_person"):
        return "new_person"
    return "appoint_person"


def author_of(record: dict[str, Any]) -> dict[str, Any]:
    """Appointments are dated by their own days (their start or end), not by the
    form's effective date: only the author and the reason (with its visibility) are
    passed on."""
    return {
        "user": record["user"],
        "reason": record["reason"],
        "reason_visibility": record["reason_visibility"],
    }


def appoint(post: Post, data: dict[str, Any], record: dict[str, Any]) -> None:
    """Appoint the chosen person to ``post``, or record the new one and appoint them."""
    if data.get("new_person"):
        services.appointment_start_for_new_person(
            full_name=data["new_person"],
            post=post,
            started_on=data["appointed_on"],
            **author_of(record),
        )
    elif data.get("appoint_person"):
        services.appointment_start(
            person=data["appoint_person"],
            post=post,
            started_on=data["appointed_on"],
            **author_of(record),
        )


def save_relationships(
    unit: OrganizationalUnit, formset: Any, record: dict[str, Any]
) -> None:
    """Create each new dotted line; end each one whose "end it" box is ticked."""
    new: list[UnitRelationship] = []
    ended: list[tuple[UnitRelationship, list[str]]] = []
    for relationship_form in formset.forms:
        if not relationship_form.has_changed() or not relationship_form.cleaned_data:
            continue
        data = relationship_form.cleaned_data
        relationship = relationship_form.instance
        try:
            if relationship.pk is None:
                new.append(
                    services.relationship_create(
                        **record,
                        source=unit,
                        target=data["target"],
                        kind=data["kind"],
                        description=data.get("description", ""),
                        translations={
                            name: data.get(name, "")
                            for name in translation_fields(RELATIONSHIP_TRANSLATED)
                        },
                    )
                )
            elif data.get("end"):
                ended.append(
                    (
                        services.relationship_end(**record, relationship=relationship),
                        ["ended_on"],
                    )
                )
        except ValidationError as error:
            raise ServiceRefused(
                error,
                subject=str(_("Relationship")),
                field=refusal_field(error, relationship_form.fields),
                row=relationship_form.prefix,
            ) from error
    formset_bookkeeping(formset, new, ended)
