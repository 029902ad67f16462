"""What one revision records, as entries of the change feed: one module per kind of
object (``units``, ``posts``, ``people``, ``appointments``, ``relationships``, ``lineage``), the
names they show (``names``) and what every entry is made of (``entries``: the kinds of
object, the fields the feed reads of each, an entry's subject and revision columns).

Each ``<object>_changes(row, previous, names)`` turns a revision (and the revision of
the same object before it, None for the first) into the feed's changes; together,
a revision's changes account for every field it changed.
"""
