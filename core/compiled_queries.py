"""Querysets compiled once per process. For the few queries every partner page runs, Django's building and
compiling of the SQL costs several times what PostgreSQL takes to run it (bench/pages.py: about 9 of the 11 ms of
the live entitlement check); the SQL of such a query is the same on every request but for a few values."""

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import connections
from django.db.models import QuerySet

# Stand-ins for the values while the SQL is built, unlike any constant of the queries compiled: an int every integer
# column takes (Django leaves a lookup out of a column's range out of the SQL), and an instant of year 1.
_INT_STAND_IN = 32_000
_INSTANT_STAND_IN = datetime(1, 2, 3, 4, 5, 6, tzinfo=UTC)
_TEXT_STAND_IN = "\x1fcompiled query value "


class CompiledQuery:
    """The rows of `build(**values)` (a `values_list()` queryset) as tuples converted as the ORM converts them,
    from SQL that Django builds and compiles on the first call for each `shape`, then runs with each call's values.

    `build` may use its values (ints, texts and aware datetimes) only as query parameters (filter values, `Value`s),
    never to choose what the query is: whatever changes the SQL itself (a value that is sometimes None, a setting,
    an id read from the database such as a content type's) goes in `shape`."""

    def __init__(self, build: Callable[..., QuerySet]):
        self._build = build
        self._compiled: dict[tuple, tuple] = {}

    def rows(self, *, shape: tuple = (), using: str = "default", **values) -> list[tuple]:
        connection = connections[using]
        key = (using, connection.vendor, shape, tuple(sorted(values)))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(using, values)
        compiler, sql, params, slots = compiled
        params = list(params)
        for position, name in slots:
            params[position] = _parameter(connection, values[name])
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        # Converted by a copy of the compiler bound to this thread's connection (it only reads what compiling set).
        converting = copy.copy(compiler)
        converting.connection = connection
        return list(converting.results_iter(results=[found], tuple_expected=True))

    def _compile(self, using: str, values: dict) -> tuple:
        connection = connections[using]
        stand_ins = {name: _stand_in(value, index) for index, (name, value) in enumerate(sorted(values.items()))}
        compiler = self._build(**stand_ins).query.get_compiler(using)
        sql, params = compiler.as_sql()
        expected = {_parameter(connection, stand_in): name for name, stand_in in stand_ins.items()}
        slots = tuple((position, expected[param]) for position, param in enumerate(params) if param in expected)
        if {name for _, name in slots} != set(values):
            raise ValueError("every value must be a parameter of the compiled query")
        return compiler, sql, tuple(params), slots


def _stand_in(value, index: int):
    if isinstance(value, datetime):
        return _INSTANT_STAND_IN + timedelta(seconds=index)
    if isinstance(value, int) and not isinstance(value, bool):
        return _INT_STAND_IN + index
    if isinstance(value, str):
        return f"{_TEXT_STAND_IN}{index}"
    raise TypeError(f"a compiled query takes ints, texts and datetimes, not {type(value).__name__}")


def _parameter(connection, value):
    """`value` as the query passes it to the database driver."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value
