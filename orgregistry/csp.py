"""The one exception to the Content-Security-Policy: the admin unit tree's indentation.

The admin's unit list indents each title with ``style="padding-left:Npx"``
(``OrganizationalUnitAdmin.indented_title``). A style attribute cannot carry a nonce,
and ``'unsafe-inline'`` would allow any style an injected attribute brings; so the
unit list's answers allow exactly these values, by hash (CSP's ``'unsafe-hashes'``
applies hashes to attributes). Once the title is indented by a class instead, this
module and its middleware go away.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# units/admin.py: OrganizationalUnitAdmin.mptt_level_indent, and deeper than any tree.
LEVEL_INDENT = 22
DEEPEST_LEVEL = 64
TREE_LIST_PATH = "/admin/units/organizationalunit/"
# Where django-csp's middleware looks for a response's additions to the policy.
CSP_UPDATE = "_csp_update"


def _style_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


TREE_INDENT_STYLES = [
    _style_hash(f"padding-left:{level * LEVEL_INDENT}px")
    for level in range(DEEPEST_LEVEL + 1)
]


class AdminTreeIndentPolicy:
    """Add the indentation hashes to the policy of the admin's unit list only.

    Placed after django-csp's middleware, so its response passes here first.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path == TREE_LIST_PATH:
            setattr(
                response,
                CSP_UPDATE,
                {"style-src-attr": ["'unsafe-hashes'", *TREE_INDENT_STYLES]},
            )
        return response
