"""Admin forms: every change carries a reason, an optional effective date and a version.

The forms only collect input. The admin hands ``cleaned_data`` to ``units.services``,
which apply every rule (cycles, order of changes, lost updates); a refusal comes back
as ``service_error`` and is shown as a form error on the re-rendered page.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.widgets import (
    AdminDateWidget,
    AdminSplitDateTime,
    AutocompleteSelect,
)
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from units.content_languages import (
    POST_TRANSLATED,
    RELATIONSHIP_TRANSLATED,
    language_fields,
)
from units.dates import day_text
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    ReasonVisibility,
    Reorganization,
    ReorganizationStatus,
    ReportingLine,
    UnitRelationship,
)
from units.services.reverts import REVERT_MODE_HELP, RevertMode

REASON_HELP = _(
    "Why is this change made? It is recorded in the history with your name."
)
EFFECTIVE_HELP = _(
    "Leave empty if the change takes effect now; give an earlier date to record a "
    "change that already took effect."
)

REASON_VISIBILITY_HELP = _(
    "Public: anyone reading the registry sees the reason. Internal: only signed-in "
    "editors and auditors do; the public reads “reason not public”."
)


def default_reason_visibility() -> str:
    """The choice a form starts with: the registry's ``REASON_VISIBILITY_DEFAULT``."""
    return str(settings.REASON_VISIBILITY_DEFAULT)


def reason_visibility_field() -> forms.ChoiceField:
    """Who may read the reason: asked next to it in every form that asks for one."""
    return forms.ChoiceField(
        label=_("Who may read the reason"),
        choices=ReasonVisibility.choices,
        initial=default_reason_visibility,
        # Not sent (a script posting the form): the services apply the default.
        required=False,
        widget=forms.RadioSelect,
        help_text=REASON_VISIBILITY_HELP,
    )


if TYPE_CHECKING:
    # A label may be a lazy translation; the type exists in django-stubs only.
    from django.utils.functional import _StrPromise

    StrOrLazy = str | _StrPromise


def reason_fields(
    label: StrOrLazy, *, checked_by_services: bool = False, cols: int = 60
) -> tuple[forms.CharField, forms.Field]:
    """The reason and who may read it, asked together by every form that writes.

    Unpack into the form's ``reason`` and ``reason_visibility``. With
    ``checked_by_services`` both are plain optional fields and the services give the
    message (one for every write; the tree's move dialog shows theirs).
    """
    reason = forms.CharField(
        label=label,
        required=not checked_by_services,
        widget=forms.Textarea(attrs={"rows": 2, "cols": cols}),
        help_text=REASON_HELP,
    )
    if not checked_by_services:
        return reason, reason_visibility_field()
    # Radio buttons as every reason's, but the value is checked by the services.
    visibility = forms.CharField(
        label=_("Who may read the reason"),
        initial=default_reason_visibility,
        required=False,
        widget=forms.RadioSelect(choices=ReasonVisibility.choices),
        help_text=REASON_VISIBILITY_HELP,
    )
    return reason, visibility


def effective_at_from(day: datetime.date | None) -> datetime.date | None:
    """An effective date for the services: None ("now") unless it lies in the past.

    Today means now: a change effective at midnight would land before one recorded
    earlier today and be recorded as a correction of it.
    """
    if day is None or day >= timezone.now().date():
        return None
    return day


def clean_not_future(day: datetime.date | None) -> datetime.date | None:
    if day is not None and day > timezone.now().date():
        raise ValidationError(
            _(
                "The effective date %(day)s is in the future; record a change once it "
                "has taken effect."
            ),
            code="future_effective_time",
            params={"day": day_text(day)},
        )
    return day


class ServiceErrorMixin:
    """Show a refusal from the services next to its field, or on the whole form.

    ``service_error_field`` names the field the refusal concerns, when the admin
    knows it and the form has that field.
    """

    service_error: ValidationError | None = None
    service_error_field: str | None = None

    def clean(self) -> dict:
        cleaned_data = super().clean()  # type: ignore[misc]
        if self.service_error is not None:
            if self.service_error_field in self.fields:  # type: ignore[attr-defined]
                self.add_error(self.service_error_field, self.service_error)  # type: ignore[attr-defined]
            else:
                raise self.service_error
        return cleaned_data


