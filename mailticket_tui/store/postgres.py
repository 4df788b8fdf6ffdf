"""The store's PostgreSQL database: peewee's, with BEGIN sent together with a transaction's first statement.

A processed mail is one transaction of about six statements, each a round trip whose fixed cost (a wake-up
of the server's backend, a protocol exchange, a snapshot) is most of PostgreSQL's CPU per mail. peewee sends
BEGIN as a statement of its own; here it leaves with the first real one ("BEGIN; INSERT ..." in one simple
query), and a transaction that sent nothing ends without a statement. Transactions with an isolation level
keep peewee's own BEGIN. Nothing else changes: the same statements run in the same transaction.
"""
from __future__ import annotations

import threading
from typing import Any

from peewee import PostgresqlDatabase


class PostgresStore(PostgresqlDatabase):
    """PostgresqlDatabase with a deferred BEGIN (one flag per thread, as peewee keeps a connection per thread)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deferred = threading.local()

    def _take_deferred(self) -> bool:
        """Whether a BEGIN is waiting for its first statement; the wait ends either way."""
        waiting = getattr(self._deferred, "begin", False)
        self._deferred.begin = False
        return waiting

    def begin(self, isolation_level: Any = None) -> None:
        if isolation_level is not None or self._isolation_level:
            super().begin(isolation_level)
            return
        if self.is_closed():
            self.connect()
        self._deferred.begin = True

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        if self._take_deferred():
            sql = "BEGIN; " + sql  # one simple query; the cursor holds the last statement's result
        return super().execute_sql(sql, params)

    def commit(self) -> None:
        if not self._take_deferred():  # nothing was sent: there is no transaction on the server to end
            super().commit()

    def rollback(self) -> None:
        if not self._take_deferred():
            super().rollback()

    def close(self) -> bool:
        self._deferred.begin = False
        return super().close()
