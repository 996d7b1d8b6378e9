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

import json
from collections.abc import Iterable, Sequence

from django.db import connection, models
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL


def _is_json(field: models.Field) -> bool:
    return field.get_internal_type() == "JSONField"


def _array_type(field: models.Field) -> str:
    # JSON travels as text (psycopg has no array form of its JSON wrapper) and is cast back.
    return "text[]" if _is_json(field) else f"{field.db_type(connection)}[]"


def _cast_back(field: models.Field) -> str:
    return "::jsonb" if _is_json(field) else ""


def _json_text(value) -> str:
    """A prepared JSON value (psycopg's ``Jsonb`` wrapper, or plain data) as JSON text."""
    return json.dumps(getattr(value, "obj", value))


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in names]


def _prepare(fields: list[models.Field], rows: Iterable[Sequence]) -> list[list]:
    if connection.vendor != "postgresql":
        return [[field.get_db_prep_save(value, connection)
                 for field, value in zip(fields, row, strict=True)] for row in rows]
    # psycopg adapts strings, numbers, UUIDs and aware datetimes itself; only JSON needs
    # turning into text. Skipping the fields' preparation halves the Python time per row.
    json_at = [i for i, field in enumerate(fields) if _is_json(field)]
    if not json_at:
        return [list(row) for row in rows]
    prepared = []
    for row in rows:
        row = list(row)
        for i in json_at:
            row[i] = None if row[i] is None else _json_text(row[i])
        prepared.append(row)
    return prepared


def column_in(model: type[models.Model], name: str, values) -> Q | RawSQL:
    """``<column> IN values`` as a filter: on PostgreSQL ``= ANY(%s)`` with one array parameter
    (a batch of thousands of ids is one value, not thousands of placeholders to build and
    parse), elsewhere Django's ``__in``."""
    if connection.vendor != "postgresql":
        return Q(**{f"{name}__in": list(values)})
    column = f"{model._meta.db_table}.{model._meta.get_field(name).column}"
    return RawSQL(f"{column} = ANY(%s)", [list(values)], output_field=BooleanField())  # noqa: S611


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
            # One array per column, unnested into rows: a handful of parameters however
            # many rows, and no statement text that grows with the batch.
            arrays = [f"%s::{_array_type(field)}" for field in fields]
            aliases = ", ".join(f"c{i}" for i in range(len(fields)))
            assignments = ", ".join(f"{qn(field.column)} = v.c{i}{_cast_back(field)}"
                                    for i, field in enumerate(values, start=1))
            columns = [list(column) for column in zip(*prepared, strict=True)]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM unnest({', '.join(arrays)}) "  # noqa: S608
                f"AS v({aliases}) WHERE {table}.{qn(key.column)} = v.c0{guard_sql}",
                [*columns, *guard_params])
            changed = cursor.rowcount
        else:
            assignments = ", ".join(f"{qn(field.column)} = %s" for field in values)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {qn(key.column)} = %s{guard_sql}",  # noqa: S608
                [[*row[1:], row[0], *guard_params] for row in prepared])
            changed = cursor.rowcount
    return changed