class RecordedChangeForm(ServiceErrorMixin, forms.ModelForm):
    """Base of the admin's add/change forms: reason, effective date, loaded version."""

    reason, reason_visibility = reason_fields(_("Reason for this change"))
    effective_date = forms.DateField(
        label=_("Effective date"),
        required=False,
        widget=AdminDateWidget,
        help_text=EFFECTIVE_HELP,
    )
    # The version the editor loaded; the services refuse the save if it moved on.
    expected_version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version
            self.fields["expected_version"].required = True

    def clean_effective_date(self) -> datetime.date | None:
        return clean_not_future(self.cleaned_data.get("effective_date"))

    @property
    def effective_at(self) -> datetime.date | None:
        return effective_at_from(self.cleaned_data.get("effective_date"))


class HolderFields(forms.Form):
    """Who holds a post: appoint a recorded person or a new one, or end the holder.

    A new person is recorded by the same save, with the same reason, so an editor
    never has to record them on another page first.
    """

    appoint_person = forms.ModelChoiceField(
        label=_("Appoint a recorded person"),
        queryset=Person.objects.all(),
        required=False,
        widget=AutocompleteSelect(Appointment._meta.get_field("person"), admin.site),
        help_text=_("Type to search the people already in the registry."),
    )
    new_person = forms.CharField(
        label=_("…or a new person"),
        max_length=Person._meta.get_field("full_name").max_length,
        required=False,
        widget=forms.TextInput(attrs={"size": 22, "placeholder": _("Full name")}),
        help_text=_(
            "Someone not yet in the registry: they are recorded with this change's "
            "reason and appointed."
        ),
    )
    appointed_on = forms.DateField(
        label=_("Appointed from"),
        required=False,
        widget=AdminDateWidget,
        help_text=_("The first day the person holds the post."),
    )
    end_holder_on = forms.DateField(
        label=_("End current holder's appointment on"),
        required=False,
        widget=AdminDateWidget,
        help_text=_("The last day the current holder holds the post."),
    )

    def clean_holder(self, cleaned_data: dict) -> None:
        """Check that an appointment names one person and its first day."""
        person = cleaned_data.get("appoint_person")
        new_person = cleaned_data.get("new_person")
        if person and new_person:
            self.add_error(
                "new_person",
                _("Choose a recorded person or type a new person's name, not both."),
            )
        if (person or new_person) and not cleaned_data.get("appointed_on"):
            self.add_error(
                "appointed_on", _("Say from which date the person holds it.")
            )
        # A person field with an error of its own (a refusal next to it) was named.
        named = (
            person or new_person or {"appoint_person", "new_person"} & set(self.errors)
        )
        if cleaned_data.get("appointed_on") and not named:
            self.add_error(
                "appoint_person",
                _("Choose the person to appoint, or type a new person's name."),
            )


class UnitForm(RecordedChangeForm):
    slug = forms.SlugField(
        label=_("Slug"),
        max_length=100,
        required=False,
        help_text=_(
            "Leave empty to derive it from the acronym or name. It never changes."
        ),
    )
    sibling_order = forms.IntegerField(
        label=_("Order among siblings"),
        required=False,
        min_value=0,
        help_text=_("Leave empty to place the unit after its siblings."),
    )

    class Meta:
        model = OrganizationalUnit
        fields = [
            *language_fields(("name", "short_name")),
            "slug",
            "kind",
            "parent",
            "reporting_line",
            "sibling_order",
            *language_fields(("mandate", "location")),
            "learn_more_url",
        ]


class PostForm(HolderFields, RecordedChangeForm):
    slug = forms.SlugField(
        label=_("Slug"),
        max_length=100,
        required=False,
        help_text=_("Leave empty to derive it from the title."),
    )

    class Meta:
        model = Post
        fields = [
            *language_fields(POST_TRANSLATED),
            "slug",
            "unit",
            "is_head",
            "filling_method",
            "term_years",
            "term_note",
        ]

    def clean(self) -> dict:
        cleaned_data = super().clean()
        self.clean_holder(cleaned_data)
        if self.instance.pk is None and cleaned_data.get("end_holder_on"):
            self.add_error(
                "end_holder_on", _("A new post has no holder whose term could end.")
            )
        return cleaned_data


class PersonForm(RecordedChangeForm):
    slug = forms.SlugField(
        label=_("Slug"),
        max_length=100,
        required=False,
        help_text=_("Leave empty to derive it from the name."),
    )

    class Meta:
        model = Person
        fields = ["full_name", "slug"]


