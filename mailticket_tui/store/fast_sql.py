"""The statements every processed mail sends, with their SQL text built once per shape instead of per call.

peewee builds each query's SQL from its expression tree every time it runs: on the mail path that was a
quarter of a pass's CPU, more than SQLite spent executing the statements. These helpers keep the same
meaning (peewee's own field conversions and defaults, the same dialect rules) with the text cached by
(model, columns, options, dialect). Anything off the per-mail path keeps using the query builder.

On PostgreSQL a statement run a second time on a connection is made a prepared statement there (PREPARE, then
EXECUTE with the values): the server then skips parsing and planning it, about a third of its CPU per mail.
Prepared statements outlive a rolled-back transaction. A server session that does not keep them (a pooler
handing each transaction another session) fails that statement with PreparedStatementLost: its transaction
is rolled back and done again (engine/process.py does), with statements unprepared for the rest of the process.
A statement the server refuses to prepare goes the same way, and that one text stays plain.
"""
from __future__ import annotations

import hashlib
import logging
import re
import weakref
from typing import Any, Callable, Iterable

from peewee import Model, PostgresqlDatabase

from .models import database_proxy

_sql: dict[tuple, str] = {}
_defaults: dict[type, list[tuple[str, Any]]] = {}
_seen: weakref.WeakKeyDictionary[Any, dict[str, bool]] = weakref.WeakKeyDictionary()  # connection -> text: prepared
_prepared_text: dict[str, tuple[str, str, str]] = {}  # text -> (name, PREPARE statement, EXECUTE statement)
_MARK = re.compile(r"%[%s]")
_SESSION_LOST = {"26000", "42P05"}  # invalid statement name; a statement of that name exists already
_prepare = True
_plain: set[str] = set()  # texts the server would not prepare
log = logging.getLogger(__name__)


class PreparedStatementLost(Exception):
    """The server session lost a prepared statement, or refused to prepare one: the transaction is aborted;
    roll it back and run it again (the statement then goes plain)."""


def execute(sql: str, params: list[Any]) -> Any:
    """Run a statement of the mail path (SQL text with the dialect's marks); on PostgreSQL through a prepared
    statement from its second run on the connection (a single run, like a 500-row batch, is not worth a PREPARE)."""
    global _prepare
    db = database_proxy.obj
    if not _prepare or not params or sql in _plain or not isinstance(db, PostgresqlDatabase):
        return db.execute_sql(sql, params)
    seen = _seen.setdefault(db.connection(), {})
    state = seen.get(sql)
    if state is None:
        seen[sql] = False
        return db.execute_sql(sql, params)
    name, prepare, run = _postgres_statements(sql, len(params))
    if not state:
        try:
            db.execute_sql(prepare)
        except Exception as exc:
            if not str(getattr(getattr(exc, "orig", None), "pgcode", "") or "").startswith("42"):
                raise  # not a refusal of the text (a dropped connection, an aborted transaction): as it is
            _plain.add(sql)  # class 42, the analysis of the text (a parameter it cannot type): stays plain
            log.warning("PostgreSQL refused to prepare %s (%s); it is sent plain", name, _first_line(exc))
            raise PreparedStatementLost(f"PostgreSQL refused to prepare {name}") from exc
        seen[sql] = True
    try:
        return db.execute_sql(run, params)
    except Exception as exc:
        if getattr(getattr(exc, "orig", None), "pgcode", None) in _SESSION_LOST:  # peewee keeps psycopg2's error
            _prepare = False  # a pooler shares server sessions (PgBouncer's transaction mode): plain statements
            log.warning("PostgreSQL lost a prepared statement (%s); statements are no longer prepared", name)
            raise PreparedStatementLost(f"PostgreSQL lost the prepared statement {name}") from exc
        raise


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _postgres_statements(sql: str, count: int) -> tuple[str, str, str]:
    found = _prepared_text.get(sql)
    if found is None:
        name = "mt_" + hashlib.blake2b(sql.encode(), digest_size=8).hexdigest()
        numbers = iter(range(1, count + 1))
        body = _MARK.sub(lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql)
        found = _prepared_text[sql] = (name, f"PREPARE {name} AS {body}".replace("%", "%%"),
                                       f"EXECUTE {name} (" + ", ".join(["%s"] * count) + ")")
    return found


