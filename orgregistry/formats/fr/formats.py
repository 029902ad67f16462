"""How French pages write dates: "1 janvier 2024", "1 janvier 2024 à 14:30 UTC".

Like ``formats/en``: one format for a day, one for a day and a time, the short ones
the same so that the admin writes dates alike. Numbers keep Django's French
separators (a narrow no-break space for thousands, a comma for decimals).
"""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = r"j F Y \à H:i T"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
