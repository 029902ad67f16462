"""The REST API: thin views over units.selectors (reads) and units.services (writes).

One module per resource; ``base`` holds what they share. The views are re-exported
here for ``api.urls``.
"""

from api.views.appointments import (
    AppointmentDetailView,
    AppointmentEndView,
    AppointmentHistoryView,
    AppointmentListView,
    AppointmentVersionView,
)
from api.views.base import MAX_PAGE_SIZE, RegistryView
from api.views.changes import ChangesView
from api.views.docs import DocsView, SchemaView
from api.views.exports import (
    OrgJsonLdView,
    PopoloView,
    SnapshotView,
    UnitsCsvView,
    UnitsWorkbookView,
)
from api.views.lineage import (
    LineageDetailView,
    LineageHistoryView,
    LineageVersionView,
)
from api.views.people import (
    PersonDetailView,
    PersonHistoryView,
    PersonListView,
    PersonVersionView,
)
from api.views.posts import (
    PostAbolishView,
    PostDetailView,
    PostHistoryView,
    PostListView,
    PostVersionView,
)
from api.views.relationships import (
    RelationshipDetailView,
    RelationshipEndView,
    RelationshipHistoryView,
    RelationshipListView,
    RelationshipVersionView,
)
from api.views.reorganizations import (
    OperationDetailView,
    ReorganizationApproveView,
    ReorganizationCancelView,
    ReorganizationDetailView,
    ReorganizationImportView,
    ReorganizationListView,
    ReorganizationOperationsView,
    ReorganizationPreviewView,
    ReorganizationRejectView,
    ReorganizationRevertView,
    ReorganizationSubmitView,
)
from api.views.search import SearchView
from api.views.tree import TreeView, UnitTreeView
from api.views.units import (
    UnitAbolishView,
    UnitAncestorsView,
    UnitChildrenView,
    UnitDetailView,
    UnitHistoryView,
    UnitListView,
    UnitMoveView,
    UnitReinstateView,
    UnitRevertView,
    UnitsAbolishView,
    UnitVersionView,
)

__all__ = [
    "OrgJsonLdView",
    "PopoloView",
    "SnapshotView",
    "UnitsCsvView",
    "UnitsWorkbookView",
    "OperationDetailView",
    "ReorganizationApproveView",
    "ReorganizationCancelView",
    "ReorganizationDetailView",
    "ReorganizationImportView",
    "ReorganizationListView",
    "ReorganizationOperationsView",
    "ReorganizationPreviewView",
    "ReorganizationRejectView",
    "ReorganizationRevertView",
    "ReorganizationSubmitView",
    "RelationshipHistoryView",
    "RelationshipVersionView",
    "LineageDetailView",
    "LineageHistoryView",
    "LineageVersionView",
    "PostHistoryView",
    "PostVersionView",
    "PersonHistoryView",
    "PersonVersionView",
    "AppointmentHistoryView",
    "AppointmentVersionView",
    "MAX_PAGE_SIZE",
    "AppointmentDetailView",
    "AppointmentEndView",
    "AppointmentListView",
    "ChangesView",
    "DocsView",
    "PersonDetailView",
    "PersonListView",
    "PostAbolishView",
    "PostDetailView",
    "PostListView",
    "RegistryView",
    "RelationshipDetailView",
    "RelationshipEndView",
    "RelationshipListView",
    "SchemaView",
    "SearchView",
    "TreeView",
    "UnitAbolishView",
    "UnitAncestorsView",
    "UnitChildrenView",
    "UnitDetailView",
    "UnitHistoryView",
    "UnitVersionView",
    "UnitListView",
    "UnitMoveView",
    "UnitReinstateView",
    "UnitRevertView",
    "UnitTreeView",
    "UnitsAbolishView",
]
