"""The registry admin: editors change the structure, auditors read it and its history.

Thin: reads come from ``units.selectors``, every write is a ``units.services`` call,
and nothing is ever deleted. Django's autodiscovery imports this package; importing
the modules below registers their ModelAdmins.

- ``units``, ``posts``, ``people``: one ModelAdmin each; ``unit_inlines``: the rows
  of a unit's page (posts with holders, dotted lines) and how they are saved.
- ``base``: writes through services, refusals shown on the form, no deletion.
- ``history_views``: history, version and revert pages; ``diffs``: the word diff.
- ``tree_views``: abolishing units and the draggable tree's moves.
- ``lineage``: the lineage links, read only (reorganizations write them).
- ``reorganizations``: a draft and its operations; submit, approve, reject, cancel.
- ``users``: the User admin that deactivates authors of history instead of deleting.
- ``forms``, ``filters``; ``parameters``: reading query parameters before a query
  (the admin site, ``orgregistry.admin_site``, checks every request's).
"""

# Each import registers a ModelAdmin with admin.site. Further registrations (such as
# a customized User admin) belong in their own module here, imported in this block.
from units.admin.base import (
    RevertibleHistoryAdmin,
    ServiceRefused,
    ServiceWriteAdmin,
)
from units.admin.lineage import UnitSuccessionAdmin
from units.admin.people import PersonAdmin
from units.admin.posts import PostAdmin
from units.admin.reorganizations import ReorganizationAdmin
from units.admin.units import OrganizationalUnitAdmin
from units.admin.users import RegistryUserAdmin

__all__ = [
    "OrganizationalUnitAdmin",
    "PersonAdmin",
    "PostAdmin",
    "ReorganizationAdmin",
    "RegistryUserAdmin",
    "RevertibleHistoryAdmin",
    "ServiceRefused",
    "ServiceWriteAdmin",
    "UnitSuccessionAdmin",
]
