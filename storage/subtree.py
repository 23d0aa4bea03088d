"""The one way to say "this unit path is inside that subtree" in SQL.

Paths are materialised ("/1/4/17/"). ``path LIKE '/1/4/' || '%'`` reads right but SQLite never
searches an index with it (its LIKE optimisation wants a literal pattern and a case-sensitive
LIKE or a NOCASE index), so every subtree query planned from the whole province's links. The
same set as a range, ``path >= '/1/4/' AND path < '/1/40'`` (the last '/' raised to '0', the
next byte: '/' < '0' in ASCII), is an index search on ``ix_units_path``.

The range is only right under a byte-wise collation. SQLite's default (BINARY) is one;
PostgreSQL's default collation is usually a locale that ignores punctuation, so there the
filter stays the LIKE it always was.
"""

from __future__ import annotations

from sqlalchemy import Boolean, String, and_, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


def upper_bound(prefix: str) -> str:
    """The least string above every path that starts with ``prefix`` (which ends with '/')."""
    if not prefix.endswith("/"):
        raise ValueError(f"a unit path prefix ends with '/': {prefix!r}")
    return prefix[:-1] + "0"


def ancestor_paths(path: str) -> list[str]:
    """``path`` and the paths of every unit above it: "/1/4/17/" → "/1/", "/1/4/", "/1/4/17/"."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


class InSubtree(ColumnElement[bool]):
    """``column`` (a unit path) lies in the subtree whose path is ``prefix``."""

    __visit_name__ = "in_subtree"
    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("lower", InternalTraversal.dp_clauseelement),
        ("upper", InternalTraversal.dp_clauseelement),
    ]
    type = Boolean()
    # A condition, not a boolean column: no "= 1" appended where booleans are not native.
    _is_implicitly_boolean = True

    def __init__(self, column, prefix: str) -> None:
        self.column = column
        self.lower = bindparam(None, prefix, type_=String(), unique=True)
        self.upper = bindparam(None, upper_bound(prefix), type_=String(), unique=True)


@compiles(InSubtree)
def _in_subtree_like(element: InSubtree, compiler, **kw) -> str:
    return compiler.process(element.column.startswith(element.lower), **kw)


@compiles(InSubtree, "sqlite")
def _in_subtree_range(element: InSubtree, compiler, **kw) -> str:
    # Parenthesised: the element may sit under NOT or beside OR.
    both = and_(element.column >= element.lower, element.column < element.upper)
    return compiler.process(both.self_group(), **kw)


def in_subtree(column, prefix: str) -> InSubtree:
    """The SQL condition "``column`` is ``prefix`` or a path below it"; ``prefix`` "/" is every unit."""
    return InSubtree(column, prefix)
