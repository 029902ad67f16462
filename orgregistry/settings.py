"""Settings for orgregistry, configured from the environment.

Development defaults are safe: an SQLite file in the project folder and DEBUG off unless
asked for. Production switches its hardening on from the environment (see README).
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from api import schema_texts
from orgregistry import cache as cache_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_rate(name: str, default: str | None) -> str | None:
    """A throttle rate such as ``300/minute`` (DRF's form); ``off`` lifts the limit."""
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    if value.lower() == "off":
        return None
    number, _, period = value.partition("/")
    if (
        not number.isdigit()
        or int(number) < 1
        or period[:1] not in {"s", "m", "h", "d"}
    ):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate: write requests per period, such as "
            "300/minute (periods: second, minute, hour, day), or off."
        )
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


DEBUG = env_bool("DEBUG", default=False)
# TESTING=true (set by `make test` and CI): fast password hashing, plain static files.
# Read from the environment only, so what runs is never decided by what was imported.
TESTING = env_bool("TESTING")

_DEVELOPMENT_SECRET_KEY = (
    "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105
)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # A production deployment (SECURE) must never run on the published development key.
    if not DEBUG and (env_bool("REQUIRE_SECRET_KEY") or env_bool("SECURE")):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when SECURE or REQUIRE_SECRET_KEY is on."
        )
    SECRET_KEY = _DEVELOPMENT_SECRET_KEY
if env_bool("SECURE") and (
    SECRET_KEY == _DEVELOPMENT_SECRET_KEY or SECRET_KEY.startswith("django-insecure-")
):
    # DEBUG=true must not smuggle the published key into a deployment that serves real
    # sessions: anyone could forge them. "django-insecure-" marks keys Django generated
    # for a development project, which are just as likely to be in a repository.
    raise ImproperlyConfigured(
        "SECRET_KEY is a published development key, which is refused when SECURE is "
        "on (even with DEBUG=true). Set SECRET_KEY to 50+ random characters."
    )

# What the registry is called on its pages, in their titles and in the admin's header.
REGISTRY_NAME = os.environ.get("REGISTRY_NAME", "").strip() or "Organization registry"

# Who may read a change's reason when the write does not say: "internal" (editors and
# auditors only) unless set to "public". Internal is the safe side: a reason written
# for colleagues ("restructuring after the audit of X") is never published by default.
REASON_VISIBILITY_DEFAULT = (
    os.environ.get("REASON_VISIBILITY_DEFAULT", "").strip().lower() or "internal"
)
if REASON_VISIBILITY_DEFAULT not in {"public", "internal"}:
    raise ImproperlyConfigured(
        f"REASON_VISIBILITY_DEFAULT is {REASON_VISIBILITY_DEFAULT!r}; it must be "
        "public or internal."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # django.contrib.admin, its default site checking query parameters.
    "orgregistry.admin_site.RegistryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.syndication",
    "mptt",
    "simple_history",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "axes",
    # Reorganizations take effect at their time with nobody acting: a task enqueued at
    # approval, run by `manage.py db_worker` (django-tasks' database backend).
    "django_tasks",
    "django_tasks_db",
    "units",
    "api",
    # Creates the DatabaseCache table after every migrate (CACHE_URL=db://…).
    "orgregistry",
]

