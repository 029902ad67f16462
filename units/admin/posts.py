"""The posts' admin: a post's own page, its history and revert."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from units import selectors, services
from units.admin.base import (
    RevertibleHistoryAdmin,
    ServiceRefused,
    copy_saved_state,
    revision_record,
)
from units.admin.filters import MissingTranslationFilter, StatusFilter
from units.admin.forms import PostForm
from units.admin.unit_inlines import appoint, author_of, refused_field
from units.content_languages import POST_TRANSLATED, language_fields, translation_fields
from units.dates import day_text
from units.models import Post


@admin.register(Post)
class PostAdmin(RevertibleHistoryAdmin):
    form = PostForm
    list_display = ("title", "unit", "is_head", "filling_method", "abolished_on")
    list_select_related = ("unit",)
    list_filter = (StatusFilter, "is_head", "filling_method", MissingTranslationFilter)
    search_fields = (
        *language_fields(POST_TRANSLATED),
        "slug",
        "unit__name",
        "unit__short_name",
    )
    autocomplete_fields = ("unit",)
    show_full_result_count = False
    history_fields = selectors.POST_HISTORY_FIELDS
    version_url_name = "units_post_simple_history"
    revert_note = _(
        "Reverting to a version in which the post is abolished abolishes it again and "
        "ends its holder's appointment; reviving a post does not bring back who held it."
    )

    def revert(self, obj: Post, **arguments: Any) -> Post:
        return services.post_revert(post=obj, **arguments)

    def content_fieldsets(self, request: HttpRequest, obj: Post | None) -> list[Any]:
        fields = [
            language_fields(POST_TRANSLATED),
            "slug",
            "unit",
            "is_head",
            "filling_method",
        ]
        fieldsets: list[Any] = [
            (None, {"fields": fields}),
            (_("Term"), {"fields": ["term_years", "term_note"]}),
        ]
        holder = ["appoint_person", "new_person", "appointed_on"]
        if obj is not None:
            holder = ["current_holder", *holder, "end_holder_on"]
        if obj is None or obj.is_active:
            fieldsets.append((_("Holder"), {"fields": holder}))
        if obj is not None:
            fieldsets.append(
                (_("Status"), {"fields": ["established_on", "abolished_on", "version"]})
            )
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return ["slug", "current_holder", "established_on", "abolished_on", "version"]

    @admin.display(description=_("Held by"))
    def current_holder(self, post: Post) -> str:
        holders = selectors.open_appointments(post)
        if not holders:
            return str(_("vacant"))
        return _("%(person)s (since %(day)s)") % {
            "person": holders[0].person,
            "day": day_text(holders[0].started_on),
        }

    def save_model(
        self, request: HttpRequest, obj: Post, form: PostForm, change: bool
    ) -> None:
        data = form.cleaned_data
        record = revision_record(request, form)
        try:
            if not change:
                post = services.post_create(
                    **record,
                    title=data["title"],
                    unit=data["unit"],
                    slug=data.get("slug") or "",
                    is_head=data.get("is_head", False),
                    filling_method=data["filling_method"],
                    term_years=data.get("term_years"),
                    term_note=data.get("term_note", ""),
                    translations={
                        name: data.get(name, "")
                        for name in translation_fields(POST_TRANSLATED)
                    },
                )
            else:
                post = services.post_update(
                    **record,
                    post=obj,
                    expected_version=data.get("expected_version"),
                    **{
                        name: data[name]
                        for name in form.changed_data
                        if name in services.POST_UPDATABLE_FIELDS
                    },
                )
        except ValidationError as error:
            raise ServiceRefused(error) from error
        step = "end_holder_on"
        try:
            if data.get("end_holder_on"):
                services.post_end_holder(
                    post=post, ended_on=data["end_holder_on"], **author_of(record)
                )
            step = "appoint"
            appoint(post, data, record)
        except ValidationError as error:
            raise ServiceRefused(
                error, field=refused_field(step, error, form)
            ) from error
        copy_saved_state(obj, post)
