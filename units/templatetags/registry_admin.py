"""Tags of the registry's admin pages (dates are ``registry_dates``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from units import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def revision_reason(context: template.Context, revision: Any) -> SafeString:
    """A revision's reason, marked "internal" when only staff may read it.

    The same rule as the public pages (``selectors.audience``): an admin user without
    the permissions that rule names reads "reason not public", never the reason.
    """
    request = context.get("request")
    staff = selectors.may_see_staff_identities(getattr(request, "user", None))
    reason = selectors.shown_reason(revision, staff=staff)
    if reason is None:
        return format_html(
            '<span class="reason-withheld">{}</span>', _("reason not public")
        )
    if selectors.is_internal(revision):
        return format_html(
            '{} <span class="reason-internal-mark">{}</span>', reason, _("internal")
        )
    return format_html("{}", reason)
