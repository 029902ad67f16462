"""What one revision records, as entries of the change feed: one module per kind of
object (``units``, ``posts``, ``people``, ``appointments``, ``relationships``), the
names they show (``names``) and what every entry is made of (``entries``).

Each ``<object>_changes(row, previous, names)`` turns a revision (and the revision of
the same object before it, None for the first) into the feed's changes; together,
a revision's changes account for every field it changed.
"""
