"""The texts of the OpenAPI schema: its tags, in the order a newcomer needs them, and
the tour's explanations. Plain data, imported by the settings (``SPECTACULAR_SETTINGS``).
"""

from __future__ import annotations

# The tags in the order a newcomer reads them: the structure first (the tree, then
# units one by one), what changed, whole exports and search; then the other records;
# then reorganizations, tokens for writing and the root. Swagger UI and ReDoc list them in this order.
TAGS: list[dict[str, str]] = [
    {
        "name": "tree",
        "description": "The whole organization as one nested tree, now or `as_of` any "
        "past instant: start here.",
    },
    {
        "name": "units",
        "description": "Units one at a time or as a filtered list: their details, "
        "sub-units, ancestors, subtree and history; and the writes that establish, "
        "change, move, abolish and revert them.",
    },
    {
        "name": "changes",
        "description": "The change feed: every recorded change of units, posts, people, "
        "appointments and dotted lines between two instants, a page at a time by "
        "cursor, a reorganization's changes gathered under it, filtered by `type` "
        "and `unit` (also as Atom at `changes.atom`).",
    },
    {
        "name": "exports",
        "description": "The whole structure in one file: CSV, the W3C Organization "
        "Ontology (JSON-LD) or Popolo, now or `as_of` a past instant.",
    },
    {
        "name": "search",
        "description": "Units, posts and people by the words of their names, as they "
        "stood at `as_of`.",
    },
    {
        "name": "posts",
        "description": "The posts of each unit (one of them its head), their "
        "history, and the writes that create, change and abolish them.",
    },
    {
        "name": "people",
        "description": "The people who hold or held posts, and their history.",
    },
    {
        "name": "appointments",
        "description": "Who held which post, from when to when; appointing and "
        "ending appointments.",
    },
    {
        "name": "relationships",
        "description": "Dotted lines between units (supports, advises, works in "
        "conjunction with...), drawn and ended over time.",
    },
    {
        "name": "lineage",
        "description": "Which units took over the work of a unit that closed (merged, "
        "split, replaced, absorbed, changed name): links written by a "
        "reorganization's operations, each with its history. A unit's own "
        "`predecessors` and `successors` give them from its side.",
    },
    {
        "name": "reorganizations",
        "description": "Named, dated bundles of changes (establish, change, move, "
        "abolish, reinstate, merge, split, replace and absorb units; appointments; "
        "dotted lines): drafted operation by "
        "operation, validated against the registry as it will stand, approved by a "
        "second person and applied all or nothing at their effective time.",
    },
    {
        "name": "tokens",
        "description": "Your own API token, for writing from scripts: see whether you "
        "have one, create it, revoke it.",
    },
    {
        "name": "root",
        "description": "The API's index: every resource as a link, with the docs and "
        "the tour.",
    },
]


# What the tour (docs/api.md) explains once for every endpoint, at the top of the
# interactive docs: Markdown, which Swagger UI and ReDoc render.
DESCRIPTION = """\
Current and historical organizational structure: units in a tree, their posts and the
people appointed to them, dotted-line relationships, and every change with its date and
reason. The tour (`/api/v1/tour/`) walks through it with examples; the essentials:

**As of any instant.** Every read takes `as_of`: an ISO 8601 date (the *end* of that
day, UTC) or a date-time (no offset means UTC). The answer is the registry as it stood
then: units not yet established are absent (a detail answers 404), abolished ones are
flagged `"status": "abolished"` (trees leave them out unless `include_abolished=true`).

**As recorded at any instant.** Every read of the registry also takes `known_at`: the
answer is built only from what had been recorded by then, leaving out corrections of the
past recorded later (`tree/?as_of=2024-03-01&known_at=2024-06-01`: what the registry
said in June about March). Read like `as_of`; at or after now it is now; a malformed
one, or one before the first record, is a 400.

**Languages.** Messages and labels (a change's field label, a choice's name) are in
English unless `?lang=fr` or `?lang=es` (or else `Accept-Language`) asks for French
or Spanish; an unknown `lang` is a `400` listing the supported codes. Answers say
`Content-Language` and vary by it (`Vary: Accept-Language`, an ETag per language).

**Pages.** Lists answer `{"count", "next", "previous", "results"}`, with `limit` (1 to
1000, default 50) and `offset`; `next` and `previous` keep your filters. Every link is
absolute. The change feed pages by **cursor** instead: follow `next` until it is
`null`; a page can hold fewer than `limit` changes while more follow. A cursor is
opaque and signed (take it from a link, never build it) and stays valid after later
writes: it names a place in the feed, not a snapshot.

**The change feed** (`changes/`) lists every recorded change of every field of units,
posts, people, appointments and relationships between `since` (exclusive; a date
includes that day) and `until` (inclusive). Each entry has a `kind`, its effective
time, reason and `fields`, and `object`: what it changed (`type`, name, `url` in this
API, public `page`). The changes an applied reorganization recorded come as one entry
instead, `{"reorganization": {"id", "title", "reference", "reason",
"reason_visibility", "effective_at", "status", "author", "url"}, "effective_at",
"changes": [...]}`, whose reason and author follow the same rule as a change's; a
page never splits one unless it alone fills the page. Editors and auditors also read
the reorganizations that failed to apply (`"status": "failed"`, no changes, the
reasons in `problems`). `type` (unit, post, person,
appointment, relationship, lineage, reorganization) and `unit` (a slug; `unit_posts=true` adds
its posts) keep some changes; another value is a 400 naming the parameter.

**Caching: ETag and If-None-Match.** Every read answers with an `ETag`; send it back in
`If-None-Match` and an unchanged answer is a `304` without a body.

**Writing: If-Match.** Writes need an account with the model permissions (session, or
`Authorization: Token <key>`, see `token/`), and every write takes a `reason`. A single
object's ETag names its version (`"unit-12-v3"`, `"unit-12-v3-fr"` read in French): send
it in `If-Match` with a write and the write is refused with `412` if someone changed the
object since you read it, so no update is lost. A write answers with the object, its new `ETag`, and `recorded` (the
version it added: `history_id`, `effective_at`, `recorded_at`); a write that changes
nothing says so.

**Errors** are JSON: `{"detail": "...", "code": "..."}` or a message per parameter
(`{"as_of": "..."}`). `400` bad input (nothing is written), `403` no permission, `404`
no such object (at that instant), `405` method not allowed (with `Allow`), `409` a
conflict with the registry's state (a cycle, an abolished unit, a held post),
`412` an outdated `If-Match`, `429` throttled (with `Retry-After`).
"""
