"""Every read of the registry, current and as of any past instant.

One module per kind of read; this package re-exports their public names, so callers
write ``from units import selectors`` and ``selectors.unit_tree()``. As-of reads all go
through ``as_of`` (the latest revision of each object at an instant, in one query).

- ``instants``: reading ``as_of``/``since``/``until``; the registry's generation.
- ``fields``: the fields each read takes from a model.
- ``results``: the plain dataclasses reads return.
- ``as_of``: the as-of engine.
- ``trees``, ``flat_trees``, ``levels``: whole trees, trees as rows, parts of trees.
- ``posts``: posts with their holders.  ``units``: one unit; ids and slugs.
- ``revisions``: the history of any object.  ``change_feed``: changes between instants.
- ``timeline``: a unit's timeline, its own versions and the changes around it.
- ``listings``: the posts, people and relationships pages.  ``search``: unit search.
- ``consistency``: checks of the tree bookkeeping and of the history.
"""

from units.selectors.as_of import (
    records_as_of,
    state_rows_as_of,
    states_as_of,
    texts_as_of,
)
from units.selectors.change_feed import (
    FEED_SOURCES,
    RELATIONSHIP_CHANGE_FIELDS,
    ChangeKey,
    ChangePage,
    Revision,
    RevisionPairs,
    changes_between,
    changes_page,
    changes_page_before,
)
from units.selectors.consistency import (
    HISTORY_CHECKED_MODELS,
    history_problems,
    registry_problems,
    tree_problems,
)
from units.selectors.fields import (
    APPOINTMENT_FIELDS,
    APPOINTMENT_RECORD_FIELDS,
    PERSON_FIELDS,
    PERSON_RECORD_FIELDS,
    POST_HISTORY_FIELDS,
    POST_RECORD_FIELDS,
    POST_STATE_FIELDS,
    RECORD_FIELDS,
    RELATIONSHIP_RECORD_FIELDS,
    REVISION_COLUMNS,
    UNIT_HISTORY_FIELDS,
    UNIT_RECORD_FIELDS,
    UNIT_STATE_FIELDS,
)
from units.selectors.flat_trees import (
    HEAD_COLUMNS,
    STREAM_CHUNK_ROWS,
    FlatTree,
    StoredOrderRows,
    branch_rows_in_stored_order,
    subtree_flat,
    unit_rows_in_stored_order,
    unit_tree_as_of_flat,
    unit_tree_flat,
    units_in_order_as_of,
)
from units.selectors.instants import (
    LATEST,
    InvalidInstant,
    as_of_parameter,
    change_window,
    first_recorded_instant,
    parse_instant,
    parse_window_start,
    registry_generation,
    window_ends_a_day,
    window_starts_a_day,
)
from units.selectors.levels import (
    MAX_TREE_LEVELS,
    PartialTree,
    levels_that_fit,
    parents_down_to,
    unit_children,
    unit_tree_levels,
    unit_tree_top,
)
from units.selectors.listings import (
    PageOf,
    PeoplePage,
    PersonTenures,
    PostGroup,
    PostsPage,
    RelationshipLine,
    Tenure,
    UnitRef,
    people_page,
    posts_page,
    relationships_as_of,
    tenures,
)
from units.selectors.posts import (
    open_appointments,
    posts_as_of,
    unit_posts_as_of,
    with_open_appointments,
)
from units.selectors.results import (
    Change,
    FieldChange,
    Holder,
    PostState,
    UnitNode,
    UnitRevision,
)
from units.selectors.revisions import (
    ObjectVersion,
    ShownState,
    object_revisions,
    object_version,
    unit_history,
    unit_revisions_since,
)
from units.selectors.search import (
    SEARCH_CHUNK_ROWS,
    SearchHit,
    search_units,
)
from units.selectors.timeline import TimelineEntry, unit_timeline
from units.selectors.trees import (
    cyclic_gc_paused,
    subtree,
    unit_tree,
    unit_tree_as_of,
)
from units.selectors.units import (
    MAX_LINEAGE_DEPTH,
    UnitFamily,
    id_for_slug,
    slug_map,
    unit_as_of,
    unit_exists,
    unit_family,
    unit_lineage,
    unit_record,
)

__all__ = [
    "APPOINTMENT_FIELDS",
    "APPOINTMENT_RECORD_FIELDS",
    "Change",
    "ChangeKey",
    "ChangePage",
    "FEED_SOURCES",
    "FieldChange",
    "FlatTree",
    "HEAD_COLUMNS",
    "HISTORY_CHECKED_MODELS",
    "Holder",
    "InvalidInstant",
    "LATEST",
    "MAX_LINEAGE_DEPTH",
    "MAX_TREE_LEVELS",
    "ObjectVersion",
    "PERSON_FIELDS",
    "PERSON_RECORD_FIELDS",
    "POST_HISTORY_FIELDS",
    "POST_RECORD_FIELDS",
    "POST_STATE_FIELDS",
    "PageOf",
    "PartialTree",
    "PeoplePage",
    "PersonTenures",
    "PostGroup",
    "PostState",
    "PostsPage",
    "RECORD_FIELDS",
    "RELATIONSHIP_CHANGE_FIELDS",
    "RELATIONSHIP_RECORD_FIELDS",
    "REVISION_COLUMNS",
    "RelationshipLine",
    "Revision",
    "RevisionPairs",
    "SEARCH_CHUNK_ROWS",
    "STREAM_CHUNK_ROWS",
    "SearchHit",
    "ShownState",
    "StoredOrderRows",
    "Tenure",
    "TimelineEntry",
    "UNIT_HISTORY_FIELDS",
    "UNIT_RECORD_FIELDS",
    "UNIT_STATE_FIELDS",
    "UnitFamily",
    "UnitNode",
    "UnitRef",
    "UnitRevision",
    "as_of_parameter",
    "branch_rows_in_stored_order",
    "change_window",
    "changes_between",
    "changes_page",
    "changes_page_before",
    "cyclic_gc_paused",
    "first_recorded_instant",
    "history_problems",
    "id_for_slug",
    "levels_that_fit",
    "object_revisions",
    "object_version",
    "open_appointments",
    "parents_down_to",
    "parse_instant",
    "parse_window_start",
    "people_page",
    "posts_as_of",
    "posts_page",
    "records_as_of",
    "registry_generation",
    "registry_problems",
    "relationships_as_of",
    "search_units",
    "slug_map",
    "state_rows_as_of",
    "states_as_of",
    "subtree",
    "subtree_flat",
    "tenures",
    "texts_as_of",
    "tree_problems",
    "unit_as_of",
    "unit_children",
    "unit_exists",
    "unit_family",
    "unit_history",
    "unit_lineage",
    "unit_posts_as_of",
    "unit_record",
    "unit_revisions_since",
    "unit_rows_in_stored_order",
    "unit_timeline",
    "unit_tree",
    "unit_tree_as_of",
    "unit_tree_as_of_flat",
    "unit_tree_flat",
    "unit_tree_levels",
    "unit_tree_top",
    "units_in_order_as_of",
    "window_ends_a_day",
    "window_starts_a_day",
    "with_open_appointments",
]
