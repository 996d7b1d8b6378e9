"""Set-based writes for the hot paths: many rows in one statement, never a ``save()`` per row.

``rows_insert`` writes with ``COPY`` on PostgreSQL (the fastest way in) and a
multi-row ``executemany`` elsewhere; ``rows_update`` changes many rows with
per-row values in one ``UPDATE … FROM (VALUES …)`` on PostgreSQL, where
Django's ``bulk_update`` would build (and the server parse) a ``CASE WHEN``
per row and column. Table and column names in the SQL come from model
metadata, never from input; every value is a bound parameter, prepared by its
field as the ORM would (UUIDs, datetimes and JSON are stored alike).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models

# Bind parameters per statement stay well below PostgreSQL's 65,535 and SQLite's limits.
_UPDATE_ROWS = 2000


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in names]


def _prepare(fields: list[models.Field], rows: Iterable[Sequence]) -> list[list]:
    return [[field.get_db_prep_save(value, connection) for field, value in zip(fields, row, strict=True)]
            for row in rows]


def rows_insert(model: type[models.Model], names: Sequence[str], rows: list[Sequence]) -> int:
    """Insert ``rows`` (values in the order of ``names``) into ``model``'s table; return the count."""
    if not rows:
        return 0
    fields = _fields(model, names)
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    prepared = _prepare(fields, rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                               prepared)
    return len(rows)


def rows_update(model: type[models.Model], names: Sequence[str], rows: list[Sequence], *,
                only_if: tuple[str, object] | None = None) -> int:
    """Set ``names[1:]`` from each row on the row whose ``names[0]`` (the key) matches.

    ``only_if=(field, value)`` updates only rows where that field still has
    that value (say, ``status = 'sending'``: the claim is still ours). Return
    the number of rows changed.
    """
    if not rows:
        return 0
    fields = _fields(model, names)
    key, *values = fields
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    guard_sql, guard_params = "", []
    if only_if is not None:
        guard_field = model._meta.get_field(only_if[0])
        guard_sql = f" AND {table}.{qn(guard_field.column)} = %s"
        guard_params = [guard_field.get_db_prep_save(only_if[1], connection)]
    prepared = _prepare(fields, rows)
    changed = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            casts = [f"%s::{field.db_type(connection)}" for field in fields]
            row_sql = f"({', '.join(casts)})"
            aliases = ", ".join(f"c{i}" for i in range(len(fields)))
            assignments = ", ".join(f"{qn(field.column)} = v.c{i}"
                                    for i, field in enumerate(values, start=1))
            for start in range(0, len(prepared), _UPDATE_ROWS):
                part = prepared[start:start + _UPDATE_ROWS]
                cursor.execute(
                    f"UPDATE {table} SET {assignments} FROM (VALUES "  # noqa: S608
                    f"{', '.join([row_sql] * len(part))}) AS v({aliases}) "
                    f"WHERE {table}.{qn(key.column)} = v.c0{guard_sql}",
                    [value for row in part for value in row] + guard_params)
                changed += cursor.rowcount
        else:
            assignments = ", ".join(f"{qn(field.column)} = %s" for field in values)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {qn(key.column)} = %s{guard_sql}",  # noqa: S608
                [[*row[1:], row[0], *guard_params] for row in prepared])
            changed = cursor.rowcount
    return changed
