from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from orgregistry import views

urlpatterns = [
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
]
# The pages, in every language: English at today's addresses, /fr/… and /es/….
urlpatterns += i18n_patterns(
    # The language switcher's form posts here: it keeps the choice in a cookie and
    # sends the reader to the same page in that language. Under the page's prefix, so
    # that the page's address (its "next") resolves in the page's own language.
    path("i18n/setlang/", set_language, name="set_language"),
    # The texts pages.js writes (locale/<code>/LC_MESSAGES/djangojs.po), in the
    # page's language: under the same prefix as the page that loads it.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("units.urls")),
    prefix_default_language=False,
)
