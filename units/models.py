"""The organization's structure: units in a tree, posts, people, appointments, links.

Every model keeps its full revision history (django-simple-history). Writes go through
``units.services`` only: they lock the tree, stamp each revision with its effective time,
the acting user and a reason, and keep exactly one history row per changed object.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet
from simple_history.models import HistoricalRecords

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The largest values PostgreSQL's integer and smallint columns hold. SQLite stores 64-bit
# integers in any column, so without these bounds an SQLite registry could accept a
# value (an order of 2147483648) that it then cannot move to PostgreSQL.
INTEGER_MAX = 2_147_483_647
SMALL_INTEGER_MAX = 32_767


def version_field(
    help_text: StrOrPromise = "",
) -> models.PositiveIntegerField[int, int]:
    """The optimistic-lock counter every recorded model carries (raised by each write).

    One definition, so the six models cannot drift apart; the field it returns is the
    one each model declared by hand before, so no migration follows from it.
    """
    return models.PositiveIntegerField(
        _("version"),
        default=1,
        editable=False,
        validators=[MaxValueValidator(INTEGER_MAX)],
        help_text=help_text,
    )


def translation_field(
    label: StrOrPromise, max_length: int | None = None
) -> models.Field[str, str]:
    """A French or Spanish text beside its English field (``units.content_languages``).

    Blank until translated. The database default is blank too, so rows written
    without naming the translations (bulk loads, older backups) hold no NULL.
    """
    if max_length is None:
        return models.TextField(label, blank=True, default="", db_default="")
    return models.CharField(
        label, max_length=max_length, blank=True, default="", db_default=""
    )


class ReasonVisibility(models.TextChoices):
    """Who may read a change's reason: everyone, or the registry's editors and auditors."""

    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal (editors and auditors only)")


# Revisions in the order they hold: by effective time (``history_date``), and among
# those effective at one instant in the order they were written (``history_id``), so
# the later written one wins. Every read of "the version at" or "the next change"
# orders by these.
REVISION_ORDER = ("history_date", "history_id")
NEWEST_REVISION_FIRST = ("-history_date", "-history_id")


class RecordedRevision(models.Model):
    """Extra columns of every history table.

    ``history_date`` is when a change *took effect* (what "as of" queries use);
    ``recorded_at`` is when it was *written down*, so a backdated change stays visible
    as such in the audit trail. ``reason_visibility`` says who may read the reason.
    """

    recorded_at = models.DateTimeField(
        _("recorded at"), default=timezone.now, db_index=True, editable=False
    )
    # Internal unless a write says otherwise: a history row written by any path that
    # does not set it (a script saving a model directly) never publishes its reason.
    reason_visibility = models.CharField(
        _("reason visibility"),
        max_length=8,
        choices=ReasonVisibility.choices,
        default=ReasonVisibility.INTERNAL,
        editable=False,
    )
    # The reorganization whose application wrote this revision (None: a single change).
    # Set by the services while they apply one (see units.services.reorganizations).
    reorganization = models.ForeignKey(
        "units.Reorganization",
        verbose_name=_("reorganization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # A revert's revision: the history_id of the version it brought the object back to
    # (``unit_revert``, ``post_revert``, ``person_revert``), so the feed says "reverted".
    reverts_revision = models.PositiveBigIntegerField(
        _("reverts to version"), null=True, blank=True, editable=False
    )
    # A correction's revision: the history_id of the revision whose recorded state it
    # corrects. A correction never edits a row: it writes rows recorded later, one at its
    # own effective time (correcting the revision in force then) and one per later
    # revision whose state it changes, at that revision's effective time (which then
    # wins the tie: the later recorded). See ``units.services.corrections``.
    corrects_revision = models.PositiveBigIntegerField(
        _("corrects version"), null=True, blank=True, editable=False
    )

    class Meta:
        abstract = True


# Tree bookkeeping is derived from parent links; tracking it in history would make
# simple-history fail on the first save and would record shifts mptt makes silently.
TREE_FIELDS = ["lft", "rght", "tree_id", "level"]


class UnitKind(models.TextChoices):
    ORGANIZATION = "organization", _("Organization")
    EXECUTIVE_OFFICE = "executive_office", _("Executive office")
    OFFICE = "office", _("Office")
    DEPARTMENT = "department", _("Department")
    DIVISION = "division", _("Division")
    UNIT = "unit", _("Unit")
    SECRETARIAT = "secretariat", _("Secretariat")
    ADMINISTRATIVE_CENTRE = "administrative_centre", _("Administrative centre")
    INSTITUTE = "institute", _("Institute")
    REGIONAL_OFFICE = "regional_office", _("Regional office")
    LIAISON_OFFICE = "liaison_office", _("Liaison office")
    COUNTRY_OFFICE = "country_office", _("Country office")
    GOVERNING_BODY = "governing_body", _("Governing body")
    COMMITTEE = "committee", _("Committee")
    GROUP = "group", _("Group of functions")


class ReportingLine(models.TextChoices):
    """The nature of the link between a unit and its parent."""

    DIRECT_SUPERVISION = "direct_supervision", _("Direct supervision")
    OVERSIGHT = "oversight", _("Oversight")


class UnitQuerySet(TreeQuerySet):
    """Units, with the nested-set arithmetic of the tree spelled out once, here.

    A unit's subtree is the ``lft``..``rght`` range of its tree (the ``tree_id, lft``
    index); a unit with ``rght = lft + 1`` has no sub-units; it has
    ``(rght - lft - 1) / 2`` descendants.
    """

    def active(self) -> UnitQuerySet:
        return self.filter(abolished_on__isnull=True)

    def abolished(self) -> UnitQuerySet:
        return self.filter(abolished_on__isnull=False)

    def children_of(self, parent: OrganizationalUnit | None) -> UnitQuerySet:
        """The direct sub-units of ``parent`` (None: the top-level units)."""
        return self.filter(parent=parent)

    def descendants_of(
        self, unit: OrganizationalUnit, *, include_self: bool = False
    ) -> UnitQuerySet:
        """Every unit below ``unit`` (and ``unit`` itself if ``include_self``).

        The range is read from the database in the same query, not from ``unit``'s
        attributes: after a tree change, an instance in memory holds stale
        ``lft``/``rght`` values and would give a wrong range.
        """
        branch = self.model._default_manager.filter(pk=unit.pk).order_by()
        lowest = models.Subquery(branch.values("lft"))
        return self.filter(
            tree_id=models.Subquery(branch.values("tree_id")),
            lft__gte=lowest if include_self else lowest + 1,
            lft__lt=models.Subquery(branch.values("rght")),
        )

    def with_sub_units(self) -> UnitQuerySet:
        """Only units that have at least one sub-unit (no leaves)."""
        return self.filter(rght__gt=models.F("lft") + 1)

    def with_descendant_count(self) -> UnitQuerySet:
        """Annotate ``descendant_count``: how many units lie below each one."""
        return self.annotate(
            descendant_count=(models.F("rght") - models.F("lft") - 1) / 2
        )

    def in_tree_order(self) -> UnitQuerySet:
        """Each unit before its descendants, each subtree contiguous."""
        return self.order_by("tree_id", "lft")


class OrganizationalUnit(MPTTModel):
    """A node of the organization: an office, department, division, unit, ..."""

    name = models.CharField(_("name"), max_length=255)
    name_fr = translation_field(_("name (French)"), max_length=255)
    name_es = translation_field(_("name (Spanish)"), max_length=255)
    short_name = models.CharField(
        _("acronym or short name"), max_length=64, blank=True, default=""
    )
    short_name_fr = translation_field(
        _("acronym or short name (French)"), max_length=64
    )
    short_name_es = translation_field(
        _("acronym or short name (Spanish)"), max_length=64
    )
    slug = models.SlugField(
        _("slug"),
        max_length=100,
        unique=True,
        help_text=_("Stable key used in every URL; it does not change on rename."),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=UnitKind.choices)
    mandate = models.TextField(_("mandate"), blank=True, default="")
    mandate_fr = translation_field(_("mandate (French)"))
    mandate_es = translation_field(_("mandate (Spanish)"))
    location = models.CharField(_("location"), max_length=128, blank=True, default="")
    location_fr = translation_field(_("location (French)"), max_length=128)
    location_es = translation_field(_("location (Spanish)"), max_length=128)
    learn_more_url = models.URLField(_("learn more link"), blank=True, default="")
    provenance = models.TextField(
        _("provenance"),
        blank=True,
        default="",
        help_text=_(
            "Where the record comes from and what in it is an interpretation of the "
            'source, for example "Placement inferred from the source: ...".'
        ),
    )
    parent = TreeForeignKey(
        "self",
        verbose_name=_("reports to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        # Indexed with the position instead (Meta.indexes, "unit_siblings").
        db_index=False,
    )
    reporting_line = models.CharField(
        _("nature of the reporting line"),
        max_length=32,
        choices=ReportingLine.choices,
        default=ReportingLine.DIRECT_SUPERVISION,
    )
    sibling_order = models.PositiveIntegerField(
        _("order among siblings"),
        default=0,
        validators=[MaxValueValidator(INTEGER_MAX)],
    )
    established_on = models.DateField(_("established on"), null=True, blank=True)
    abolished_on = models.DateField(_("abolished on"), null=True, blank=True)
    version = version_field(
        help_text=_("Raised by every change; guards against lost updates.")
    )
    # Declared so that django-mptt does not add an index of its own on it: the
    # (tree_id, lft) index already serves every lookup by tree, and each index on the
    # table costs every row a create or a move shifts (docs/performance.md).
    tree_id = models.PositiveIntegerField(editable=False)

    objects = TreeManager.from_queryset(UnitQuerySet)()
    history = HistoricalRecords(
        excluded_fields=TREE_FIELDS,
        bases=[RecordedRevision],
        cascade_delete_history=False,
    )

    class MPTTMeta:
        # A unit's place among its siblings is its position alone, distinct among
        # siblings (the services see to it): with the name in here, django-mptt moved
        # the node (and rewrote the whole tree) on every rename.
        order_insertion_by = ["sibling_order"]

    class Meta:
        verbose_name = _("organizational unit")
        verbose_name_plural = _("organizational units")
        # Tree order and branch ranges (tree_id, lft BETWEEN ...): the whole tree
        # streams in this order and every subtree read is a range on it. Undeclared,
        # django-mptt adds it to _meta.indexes behind Meta's back, where migrations
        # never see it: the index was never created. Sub-units in order, and who
        # holds a position: (parent, sibling_order). Nothing more: PostgreSQL writes
        # an entry in every index of the table for each row a create or a move
        # shifts (its lft changes, so the update cannot be HOT); see migration 0019
        # and docs/performance.md.
        indexes = [
            models.Index(fields=["tree_id", "lft"], name="unit_tree_position"),
            models.Index(fields=["parent", "sibling_order"], name="unit_siblings"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(abolished_on__isnull=True)
                | models.Q(established_on__isnull=True)
                | models.Q(abolished_on__gte=models.F("established_on")),
                name="unit_abolished_after_established",
            ),
        ]

    def __str__(self) -> str:
        if self.short_name and self.short_name not in self.name:
            return f"{self.name} ({self.short_name})"
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("units:unit-detail", kwargs={"slug": self.slug})

    @property
    def is_active(self) -> bool:
        return self.abolished_on is None


class FillingMethod(models.TextChoices):
    ELECTED_BY_COUNCIL = "elected_by_council", _("Elected by the Council")
    APPOINTED_BY_DIRECTOR_GENERAL = (
        "appointed_by_director_general",
        _("Appointed by the Director General"),
    )
    TEMPORARY_APPOINTMENT = (
        "temporary_appointment",
        _("Temporary appointment by the Director General"),
    )
    OTHER = "other", _("Other")


class Post(models.Model):
    """A position in a unit, possibly the one that heads it."""

    title = models.CharField(_("title"), max_length=255)
    title_fr = translation_field(_("title (French)"), max_length=255)
    title_es = translation_field(_("title (Spanish)"), max_length=255)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    unit = models.ForeignKey(
        OrganizationalUnit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="posts",
    )
    is_head = models.BooleanField(_("heads the unit"), default=False)
    filling_method = models.CharField(
        _("how it is filled"),
        max_length=40,
        choices=FillingMethod.choices,
        default=FillingMethod.APPOINTED_BY_DIRECTOR_GENERAL,
    )
    term_years = models.PositiveSmallIntegerField(
        _("term in years"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(SMALL_INTEGER_MAX)],
    )
    term_note = models.CharField(
        _("term"),
        max_length=255,
        blank=True,
        default="",
        help_text=_('For example "for the duration of the Director General\'s term".'),
    )
    established_on = models.DateField(_("established on"), null=True, blank=True)
    abolished_on = models.DateField(_("abolished on"), null=True, blank=True)
    version = version_field()

    history = HistoricalRecords(bases=[RecordedRevision], cascade_delete_history=False)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["-is_head", "title"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.abolished_on is None


class Person(models.Model):
    full_name = models.CharField(_("full name"), max_length=255)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    version = version_field()

    history = HistoricalRecords(bases=[RecordedRevision], cascade_delete_history=False)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name


def appointment_is_current(
    started_on: datetime.date, ended_on: datetime.date | None, day: datetime.date
) -> bool:
    """Whether an appointment runs on ``day``: started by then, ending after it.

    The rule for plain rows (``.values()``, history); ``AppointmentQuerySet.current_on``
    is the same rule in the database. The end date is the first day out of the post.
    """
    return started_on <= day and (ended_on is None or day < ended_on)


class AppointmentQuerySet(models.QuerySet):
    def current_on(self, day: datetime.date) -> AppointmentQuerySet:
        """The appointments running on ``day`` (see ``appointment_is_current``)."""
        return self.filter(
            models.Q(ended_on__isnull=True) | models.Q(ended_on__gt=day),
            started_on__lte=day,
        )


class Appointment(models.Model):
    """A person holding a post from a start date to an optional end date."""

    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    post = models.ForeignKey(
        Post,
        verbose_name=_("post"),
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True, default="")
    version = version_field()

    objects = AppointmentQuerySet.as_manager()
    history = HistoricalRecords(bases=[RecordedRevision], cascade_delete_history=False)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["-started_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(ended_on__gte=models.F("started_on")),
                name="appointment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.post}"

    def is_current_on(self, day: datetime.date) -> bool:
        return appointment_is_current(self.started_on, self.ended_on, day)


class RelationshipKind(models.TextChoices):
    WORKS_IN_CONJUNCTION_WITH = (
        "works_in_conjunction_with",
        _("works in conjunction with"),
    )
    COLLABORATES_WITH = "collaborates_with", _("collaborates with")
    SUPPORTS = "supports", _("supports")
    ADVISES = "advises", _("advises")
    COORDINATES_WITH = "coordinates_with", _("coordinates with")


class UnitRelationship(models.Model):
    """A typed, directed dotted line between two units, outside the reporting tree."""

    source = models.ForeignKey(
        OrganizationalUnit,
        verbose_name=_("from unit"),
        on_delete=models.PROTECT,
        related_name="outgoing_relationships",
    )
    target = models.ForeignKey(
        OrganizationalUnit,
        verbose_name=_("to unit"),
        on_delete=models.PROTECT,
        related_name="incoming_relationships",
    )
    kind = models.CharField(_("kind"), max_length=40, choices=RelationshipKind.choices)
    description = models.TextField(_("description"), blank=True, default="")
    description_fr = translation_field(_("description (French)"))
    description_es = translation_field(_("description (Spanish)"))
    started_on = models.DateField(_("started on"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    version = version_field()

    history = HistoricalRecords(bases=[RecordedRevision], cascade_delete_history=False)

    class Meta:
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")),
                name="relationship_links_two_units",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.get_kind_display()} {self.target}"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None


class ClosureReason(models.TextChoices):
    """Why a unit closed and what took over its work, as GOV.UK's organisations register
    names it. Every reason here has successors: a unit that closes without one is
    simply abolished (no lineage link)."""

    MERGED = "merged", _("merged")
    SPLIT = "split", _("split")
    REPLACED = "replaced", _("replaced")
    ABSORBED = "absorbed", _("absorbed")
    CHANGED_NAME = "changed_name", _("changed name")


class UnitSuccession(models.Model):
    """A typed, dated lineage link: ``successor`` took over (part of) ``predecessor``.

    Written by ``units.services.lineage`` only, never deleted. The links written by one
    merge, split, replacement or absorption share ``event`` (one ``org:ChangeEvent``).
    """

    predecessor = models.ForeignKey(
        OrganizationalUnit,
        verbose_name=_("predecessor"),
        on_delete=models.PROTECT,
        related_name="successor_links",
    )
    successor = models.ForeignKey(
        OrganizationalUnit,
        verbose_name=_("successor"),
        on_delete=models.PROTECT,
        related_name="predecessor_links",
    )
    closure_reason = models.CharField(
        _("closure reason"), max_length=16, choices=ClosureReason.choices
    )
    effective_on = models.DateField(_("effective on"))
    event = models.UUIDField(_("event"), db_index=True, editable=False)
    version = version_field()

    history = HistoricalRecords(bases=[RecordedRevision], cascade_delete_history=False)

    class Meta:
        verbose_name = _("lineage link")
        verbose_name_plural = _("lineage links")
        ordering = ["effective_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(predecessor=models.F("successor")),
                name="succession_links_two_units",
            ),
            models.UniqueConstraint(
                fields=["predecessor", "successor"], name="succession_once"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.predecessor} {self.get_closure_reason_display()} → {self.successor}"
        )


class RegistryState(models.Model):
    """One row counting committed writes, for cache keys and ETags of whole-tree reads.

    The services raise it in the same transaction as every change (they already hold
    the registry lock), so every application process sees the same value.
    """

    generation = models.BigIntegerField(_("generation"), default=0)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("registry state")
        verbose_name_plural = _("registry state")

    def __str__(self) -> str:
        return f"generation {self.generation}"


class ReorganizationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    # Approved with a future effective time: "scheduled" (see ``is_scheduled``).
    APPROVED = "approved", _("Approved")
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")


class Reorganization(models.Model):
    """A named, dated bundle of changes, approved by a second person, applied as one.

    Its operations are applied through the services, all or nothing, at
    ``effective_at``; every revision they write carries this reorganization, its reason
    and its effective time.
    """

    title = models.CharField(_("title"), max_length=255)
    reference = models.CharField(
        _("reference"),
        max_length=128,
        blank=True,
        default="",
        help_text=_('For example "DG bulletin 2026/14".'),
    )
    reason = models.TextField(_("reason"))
    # Who may read the reason, here and on every revision the reorganization writes.
    reason_visibility = models.CharField(
        _("reason visibility"),
        max_length=8,
        choices=ReasonVisibility.choices,
        default=ReasonVisibility.INTERNAL,
    )
    effective_at = models.DateTimeField(_("takes effect at"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ReorganizationStatus.choices,
        default=ReorganizationStatus.DRAFT,
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved or rejected by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    decided_at = models.DateTimeField(
        _("approved or rejected at"), null=True, blank=True
    )
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    rejection_reason = models.TextField(
        _("why it was rejected"), blank=True, default=""
    )
    # What stood in the way, each {"operation": index or None, "message": text}: the
    # last validation's findings for a draft, the reasons for a failed application.
    problems = models.JSONField(_("problems"), default=list, blank=True)
    # The applied reorganization this one undoes (``reorganization_revert``).
    reverts = models.ForeignKey(
        "self",
        verbose_name=_("reverts"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="reverted_by",
    )
    # For a revert: what of the original it cannot bring back (changed again since, a
    # post now held by someone else, ...), each {"message": text}, listed for approvers.
    not_restored = models.JSONField(_("not restored"), default=list, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reorganization")
        verbose_name_plural = _("reorganizations")
        permissions = [("approve_reorganization", _("Can approve a reorganization"))]
        ordering = ["-effective_at", "-pk"]
        # What the catch-up before every read asks: the approved ones that are due.
        indexes = [
            models.Index(fields=["status", "effective_at"], name="reorganization_due")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_scheduled(self) -> bool:
        """Approved, waiting for its effective time."""
        return (
            self.status == ReorganizationStatus.APPROVED
            and self.effective_at > timezone.now()
        )


class OperationKind(models.TextChoices):
    ESTABLISH_UNIT = "establish_unit", _("Establish a unit")
    CHANGE_UNIT = "change_unit", _("Change a unit's fields or mandate")
    MOVE_UNIT = "move_unit", _("Move a unit")
    ABOLISH_UNIT = "abolish_unit", _("Abolish a unit")
    REINSTATE_UNIT = "reinstate_unit", _("Reinstate a unit")
    APPOINT = "appoint", _("Appoint a person to a post")
    END_APPOINTMENT = "end_appointment", _("End an appointment")
    ADD_DOTTED_LINE = "add_dotted_line", _("Add a dotted line")
    END_DOTTED_LINE = "end_dotted_line", _("End a dotted line")
    # Posts (issue 13's list): through post_create, post_update, post_abolish.
    CREATE_POST = "create_post", _("Create a post")
    CHANGE_POST = "change_post", _("Change a post")
    ABOLISH_POST = "abolish_post", _("Abolish a post")
    REINSTATE_POST = "reinstate_post", _("Reinstate a post")
    # Lineage: units close and others take over their work (units.services.lineage).
    MERGE_UNITS = "merge_units", _("Merge units")
    SPLIT_UNIT = "split_unit", _("Split a unit")
    REPLACE_UNIT = "replace_unit", _("Replace a unit")
    ABSORB_UNIT = "absorb_unit", _("Absorb a unit into another")


class ReorganizationOperation(models.Model):
    """One step of a reorganization: a kind and what it acts on (``payload``).

    Units, posts and people are named by slug, so an operation can refer to a unit
    that an earlier operation of the same reorganization establishes.
    """

    reorganization = models.ForeignKey(
        Reorganization,
        verbose_name=_("reorganization"),
        on_delete=models.CASCADE,
        related_name="operations",
    )
    position = models.PositiveIntegerField(
        _("position"), default=0, validators=[MaxValueValidator(INTEGER_MAX)]
    )
    kind = models.CharField(_("kind"), max_length=32, choices=OperationKind.choices)
    payload = models.JSONField(_("what it changes"), default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("operation")
        verbose_name_plural = _("operations")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_kind_display()}"


# The models whose every change is a recorded revision: each has ``version`` (raised by
# each change, against lost updates) and ``history``. What the services' revision
# helpers accept.
RecordedModel = (
    OrganizationalUnit | Post | Person | Appointment | UnitRelationship | UnitSuccession
)


def column_field(model: type[models.Model], name: str) -> models.Field:
    """``model``'s field ``name`` that is a column of its table (not a reverse link)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise FieldDoesNotExist(f"{model.__name__}.{name} is not a column.")
    return field
