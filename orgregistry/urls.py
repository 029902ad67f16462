from django.contrib import admin
from django.urls import include, path

from orgregistry import views

urlpatterns = [
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("", include("units.urls")),
]
