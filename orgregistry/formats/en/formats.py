"""How English pages write dates: one format for a day, one for a day and a time.

Django reads these through ``FORMAT_MODULE_PATH`` (format localization): templates use
``{{ value|date }}`` or the ``when`` filter, Python code ``units.dates``. Another
language gets its own ``formats/<code>/formats.py``. Machine formats (ISO 8601 in the
API, ``<time datetime>``, Atom) do not go through these.
"""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i T"
# The admin's lists and read-only fields write some values in the short formats: the
# same ones, so that a date reads alike everywhere.
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
