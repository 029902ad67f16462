from django.urls import path

from units import views

app_name = "units"
urlpatterns = [
    path("", views.structure, name="structure"),
    path("units/<slug:slug>/", views.unit_detail, name="unit-detail"),
    path(
        "units/<slug:slug>/children/",
        views.unit_children_part,
        name="unit-children",
    ),
    path("compare/", views.compare, name="compare"),
    path("chart/", views.chart, name="chart"),
    path(
        "chart/download.<str:file_format>",
        views.chart_download,
        name="chart-download",
    ),
    path("search/", views.search, name="search"),
    path("posts/", views.posts, name="posts"),
    path("people/", views.people, name="people"),
    path("upcoming/", views.upcoming, name="upcoming"),
]
