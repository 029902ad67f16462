"""The REST API under /api/v1/ (namespace "api")."""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from api import root, tokens, views
from api.formats import feeds

app_name = "api"

urlpatterns = [
    path("", root.ApiRootView.as_view(), name="root"),
    path("tree/", views.TreeView.as_view(), name="tree"),
    path("units/", views.UnitListView.as_view(), name="unit-list"),
    # Before unit-detail, which would take "abolish" for a slug (a slug no unit gets).
    path("units/abolish/", views.UnitsAbolishView.as_view(), name="units-abolish"),
    path("units/<slug:slug>/", views.UnitDetailView.as_view(), name="unit-detail"),
    path(
        "units/<slug:slug>/children/",
        views.UnitChildrenView.as_view(),
        name="unit-children",
    ),
    path(
        "units/<slug:slug>/ancestors/",
        views.UnitAncestorsView.as_view(),
        name="unit-ancestors",
    ),
    path("units/<slug:slug>/tree/", views.UnitTreeView.as_view(), name="unit-tree"),
    path(
        "units/<slug:slug>/history/",
        views.UnitHistoryView.as_view(),
        name="unit-history",
    ),
    path(
        "units/<slug:slug>/history/<int:history_id>/",
        views.UnitVersionView.as_view(),
        name="unit-version",
    ),
    path("units/<slug:slug>/move/", views.UnitMoveView.as_view(), name="unit-move"),
    path(
        "units/<slug:slug>/abolish/",
        views.UnitAbolishView.as_view(),
        name="unit-abolish",
    ),
    path(
        "units/<slug:slug>/reinstate/",
        views.UnitReinstateView.as_view(),
        name="unit-reinstate",
    ),
    path(
        "units/<slug:slug>/revert/",
        views.UnitRevertView.as_view(),
        name="unit-revert",
    ),
    path("posts/", views.PostListView.as_view(), name="post-list"),
    path("posts/<slug:slug>/", views.PostDetailView.as_view(), name="post-detail"),
    path(
        "posts/<slug:slug>/abolish/",
        views.PostAbolishView.as_view(),
        name="post-abolish",
    ),
    path(
        "posts/<slug:slug>/history/",
        views.PostHistoryView.as_view(),
        name="post-history",
    ),
    path(
        "posts/<slug:slug>/history/<int:history_id>/",
        views.PostVersionView.as_view(),
        name="post-version",
    ),
    path("people/", views.PersonListView.as_view(), name="person-list"),
    path("people/<slug:slug>/", views.PersonDetailView.as_view(), name="person-detail"),
    path(
        "people/<slug:slug>/history/",
        views.PersonHistoryView.as_view(),
        name="person-history",
    ),
    path(
        "people/<slug:slug>/history/<int:history_id>/",
        views.PersonVersionView.as_view(),
        name="person-version",
    ),
    path("appointments/", views.AppointmentListView.as_view(), name="appointment-list"),
    path(
        "appointments/<int:pk>/",
        views.AppointmentDetailView.as_view(),
        name="appointment-detail",
    ),
    path(
        "appointments/<int:pk>/end/",
        views.AppointmentEndView.as_view(),
        name="appointment-end",
    ),
    path(
        "appointments/<int:pk>/history/",
        views.AppointmentHistoryView.as_view(),
        name="appointment-history",
    ),
    path(
        "appointments/<int:pk>/history/<int:history_id>/",
        views.AppointmentVersionView.as_view(),
        name="appointment-version",
    ),
    path(
        "relationships/", views.RelationshipListView.as_view(), name="relationship-list"
    ),
    path(
        "relationships/<int:pk>/",
        views.RelationshipDetailView.as_view(),
        name="relationship-detail",
    ),
    path(
        "relationships/<int:pk>/end/",
        views.RelationshipEndView.as_view(),
        name="relationship-end",
    ),
    path(
        "relationships/<int:pk>/history/",
        views.RelationshipHistoryView.as_view(),
        name="relationship-history",
    ),
    path(
        "relationships/<int:pk>/history/<int:history_id>/",
        views.RelationshipVersionView.as_view(),
        name="relationship-version",
    ),
    path("lineage/<int:pk>/", views.LineageDetailView.as_view(), name="lineage-detail"),
    path(
        "lineage/<int:pk>/history/",
        views.LineageHistoryView.as_view(),
        name="lineage-history",
    ),
    path(
        "lineage/<int:pk>/history/<int:history_id>/",
        views.LineageVersionView.as_view(),
        name="lineage-version",
    ),
    path(
        "reorganizations/",
        views.ReorganizationListView.as_view(),
        name="reorganization-list",
    ),
    path(
        "reorganizations/import/",
        views.ReorganizationImportView.as_view(),
        name="reorganization-import",
    ),
    path(
        "reorganizations/<int:pk>/",
        views.ReorganizationDetailView.as_view(),
        name="reorganization-detail",
    ),
    path(
        "reorganizations/<int:pk>/revert/",
        views.ReorganizationRevertView.as_view(),
        name="reorganization-revert",
    ),
    path(
        "reorganizations/<int:pk>/preview/",
        views.ReorganizationPreviewView.as_view(),
        name="reorganization-preview",
    ),
    path(
        "reorganizations/<int:pk>/operations/",
        views.ReorganizationOperationsView.as_view(),
        name="reorganization-operations",
    ),
    *(
        path(
            f"reorganizations/<int:pk>/{step}/",
            view.as_view(),
            name=f"reorganization-{step}",
        )
        for step, view in (
            ("submit", views.ReorganizationSubmitView),
            ("approve", views.ReorganizationApproveView),
            ("reject", views.ReorganizationRejectView),
            ("cancel", views.ReorganizationCancelView),
        )
    ),
    path(
        "operations/<int:pk>/",
        views.OperationDetailView.as_view(),
        name="operation-detail",
    ),
    path("search/", views.SearchView.as_view(), name="search"),
    path("changes/", views.ChangesView.as_view(), name="changes"),
    # Read-only: any other method is a 405 with Allow (without csrf_exempt, the CSRF
    # check would refuse a PUT first with a 403, as if it were a write one may not do).
    path(
        "changes.atom",
        csrf_exempt(require_safe(feeds.changes_atom)),
        name="changes-atom",
    ),
    path(
        "changes.recorded.atom",
        csrf_exempt(require_safe(feeds.changes_recorded_atom)),
        name="changes-atom-recorded",
    ),
    path("export/units.csv", views.UnitsCsvView.as_view(), name="export-csv"),
    path("export/units.xlsx", views.UnitsWorkbookView.as_view(), name="export-xlsx"),
    path("export/org.jsonld", views.OrgJsonLdView.as_view(), name="export-jsonld"),
    path("export/popolo.json", views.PopoloView.as_view(), name="export-popolo"),
    path("export/snapshot.zip", views.SnapshotView.as_view(), name="export-snapshot"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.DocsView.as_view(url_name="api:schema"), name="docs"),
    path("tour/", root.tour, name="tour"),
    path("token/", tokens.TokenView.as_view(), name="token"),
    path("token/manage/", tokens.token_page, name="token-page"),
]
