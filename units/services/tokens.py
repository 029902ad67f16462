"""A person's own API token: create (or replace) it, and revoke it.

Tokens are not part of the registry: they leave no history and do not raise the
registry's generation. One token per user (DRF's authtoken); a new one replaces the
old, so a token that may have leaked stops working the moment its owner makes another.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from rest_framework.authtoken.models import Token


@transaction.atomic
def api_token_create(*, user: User) -> Token:
    """A new token for ``user``, replacing (and so revoking) any token they had."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


@transaction.atomic
def api_token_revoke(*, user: User) -> bool:
    """Revoke ``user``'s token; False if they had none."""
    deleted, _by_model = Token.objects.filter(user=user).delete()
    return deleted > 0
