from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from orgregistry import views

urlpatterns = [
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    # The language switcher's form posts here: it keeps the choice in a cookie and
    # sends the reader to the same page in that language.
    path("i18n/setlang/", set_language, name="set_language"),
]
# The pages, in every language: English at today's addresses, /fr/… and /es/….
urlpatterns += i18n_patterns(
    path("", include("units.urls")), prefix_default_language=False
)
