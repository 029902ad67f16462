"""The registry in other formats than the API's JSON objects.

``state`` (the registry at an instant, which every export is a function of),
``tree_json`` (the nested tree, encoded straight from rows), ``exports`` (CSV, W3C ORG
JSON-LD, Popolo), ``snapshots`` and ``snapshot_checks`` (all of them as one verifiable
Frictionless Data Package, and its checks) and ``feeds`` (the change feed as Atom).
Import the modules by name; nothing is re-exported here, so that ``api.views`` and
``api.formats`` can use each other without an import cycle.
"""