def _with_defaults(model: type[Model], values: dict[str, Any]) -> dict[str, Any]:
    """`values` plus the model's defaults for the fields not given (callables called), as peewee's insert."""
    table = _defaults.get(model)
    if table is None:
        table = _defaults[model] = [(f.name, f.default) for f in model._meta.sorted_fields
                                    if f.default is not None and f is not model._meta.primary_key]
    full = dict(values)
    for name, default in table:
        if name not in full:
            full[name] = default() if callable(default) else default
    return full


def _insert_sql(model: type[Model], names: tuple[str, ...], rows: int, ignore: bool, returning: bool) -> str:
    db = database_proxy.obj
    key = (model, names, rows, ignore, returning, type(db))
    sql = _sql.get(key)
    if sql is None:
        fields = model._meta.fields
        columns = ", ".join(f'"{fields[n].column_name}"' for n in names)
        group = "(" + ", ".join([db.param] * len(names)) + ")"
        postgres = isinstance(db, PostgresqlDatabase)
        verb = "INSERT OR IGNORE INTO" if ignore and not postgres else "INSERT INTO"
        sql = f'{verb} "{model._meta.table_name}" ({columns}) VALUES ' + ", ".join([group] * rows)
        if ignore and postgres:
            sql += " ON CONFLICT DO NOTHING"
        if returning:
            sql += f' RETURNING "{model._meta.primary_key.column_name}"'
        _sql[key] = sql
    return sql


def _params(model: type[Model], names: tuple[str, ...], values: dict[str, Any]) -> list[Any]:
    fields = model._meta.fields
    return [fields[n].db_value(values[n]) for n in names]


def insert(model: type[Model], values: dict[str, Any], ignore: bool = False) -> int:
    """INSERT one row; returns how many rows went in (0 when `ignore` met a conflict)."""
    full = _with_defaults(model, values)
    names = tuple(full)
    return execute(_insert_sql(model, names, 1, ignore, False), _params(model, names, full)).rowcount


def insert_returning_id(model: type[Model], values: dict[str, Any], ignore: bool = False) -> int | None:
    """INSERT one row and return its id; None when `ignore` met a conflict."""
    full = _with_defaults(model, values)
    names = tuple(full)
    found = execute(_insert_sql(model, names, 1, ignore, True), _params(model, names, full)).fetchone()
    return found[0] if found else None


def insert_many(model: type[Model], rows: Iterable[dict[str, Any]], ignore: bool = False) -> None:
    """INSERT several rows of the same columns in one statement (`ignore`: rows meeting a conflict are left out)."""
    full = [_with_defaults(model, row) for row in rows]
    if not full:
        return
    names = tuple(full[0])
    params = [p for row in full for p in _params(model, names, row)]
    execute(_insert_sql(model, names, len(full), ignore, False), params)


def update_by_id(model: type[Model], row_id: int, values: dict[str, Any]) -> int:
    """UPDATE some columns of one row by primary key; returns the rows changed."""
    db = database_proxy.obj
    names = tuple(values)
    key = (model, names, "update", type(db))
    sql = _sql.get(key)
    if sql is None:
        fields = model._meta.fields
        sets = ", ".join(f'"{fields[n].column_name}" = {db.param}' for n in names)
        sql = _sql[key] = (f'UPDATE "{model._meta.table_name}" SET {sets} '
                           f'WHERE "{model._meta.primary_key.column_name}" = {db.param}')
    return execute(sql, [*_params(model, names, values), row_id]).rowcount


def columns(model: type[Model], alias: str) -> str:
    """`"t"."id", "t"."class", ...`: every column of `model` in field order, for a SELECT written by hand."""
    return ", ".join(f'"{alias}"."{f.column_name}"' for f in model._meta.sorted_fields)


def instance(model: type[Model], row: tuple) -> Model:
    """A model instance from the first columns of `row` (in `columns` order), converted as peewee does."""
    fields = model._meta.sorted_fields
    found = model(**{f.name: f.python_value(value) for f, value in zip(fields, row)})
    found._dirty.clear()
    return found


def select(sql_key: tuple, build: Callable[[str], str], params: list[Any]) -> list[tuple]:
    """Rows of a hand-written SELECT whose text `build(param)` is made once per `sql_key` and dialect."""
    db = database_proxy.obj
    key = (sql_key, type(db))
    sql = _sql.get(key)
    if sql is None:
        sql = _sql[key] = build(db.param)
    return execute(sql, params).fetchall()
