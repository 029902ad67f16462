"""gunicorn settings for orgregistry (see docs/deployment.md).

Every value can be overridden from the environment, so one file serves every host.
The registry lock and the generation counter live in PostgreSQL, so cached answers
stay correct whether each worker keeps its own (the default ``locmem://``) or all of
them share one through ``CACHE_URL`` (Redis or a database table; one copy of each
answer instead of one per worker).
"""

import multiprocessing
import os

wsgi_app = "orgregistry.wsgi:application"
# Loopback unless told otherwise: the reverse proxy in front is the only client. Reached
# directly, any client could send its own X-Forwarded-For, which PROXY_COUNT=1 trusts
# (throttling, login lockout). Bind elsewhere with GUNICORN_BIND only behind a firewall
# that lets nothing but the proxy in (docs/deployment.md).
bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"

# Sync workers: each request runs on its own process; the usual 2 x cores + 1.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A whole-tree read of a 100,000-unit registry takes seconds when not cached.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5

# Recycle workers now and then so that memory held after a large answer is returned.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = 100

# Load Django once before forking: faster start, shared code pages. Database
# connections are opened lazily per worker, never inherited.
preload_app = True

# Only the reverse proxy in front may set X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# An empty GUNICORN_ACCESS_LOG turns the access log off (the proxy may keep one).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