class InlineRowForm(ServiceErrorMixin, forms.ModelForm):
    """An inline row: existing rows of ended or abolished objects are read-only.

    A refusal of the services for this row is shown on the row, next to its field.
    """

    frozen_fields: tuple[str, ...] = ()
    # The refusal of a posted row, by row prefix: (its field or None, the error).
    row_refusals: dict[str, tuple[str | None, ValidationError]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.prefix in self.row_refusals:
            self.service_error_field, self.service_error = self.row_refusals[
                self.prefix
            ]
        if self.instance.pk is not None:
            for name in self.frozen_fields:
                if name in self.fields:
                    self.fields[name].disabled = True


class PostInlineForm(HolderFields, InlineRowForm):
    """A post of the unit, with its holder: appoint someone or end the appointment."""

    abolish = forms.BooleanField(label=_("Abolish the post"), required=False)
    expected_version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1
    )

    class Meta:
        model = Post
        fields = ["title", "is_head", "filling_method"]
        labels = {
            "title": _("Title"),
            "is_head": _("Heads the unit"),
            "filling_method": _("How it is filled"),
        }
        widgets = {"title": forms.TextInput(attrs={"size": 28})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version
            if not self.instance.is_active:
                for field in self.fields.values():
                    field.disabled = True

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        self.clean_holder(cleaned_data)
        if self.instance.pk is None:
            if cleaned_data.get("end_holder_on"):
                self.add_error(
                    "end_holder_on", _("A new post has no holder whose term could end.")
                )
            if cleaned_data.get("abolish"):
                self.add_error("abolish", _("A new post cannot be abolished."))
        return cleaned_data


class RelationshipInlineForm(InlineRowForm):
    """A dotted line from this unit; an existing one can only be ended."""

    # The description in its three languages, side by side in the row; corrected
    # later through "Correct…", like the dates.
    frozen_fields = ("target", "kind", *language_fields(RELATIONSHIP_TRANSLATED))
    end = forms.BooleanField(label=_("end it"), required=False)

    class Meta:
        model = UnitRelationship
        fields = ["target", "kind", *language_fields(RELATIONSHIP_TRANSLATED)]
        widgets = {
            name: forms.TextInput(attrs={"size": 40})
            for name in language_fields(RELATIONSHIP_TRANSLATED)
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and not self.instance.is_active:
            self.fields["end"].disabled = True


class AppointmentInlineForm(InlineRowForm):
    """A post a person holds or held; an open appointment can be ended."""

    frozen_fields = ("post", "started_on", "note")

    class Meta:
        model = Appointment
        fields = ["post", "started_on", "ended_on", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and self.instance.ended_on is not None:
            self.fields["ended_on"].disabled = True


def active_unit_choice(
    label: StrOrLazy, *, required: bool = False
) -> forms.ModelChoiceField:
    """A search field for an active unit (the autocomplete offers active ones only)."""
    return forms.ModelChoiceField(
        label=label,
        queryset=OrganizationalUnit.objects.active(),
        required=required,
        widget=AutocompleteSelect(
            OrganizationalUnit._meta.get_field("parent"), admin.site
        ),
    )


class AbolishForm(ServiceErrorMixin, forms.Form):
    """What abolishing asks: the reason, the day, and the version the editor loaded."""

    reason, reason_visibility = reason_fields(_("Reason for abolishing"))
    effective_date = forms.DateField(
        label=_("Abolished on"),
        required=False,
        widget=AdminDateWidget,
        help_text=_("Leave empty for today."),
    )
    expected_version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1
    )

    def clean_effective_date(self) -> datetime.date | None:
        return clean_not_future(self.cleaned_data.get("effective_date"))

    @property
    def effective_at(self) -> datetime.date | None:
        return effective_at_from(self.cleaned_data.get("effective_date"))

    def record_fields(self) -> list[forms.BoundField]:
        """The fields shown one per line (the sub-units' rows are a table)."""
        return [
            self[name] for name in ("reason", "reason_visibility", "effective_date")
        ]

    def service_arguments(self) -> dict[str, Any]:
        """What ``units_abolish`` is told about the sub-units."""
        return {}


class ReinstateForm(ServiceErrorMixin, forms.Form):
    """What reinstating asks: the reason, the day (like any change, it may be past,
    not before the abolition), and the version the editor loaded."""

    reason = forms.CharField(
        label=_("Reason for reinstating"),
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=REASON_HELP,
    )
    reason_visibility = reason_visibility_field()
    effective_date = forms.DateField(
        label=_("Reinstated on"),
        required=False,
        widget=AdminDateWidget,
        help_text=_("Leave empty for today; not before the abolition."),
    )
    expected_version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1
    )

    def clean_effective_date(self) -> datetime.date | None:
        return clean_not_future(self.cleaned_data.get("effective_date"))

    @property
    def effective_at(self) -> datetime.date | None:
        return effective_at_from(self.cleaned_data.get("effective_date"))


class SubUnitRow(NamedTuple):
    """One active sub-unit on the abolish page: what happens to it, and where to."""

    unit: OrganizationalUnit
    fate: forms.BoundField
    destination: forms.BoundField


class AbolishUnitForm(AbolishForm):
    """What happens to each active sub-unit of the units abolished: asked per sub-unit.

    The "Abolish" button of a unit's page (one unit) and the "Abolish selected units"
    action (several) ask the same: each sub-unit moves under the unit chosen for it
    (at first its abolished parent's own parent, so the first submit works) or is
    abolished with it; never "stop", which would only refuse the first submit. With no
    active sub-unit, nothing is asked. A sub-unit that is itself chosen for abolishing
    is abolished with its parent, unasked. The rows are those of the sub-units active
    when the form is posted: one that appeared meanwhile has no answer and is a form
    error, never abolished unasked.
    """

    FATES = (("move", _("Moves under")), ("abolish", _("Is abolished too")))

    def __init__(
        self,
        *args: Any,
        unit: OrganizationalUnit | None = None,
        units: list[OrganizationalUnit] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        units = units if units is not None else [unit] if unit is not None else []
        chosen = {abolished.pk: abolished for abolished in units}
        children = list(
            OrganizationalUnit.objects.active()
            .filter(parent__in=list(chosen))
            .select_related("parent__parent")
            .in_tree_order()
        )
        # Abolished with their parent, as the editor chose: no question.
        self.abolished_with_parent = [
            child.pk for child in children if child.pk in chosen
        ]
        self.sub_units = [child for child in children if child.pk not in chosen]
        for sub_unit in self.sub_units:
            parent = self._first_kept_ancestor(sub_unit, chosen)
            self.fields[self.fate_name(sub_unit)] = forms.ChoiceField(
                label=_("What happens to “%(unit)s”") % {"unit": sub_unit},
                choices=self.FATES,
                initial="move" if parent else "abolish",
                widget=forms.RadioSelect,
            )
            self.fields[self.destination_name(sub_unit)] = active_unit_choice(
                _("Unit “%(unit)s” moves under") % {"unit": sub_unit}
            )
            self.fields[self.destination_name(sub_unit)].initial = parent

    @staticmethod
    def _first_kept_ancestor(
        sub_unit: OrganizationalUnit, chosen: dict[int, OrganizationalUnit]
    ) -> OrganizationalUnit | None:
        """The abolished parent's parent, when it is active and not abolished too."""
        parent = sub_unit.parent
        grandparent = parent.parent if parent is not None else None
        if grandparent is None or not grandparent.is_active or grandparent.pk in chosen:
            return None
        return grandparent

    @staticmethod
    def fate_name(sub_unit: OrganizationalUnit) -> str:
        return f"sub_unit_{sub_unit.pk}"

    @staticmethod
    def destination_name(sub_unit: OrganizationalUnit) -> str:
        return f"sub_unit_{sub_unit.pk}_to"

    def sub_unit_rows(self) -> list[SubUnitRow]:
        return [
            SubUnitRow(
                sub_unit,
                self[self.fate_name(sub_unit)],
                self[self.destination_name(sub_unit)],
            )
            for sub_unit in self.sub_units
        ]

    def clean(self) -> dict:
        cleaned_data = super().clean()
        for sub_unit in self.sub_units:
            destination = self.destination_name(sub_unit)
            if (
                cleaned_data.get(self.fate_name(sub_unit)) == "move"
                and not cleaned_data.get(destination)
                and destination not in self.errors
            ):
                self.add_error(destination, _("Choose the unit it moves under."))
        return cleaned_data

    def service_arguments(self) -> dict[str, Any]:
        destinations: dict[int, OrganizationalUnit | None] = {
            sub_unit.pk: (
                self.cleaned_data[self.destination_name(sub_unit)]
                if self.cleaned_data[self.fate_name(sub_unit)] == "move"
                else None
            )
            for sub_unit in self.sub_units
        }
        destinations.update(dict.fromkeys(self.abolished_with_parent))
        return {"sub_unit_destinations": destinations}

    def sub_unit_field(self, sub_unit_id: int) -> str | None:
        """The field a refusal about one sub-unit belongs next to."""
        sub_unit = next(
            (unit for unit in self.sub_units if unit.pk == sub_unit_id), None
        )
        if sub_unit is None:
            return None
        if self.data.get(self.add_prefix(self.fate_name(sub_unit))) == "abolish":
            return self.fate_name(sub_unit)
        return self.destination_name(sub_unit)


class RevertForm(ServiceErrorMixin, forms.Form):
    """Reverting is a new change: it needs its own reason, and says how it takes
    effect (undone from now, or the record corrected from the mistake's time)."""

    mode = forms.ChoiceField(
        label=_("How to revert"),
        choices=RevertMode.choices,
        initial=RevertMode.UNDO,
        # Not sent (a script posting the form, as before the choice existed): undo.
        required=False,
        widget=forms.RadioSelect,
    )
    reason, reason_visibility = reason_fields(_("Reason for reverting"))
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def clean_mode(self) -> str:
        return str(self.cleaned_data.get("mode") or RevertMode.UNDO)

    def mode_choices(self) -> list[tuple[Any, StrOrLazy]]:
        """Each radio button of ``mode`` with its one-sentence explanation."""
        return [
            (choice, REVERT_MODE_HELP[RevertMode(choice.data["value"])])
            for choice in self["mode"]
        ]


class RevertReorganizationForm(ServiceErrorMixin, forms.Form):
    """Reverting a reorganization drafts a new one: it needs its own reason, and says
    how it takes effect (from a time of its own, or correcting the record)."""

    mode = forms.ChoiceField(
        label=_("How to revert"),
        choices=[
            (
                RevertMode.UNDO,
                _(
                    "Undo from the time below (default now): the history keeps the "
                    "reorganization and shows it undone."
                ),
            ),
            (
                RevertMode.CORRECT,
                _(
                    "Correct the record from when it took effect, as if it had never "
                    "applied; reports printed before today still show it."
                ),
            ),
        ],
        initial=RevertMode.UNDO,
        # Not sent (a script posting the form, as before the choice existed): undo.
        required=False,
        widget=forms.RadioSelect,
    )
    reason, reason_visibility = reason_fields(_("Reason for reverting"))
    effective_at = forms.SplitDateTimeField(
        label=_("Takes effect at"),
        required=False,
        widget=AdminSplitDateTime,
        help_text=_("Leave empty for now; the revert is a draft until approved."),
    )

    def clean_mode(self) -> str:
        return str(self.cleaned_data.get("mode") or RevertMode.UNDO)


class MoveDialogForm(forms.Form):
    """What the tree's drag-and-drop dialog asks besides the move itself.

    Applied at once, the move is a one-operation reorganization with its own reason,
    visibility and (past) effective date; added to a draft, it takes the draft's. The
    reason and its visibility are checked by the services (one message for every
    write), so they are plain fields here.
    """

    APPLY, DRAFT = "apply", "draft"
    mode = forms.ChoiceField(
        label=_("What to do"),
        choices=[
            (APPLY, _("Apply it now")),
            (DRAFT, _("Add it to a draft reorganization")),
        ],
        initial=APPLY,
        required=False,
        widget=forms.RadioSelect,
    )
    draft = forms.ModelChoiceField(
        label=_("Draft reorganization"),
        queryset=Reorganization.objects.none(),
        required=False,
        empty_label=_("Choose one of your drafts"),
    )
    reason, reason_visibility = reason_fields(
        _("Reason for this move"), checked_by_services=True, cols=40
    )
    effective_date = forms.DateField(
        label=_("Effective date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=EFFECTIVE_HELP,
    )
    reporting_line = forms.ChoiceField(
        label=_("Nature of the reporting line"),
        choices=[("", _("Keep it as it is")), *ReportingLine.choices],
        required=False,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_move_%s")
        super().__init__(*args, **kwargs)
        self.fields["draft"].queryset = drafts_of(user)  # type: ignore[attr-defined]

    def clean_effective_date(self) -> datetime.date | None:
        return clean_not_future(self.cleaned_data.get("effective_date"))

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean() or {}
        if cleaned_data.get("mode") == self.DRAFT and not cleaned_data.get("draft"):
            if "draft" not in self.errors:
                self.add_error("draft", _("Choose the draft to add the move to."))
        return cleaned_data

    @property
    def adds_to_draft(self) -> bool:
        return self.cleaned_data.get("mode") == self.DRAFT

    @property
    def effective_at(self) -> datetime.date | None:
        return effective_at_from(self.cleaned_data.get("effective_date"))


def drafts_of(user: Any) -> Any:
    """The drafts a move may be added to: the editor's own, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Reorganization.objects.none()
    return Reorganization.objects.filter(
        author=user, status=ReorganizationStatus.DRAFT
    ).order_by("-created_at", "-pk")
