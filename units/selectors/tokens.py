"""Whether a person has an API token, without ever reading its key back."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token


def api_token_created(user: User) -> datetime.datetime | None:
    """When ``user``'s token was created; None if they have none."""
    return Token.objects.filter(user=user).values_list("created", flat=True).first()