MIDDLEWARE = [
    # First, as django-cors-headers asks: it answers read preflights itself, and adds
    # its headers to every answer below it, errors and throttled reads included.
    "orgregistry.cors.ReadOnlyCorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Early, so that every answer (pages, the admin, the API, errors) carries the policy.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Its process_view runs first: no view sees a parameter holding NUL or non-UTF-8.
    "orgregistry.query_string.QueryStringMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session (it may read the language from it), before CommonMiddleware
    # (whose slash redirect must see the /fr/ and /es/ prefixes resolved), as Django
    # asks. Then the registry's own rules: the API's ?lang= and a first visit's
    # Accept-Language on the unprefixed (English) pages.
    "django.middleware.locale.LocaleMiddleware",
    "orgregistry.languages.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Where this request's reads go (a replica or the primary), then, for anonymous
    # reads, their statement timeout on that database.
    "orgregistry.database_routing.ReadRoutingMiddleware",
    # Applies approved reorganizations whose time has come before any view reads, so
    # no read at or after their effective time shows the old structure, worker or not.
    # After the routing (its write sends this request's reads to the primary), before
    # the anonymous timeout (an application is not an anonymous read).
    "orgregistry.reorganizations.ReorganizationCatchUpMiddleware",
    "orgregistry.statement_timeout.AnonymousReadTimeoutMiddleware",
    # Every read as the registry had been recorded by ``?known_at=`` (corrections
    # recorded since left out); before the planned reads, which it makes moot.
    "orgregistry.known_at.KnownAtMiddleware",
    # A read of a future instant (or a preview) runs with the scheduled
    # reorganizations applied and rolled back after: inside the anonymous timeout,
    # on the primary (the routing above sends it there), after the catch-up.
    "orgregistry.planned_reads.PlannedReadMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Throttles the public pages per address or account (needs request.user).
    "orgregistry.throttling.PageThrottleMiddleware",
    # Last, so that it sees the outcome of authentication (admin login lockout).
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Must come first: it refuses logins for locked-out users before any other backend.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Reorganizations: approved by someone other than their author, unless a one-person
# registry allows its author to approve their own.
REORGANIZATION_SELF_APPROVAL = env_bool("REORGANIZATION_SELF_APPROVAL", default=False)
# The largest spreadsheet of units an import reads (bytes). The admin's difference page
# carries the file in its form, so it stays under DATA_UPLOAD_MAX_MEMORY_SIZE encoded.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", 1_000_000))
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

ROOT_URLCONF = "orgregistry.urls"
WSGI_APPLICATION = "orgregistry.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                # LANGUAGE_CODE, for <html lang> and the language switcher.
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # CSP_NONCE, for the few inline scripts and styles of third-party pages.
                "csp.context_processors.nonce",
                "units.context_processors.planned",
            ],
        },
    },
]

