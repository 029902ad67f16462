"""The registry in other formats than the API's JSON objects.

``tree_json`` (the nested tree, encoded straight from rows), ``exports`` (CSV, W3C ORG
JSON-LD, Popolo) and ``feeds`` (the change feed as Atom). Import the modules by name;
nothing is re-exported here, so that ``api.views`` and ``api.formats`` can use each
other without an import cycle.
"""
