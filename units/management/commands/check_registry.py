"""Verify the registry: tree bookkeeping against parent links, and history completeness."""

import sys
from typing import Any

from django.core.management.base import BaseCommand

from units.selectors import history_problems, tree_problems


class Command(BaseCommand):
    help = (
        "Check that the tree fields (lft, rght, level, tree_id) agree with the parent "
        "links, that no reporting line is a cycle, and that every current object equals "
        "its latest history record. Exits with status 1 and a report when anything is off."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        sections = {
            "Tree": tree_problems(),
            "History": history_problems(),
        }
        problem_count = sum(len(problems) for problems in sections.values())
        for title, problems in sections.items():
            if problems:
                self.stdout.write(
                    self.style.ERROR(f"{title}: {len(problems)} problem(s)")
                )
                for problem in problems:
                    self.stdout.write(f"  - {problem}")
            else:
                self.stdout.write(self.style.SUCCESS(f"{title}: OK"))
        if problem_count:
            self.stdout.write(
                self.style.ERROR(f"The registry has {problem_count} problem(s).")
            )
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("The registry is consistent."))