DATABASES = {
    # An empty DATABASE_URL means "not set": the embedded SQLite default.
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
# Only here may `make run` create the well-known development account admin/admin: the
# embedded SQLite file, or a test run's throwaway database. Never a DATABASE_URL's.
DISPOSABLE_DATABASE = not os.environ.get("DATABASE_URL") or TESTING
# Behind PgBouncer in transaction pooling mode, server-side cursors do not survive.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool(
    "DISABLE_SERVER_SIDE_CURSORS", default=False
)
if (
    DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    and not DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"]
):
    # Every server-side cursor here (the streamed tree, exports) is read to its end, so
    # plan it for all its rows, not PostgreSQL's default first 10%: at 100,000 units
    # the fast-start nested loops took 1.15-1.4x as long. Left out behind PgBouncer,
    # which refuses startup options and where server-side cursors are off anyway.
    database_options = DATABASES["default"].setdefault("OPTIONS", {})
    database_options["options"] = " ".join(
        filter(None, [database_options.get("options"), "-c cursor_tuple_fraction=1"])
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so concurrent writers queue
    # instead of failing when a read lock is upgraded; the timeout says how long to wait.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

# Read replicas (orgregistry/database_routing.py, docs/deployment.md): streaming replicas
# of the primary, comma-separated URLs. Reads of requests that write nothing go to one of
# them; writes, and a client's reads for READ_AFTER_WRITE_SECONDS after it wrote, to the
# primary. Each replica takes the primary's connection settings.
DATABASE_READ_REPLICAS: list[str] = []
for _number, _replica_url in enumerate(env_list("DATABASE_REPLICA_URLS"), start=1):
    _replica = dj_database_url.parse(
        _replica_url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"]
    )
    if _replica["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URLS: replica {_number} is not a database of the same "
            "kind as DATABASE_URL; replicas are PostgreSQL streaming replicas of it."
        )
    _replica["DISABLE_SERVER_SIDE_CURSORS"] = DATABASES["default"][
        "DISABLE_SERVER_SIDE_CURSORS"
    ]
    _replica["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        **_replica.get("OPTIONS", {}),
    }
    # Under the test runner a replica is the test database itself, read through a
    # second connection (Django's test mirror).
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{_number}"] = _replica
    DATABASE_READ_REPLICAS.append(f"replica_{_number}")
if TESTING:
    # A second alias on the test database, for the router's tests: they name it in
    # DATABASE_READ_REPLICAS. Unused (and never connected) otherwise.
    DATABASES["test_replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["orgregistry.database_routing.ReplicaRouter"]
try:
    READ_AFTER_WRITE_SECONDS = int(os.environ.get("READ_AFTER_WRITE_SECONDS") or "10")
except ValueError as error:
    raise ImproperlyConfigured(
        "READ_AFTER_WRITE_SECONDS must be a whole number of seconds."
    ) from error

# A statement of an anonymous read running longer than this on PostgreSQL is stopped
# and answered 503 (orgregistry/statement_timeout.py), so no anonymous request holds a
# worker and a database connection for long; 0 turns it off. Test runs leave it off
# unless the environment sets it: it adds queries the query-count tests would see.
try:
    ANONYMOUS_STATEMENT_TIMEOUT_MS = int(
        os.environ.get("ANONYMOUS_STATEMENT_TIMEOUT_MS")
        or ("0" if TESTING else "30000")
    )
except ValueError as error:
    raise ImproperlyConfigured(
        "ANONYMOUS_STATEMENT_TIMEOUT_MS must be a whole number of milliseconds "
        "(0: no limit)."
    ) from error

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

if TESTING:
    # Nearly every test makes an editor; PBKDF2's deliberate 0.6 s per hash on these
    # machines cost the suite minutes. Production keeps Django's default hashers.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en"
# The interface's languages (docs/glossary.md fixes their terms). English pages keep
# their unprefixed addresses; French and Spanish ones live under /fr/ and /es/.
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
# The registry's own translations (locale/<code>/LC_MESSAGES/django.po), compiled by
# `make run`, `make test` and CI; Django's and the apps' own come with them.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# One date format and one date-time format per language (orgregistry/formats/<code>/).
FORMAT_MODULE_PATH = ["orgregistry.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
# Under the test runner there is no collectstatic run, so no manifest of hashed names.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
LOGIN_URL = "admin:login"

# django-simple-history: one composite index on (history_date, object id) serves both
# "latest version per object before t" and "changes between t1 and t2".
SIMPLE_HISTORY_DATE_INDEX = "Composite"
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
# Revisions are append-only: the admin never offers simple-history's own revert, which
# would save a historical instance and bypass the tree services.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Content-Security-Policy (django-csp): only this site's own files run or style a page.
# A name or reason an editor typed can then never become a script, even where some
# template forgot to escape it. Inline scripts and styles need the request's nonce
# (templates/ add it where a third-party page has one); chart SVGs use presentation
# attributes, which CSP does not restrict, and images include the admin's data: icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Links to other sites do not carry registry addresses (with their dates and searches).
SECURE_REFERRER_POLICY = "same-origin"

# Cross-origin reads (django-cors-headers, orgregistry/cors.py): another site's
# script may read the API, its change feed and the exports (the chart's downloads
# too), anonymously; writes stay same-origin. CORS_ALLOWED_ORIGINS is "*" (any site,
# the default: the data is public), a comma-separated list of origins, or empty for
# none.
_CORS_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "*")
if "*" in _CORS_ORIGINS and _CORS_ORIGINS != ["*"]:
    raise ImproperlyConfigured(
        "CORS_ALLOWED_ORIGINS is either * (any origin) or a list of origins such as "
        "https://app.example.org,https://other.example.org, not both."
    )
CORS_ALLOW_ALL_ORIGINS = _CORS_ORIGINS == ["*"]
CORS_ALLOWED_ORIGINS = [] if CORS_ALLOW_ALL_ORIGINS else _CORS_ORIGINS
CORS_URLS_REGEX = r"^/(api/v1/|chart/download\.)"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
# Only what a read sends: Authorization and X-CSRFToken are left out, so a preflight
# for a token or session request from another site is refused.
CORS_ALLOW_HEADERS = ["accept", "accept-language", "if-none-match"]
# Without this a script elsewhere could not read the ETag to send If-None-Match, nor
# how long a throttled client must wait, nor which known_at an answer was read as of.
CORS_EXPOSE_HEADERS = ["ETag", "Retry-After", "Registry-Known-At"]
# Never: a cross-origin read is anonymous, whatever cookies the browser holds.
CORS_ALLOW_CREDENTIALS = False

# Reverse proxies in front of the application (0: clients connect directly). Only then
# is X-Forwarded-For trusted, for throttling and login lockout alike.
PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.DjangoModelPermissionsOrAnonReadOnly",
    ],
    # DRF's defaults, with a JSON parser that answers too-deep nesting with a 400.
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.RegistryAutoSchema",
    # DRF's anonymous and user throttles, counting in the "throttle" cache (below).
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.AnonymousRateThrottle",
        "api.throttling.SignedInRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_ANON_RATE", "600/minute"),
        "user": os.environ.get("API_USER_RATE", "6000/minute"),
    },
    # Throttle by the connecting address; trust X-Forwarded-For only from as many proxies
    # as the deployment declares, or a client could name a new address per request.
    "NUM_PROXIES": PROXY_COUNT,
}

