"""How Spanish pages write dates: "1 de enero de 2024", "1 de enero de 2024, 14:30 UTC".

Like ``formats/en``: one format for a day, one for a day and a time, the short ones
the same so that the admin writes dates alike. Numbers keep Django's Spanish
separators (a no-break space for thousands, a comma for decimals).
"""

DATE_FORMAT = r"j \d\e F \d\e Y"
DATETIME_FORMAT = r"j \d\e F \d\e Y, H:i T"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
