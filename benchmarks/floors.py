"""Floors: the rows a read needs, fetched with one raw SQL query and ``json.dumps``.

No ORM, no framework, no nesting: what the database and the JSON encoder alone cost.
Each function returns the size of its JSON, so the report can compare sizes too.
The SQL is portable between SQLite and PostgreSQL (window functions, no DISTINCT ON).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.db import connection

UNIT_COLUMNS = """
    u.id, u.slug, u.name, u.short_name, u.kind, u.mandate, u.location,
    u.learn_more_url, u.parent_id, u.reporting_line, u.sibling_order,
    u.established_on, u.abolished_on
"""
HEAD_COLUMNS = "p.slug AS head_slug, p.title AS head_title, pe.slug AS holder_slug, pe.full_name AS holder_name, a.started_on AS holder_since"
CURRENT_HEADS = """
    LEFT JOIN units_post p
        ON p.unit_id = u.id AND p.is_head = %s AND p.abolished_on IS NULL
    LEFT JOIN units_appointment a ON a.post_id = p.id AND a.ended_on IS NULL
    LEFT JOIN units_person pe ON pe.id = a.person_id
"""


def _json(sql: str, parameters: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        columns = [column[0] for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return len(json.dumps(rows, default=str).encode())


def tree() -> int:
    """Every active unit in tree order, with its head post and holder."""
    return _json(
        f"SELECT {UNIT_COLUMNS}, u.level, {HEAD_COLUMNS} "  # noqa: S608 - constants
        f"FROM units_organizationalunit u {CURRENT_HEADS} "
        "WHERE u.abolished_on IS NULL ORDER BY u.tree_id, u.lft",
        [True],
    )


def subtree(unit_id: int) -> int:
    return _json(
        f"SELECT {UNIT_COLUMNS}, u.level, {HEAD_COLUMNS} "  # noqa: S608
        "FROM units_organizationalunit u "
        "JOIN units_organizationalunit b ON b.id = %s AND u.tree_id = b.tree_id "
        f"AND u.lft BETWEEN b.lft AND b.rght {CURRENT_HEADS} "
        "WHERE u.abolished_on IS NULL ORDER BY u.lft",
        [unit_id, True],
    )


def _latest(table: str) -> str:
    """Each object's latest revision at or before the first parameter."""
    return (
        "SELECT * FROM (SELECT h.*, ROW_NUMBER() OVER (PARTITION BY h.id "  # noqa: S608
        "ORDER BY h.history_date DESC, h.history_id DESC) AS position "
        f"FROM {table} h WHERE h.history_date <= %s) latest "
        "WHERE position = 1 AND history_type <> '-'"
    )


def tree_as_of(when: datetime.datetime) -> int:
    """Unit states as of ``when`` with the head post and holder of that day."""
    day = when.date()
    return _json(
        f"WITH u AS ({_latest('units_historicalorganizationalunit')}), "  # noqa: S608
        f"p AS ({_latest('units_historicalpost')}), "
        f"a AS ({_latest('units_historicalappointment')}) "
        f"SELECT {UNIT_COLUMNS}, {HEAD_COLUMNS} FROM u "
        "LEFT JOIN p ON p.unit_id = u.id AND p.is_head = %s AND p.abolished_on IS NULL "
        "LEFT JOIN a ON a.post_id = p.id AND a.started_on <= %s "
        "AND (a.ended_on IS NULL OR a.ended_on > %s) "
        "LEFT JOIN units_person pe ON pe.id = a.person_id "
        "WHERE u.abolished_on IS NULL ORDER BY u.id",
        [when, when, when, True, day, day],
    )


def changes(
    since: datetime.datetime, until: datetime.datetime, limit: int | None = None
) -> int:
    """Every unit and appointment revision effective in (since, until], or the first
    ``limit`` of them (one page of the feed)."""
    page = "" if limit is None else f" LIMIT {int(limit)}"
    return _json(
        "SELECT 'unit' AS kind, h.history_id, h.history_date, h.recorded_at, "
        "h.history_change_reason, h.history_type, h.id, h.name, h.parent_id, "
        "h.mandate, h.abolished_on, NULL AS post_id, NULL AS person_id "
        "FROM units_historicalorganizationalunit h "
        "WHERE h.history_date > %s AND h.history_date <= %s "
        "UNION ALL "
        "SELECT 'appointment', h.history_id, h.history_date, h.recorded_at, "
        "h.history_change_reason, h.history_type, h.id, NULL, NULL, NULL, "
        "h.ended_on, h.post_id, h.person_id "
        "FROM units_historicalappointment h "
        "WHERE h.history_date > %s AND h.history_date <= %s "
        f"ORDER BY 3, 2{page}",
        [since, until, since, until],
    )


def unit_history(unit_id: int) -> int:
    return _json(
        "SELECT h.*, us.username FROM units_historicalorganizationalunit h "
        "LEFT JOIN auth_user us ON us.id = h.history_user_id "
        "WHERE h.id = %s ORDER BY h.history_date, h.history_id",
        [unit_id],
    )


def changelist_page() -> int:
    """The admin's first page: 100 units in tree order."""
    return _json(
        f"SELECT {UNIT_COLUMNS}, u.version, u.level "  # noqa: S608
        "FROM units_organizationalunit u ORDER BY u.tree_id, u.lft LIMIT 100",
        [],
    )


def nodes_as_json(roots: list[Any]) -> int:
    """The selector's tree as nested plain dicts through ``json.dumps``: what an API
    answer costs without a serializer framework (compare with the API's time)."""

    def plain(node: Any) -> dict[str, Any]:
        head = node.head
        return {
            "slug": node.slug,
            "name": node.name,
            "short_name": node.short_name,
            "kind": node.kind,
            "mandate": node.mandate,
            "location": node.location,
            "reporting_line": node.reporting_line,
            "established_on": node.established_on,
            "abolished_on": node.abolished_on,
            "level": node.level,
            "head": None
            if head is None
            else {
                "slug": head.slug,
                "title": head.title,
                "holder": None
                if head.holder is None
                else {
                    "slug": head.holder.person_slug,
                    "name": head.holder.person_name,
                    "since": head.holder.started_on,
                },
            },
            "children": [plain(child) for child in node.children],
        }

    return len(json.dumps([plain(root) for root in roots], default=str).encode())