# The public pages and, far lower, the chart's PNG and PDF renders (the most expensive
# answers) are throttled like the API: per client address, and per account (higher) for
# signed-in users, counted in the same shared "throttle" cache (orgregistry/throttling.py).
# Test runs lift these limits unless the environment sets them: the suite and the browser
# tests ask for hundreds of pages a minute from one address.
PAGE_THROTTLE_RATES = {
    "pages_anon": env_rate("PAGE_ANON_RATE", None if TESTING else "300/minute"),
    "pages_user": env_rate("PAGE_USER_RATE", None if TESTING else "3000/minute"),
    "renders_anon": env_rate("RENDER_ANON_RATE", None if TESTING else "10/minute"),
    "renders_user": env_rate("RENDER_USER_RATE", None if TESTING else "100/minute"),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "orgregistry API",
    # The tour's explanations (as_of, cursors, ETag/If-Match, errors) and the tags in
    # a newcomer's order; every operation under its path's tag (api.schema).
    "DESCRIPTION": schema_texts.DESCRIPTION,
    "TAGS": schema_texts.TAGS,
    "SORT_OPERATIONS": "api.schema.sort_operations",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "UnitKindEnum": "units.models.UnitKind",
        "RelationshipKindEnum": "units.models.RelationshipKind",
        "OperationKindEnum": "units.models.OperationKind",
        "ReorganizationStatusEnum": "units.models.ReorganizationStatus",
        "ClosureReasonEnum": "units.models.ClosureReason",
    },
}

# Admin login lockout (django-axes): lock a username+address after repeated failures.
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "1"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The lockout's notion of a client address follows PROXY_COUNT, like the throttling.
AXES_CLIENT_IP_CALLABLE = "orgregistry.client_ip.client_ip"

DATA_UPLOAD_MAX_MEMORY_SIZE = int(
    os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
)

# The read cache (docs/deployment.md). Per-process memory by default; under several
# workers a shared one (redis://host:6379/0, db://table) lets one worker build a large
# answer for all. Keys carry a prefix naming the database, so registries sharing one
# Redis never see each other's answers, and a version to raise when a release changes
# what the API answers.
try:
    CACHE_VERSION = int(os.environ.get("CACHE_VERSION") or "1")
except ValueError as error:
    raise ImproperlyConfigured("CACHE_VERSION must be a whole number.") from error
_CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX") or cache_url.default_key_prefix(
    DATABASES["default"]
)
CACHES = {
    "default": cache_url.parse(
        os.environ.get("CACHE_URL") or "locmem://",
        key_prefix=_CACHE_KEY_PREFIX,
        version=CACHE_VERSION,
    ),
}
# An answer larger than this is sent but not stored (api/answer_cache.py); Redis
# refuses values over 512 MB. The whole tree is about 630 bytes a unit.
CACHE_MAX_ENTRY_BYTES = int(os.environ.get("CACHE_MAX_ENTRY_BYTES") or 128 * 2**20)
# How long a request that misses waits for another worker building the same answer
# (when there is no previous answer to send meanwhile) before building it itself.
CACHE_BUILD_WAIT_SECONDS = float(os.environ.get("CACHE_BUILD_WAIT_SECONDS") or 30)
# When the next approved reorganization falls due (units/selectors/reorganizations.py),
# asked before every request: beside the answers, not among them, so that dropping the
# cached answers does not drop it. Shared like them when CACHE_URL is set.
CACHES["schedule"] = cache_url.parse(
    os.environ.get("CACHE_URL") or "locmem://schedule",
    key_prefix=f"{_CACHE_KEY_PREFIX}:schedule",
    version=CACHE_VERSION,
)
# The API throttle's counters (api/throttling.py) must be shared by every worker process,
# or each worker grants the whole limit again: in the default cache when that is Redis
# (or in a one-process development server or test run), else in a table of their own.
_THROTTLE_CACHE_URL = os.environ.get(
    "THROTTLE_CACHE_URL"
) or cache_url.throttle_cache_url(
    os.environ.get("CACHE_URL") or "", single_process=DEBUG or TESTING
)
if _THROTTLE_CACHE_URL:
    CACHES["throttle"] = cache_url.parse(
        _THROTTLE_CACHE_URL, key_prefix=_CACHE_KEY_PREFIX
    )
    if CACHES["throttle"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
        # One row per client address and signed-in user in the last minute; Django's
        # 300 would cull (reset) counters as soon as a few hundred clients are about.
        CACHES["throttle"]["OPTIONS"] = {"MAX_ENTRIES": 100_000}

if env_bool("SECURE", default=False):
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
