"""Bad command-line input, run through the installed ``alertgraph`` entry point: every command
exits non-zero with one ``Error:`` line naming the bad value and what is allowed, never a
traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ENTRY_POINT = str(Path(sys.executable).parent / "alertgraph")
GUID_HINT = "a tenant id is a GUID like 00000000-0000-4000-8000-000000000001"
SCHEMES = (
    "use one of the schemes sqlite://, sqlite+pysqlite://, postgresql://, postgresql+psycopg://"
)


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ALERTGRAPH_")}
    return subprocess.run(
        [ENTRY_POINT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environ, **env},
        cwd=cwd,
    )


#: (arguments, environment, fragments the one error line must contain)
CASES: list[tuple[list[str], dict[str, str], list[str]]] = [
    (["token", "--expires-in", "-600"], {}, ["'--expires-in'", "-600", "1<=x<=31622400"]),
    (["token", "--expires-in", "0"], {}, ["'--expires-in'", "0 is not in the range 1<=x"]),
    (["token", "--expires-in", "soon"], {}, ["'--expires-in'", "'soon' is not a valid integer"]),
    (["token", "--db", "foo://bar"], {}, ["'--db'", "'foo' in 'foo://bar'", SCHEMES]),
    (["token", "--db", "not a url"], {}, ["'--db'", "'not a url' is not a database URL"]),
    (["token", "--tenant", "notaguid"], {}, ["'--tenant'", "'notaguid'", GUID_HINT]),
    (
        ["token", "--scope", "Nope.Read"],
        {},
        ["'--scope'", "unknown permission Nope.Read;", "SecurityAlert.Read.All"],
    ),
    (
        ["token", "--role", "Nope.Read"],
        {},
        ["'--role'", "unknown permission Nope.Read;", "SecurityAlert.Read.All"],
    ),
    (
        ["token", "--directory-role", "Janitor"],
        {},
        ["'--directory-role'", "'Janitor'", "Security Reader"],
    ),
    ([], {"ALERTGRAPH_DATABASE_URL": "foo://bar"}, ["ALERTGRAPH_DATABASE_URL", SCHEMES]),
    ([], {"ALERTGRAPH_TENANT": "contoso"}, ["ALERTGRAPH_TENANT", "'contoso'", GUID_HINT]),
    (
        ["app", "add", "--role", "Nope.Read"],
        {},
        ["'--role'", "unknown permission Nope.Read;", "known:"],
    ),
    (
        ["app", "add", "--role", "SecurityAlert.Read.All", "--tenant", "x"],
        {},
        ["'--tenant'", GUID_HINT],
    ),
    (["app", "add", "--role", "SecurityAlert.Read.All", "--db", "mysql://h/db"], {}, [SCHEMES]),
    (["serve", "--port", "99999"], {}, ["'--port'", "99999 is not in the range 1<=x<=65535"]),
    (["serve", "--port", "0"], {}, ["'--port'", "0 is not in the range 1<=x<=65535"]),
    (["serve", "--workers", "0"], {}, ["'--workers'", "0 is not in the range x>=1"]),
    (["serve", "--db", "foo://bar"], {}, ["'--db'", "'foo' in 'foo://bar'", SCHEMES]),
    (["serve", "--db", "oracle://scott@host/db"], {}, ["'--db'", "'oracle'", SCHEMES]),
    (
        ["import", "ALERTS", "--into", "security/alerts_v2", "--db", "foo://bar"],
        {},
        ["'--db'", SCHEMES],
    ),
    (
        ["import", "ALERTS", "--into", "security/alerts_v2", "--tenant", "nope"],
        {},
        ["'--tenant'", GUID_HINT],
    ),
    (["import", "ALERTS", "--into", "security/nope"], {}, ["'--into'", "security/alerts_v2"]),
    (
        ["import", "MISSING", "--into", "security/alerts_v2"],
        {},
        ["'FILE'", "x.json' does not exist"],
    ),
    (
        ["token", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"],
        {},
        ["can't open the database postgresql+psycopg://nobody@127.0.0.1:1/none"],
    ),
]


@pytest.mark.parametrize(("args", "env", "fragments"), CASES, ids=lambda v: repr(v)[:60])
def test_bad_input_is_one_error_line(
    tmp_path: Path, args: list[str], env: dict[str, str], fragments: list[str]
) -> None:
    alerts = tmp_path / "alerts.json"
    alerts.write_text("[]")
    files = {"ALERTS": str(alerts), "MISSING": str(tmp_path / "x.json")}
    args = [files.get(arg, arg) for arg in args] or ["token"]
    if "--db" not in args and not env:
        args += ["--db", f"sqlite:///{tmp_path / 'cli.db'}"]
    result = run(args, env, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    for fragment in fragments:
        assert fragment in errors[0], f"{fragment!r} not in {errors[0]!r}"
    # refused before anything ran: no database was created
    assert not (tmp_path / "cli.db").exists()
    assert not (tmp_path / "alertgraph.db").exists()


def one_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one ``Error:`` line of a failed run without a traceback."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    return errors[0]


def alerts_in(db_url: str) -> int:
    from sqlalchemy import func, select

    from alertgraph.store.database import Store, create_db_engine

    store = Store(create_db_engine(db_url))
    try:
        with store.engine.connect() as conn:
            table = store.tables["alerts_v2"]
            return conn.execute(select(func.count()).select_from(table)).scalar_one()
    finally:
        store.engine.dispose()


ALERT = (
    '{"id": "da0001", "severity": "high", "status": "new", "title": "A", '
    '"serviceSource": "microsoftDefenderForEndpoint", "createdDateTime": "2026-04-01T10:00:00Z"'
)
GOOD_LINE = ALERT + "}\n"


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("[" * 100_000, "record 0 (line 1, column 256)"),  # deeper than the decoder recurses
        (GOOD_LINE + '{"id": "x", "a": ' + "[" * 100_000 + "\n", "line 2, column 271"),
        (GOOD_LINE.replace("}", ', "a": ' + "[" * 2000 + "]" * 2000 + "}"), "line 1, column 419"),
        # read whole, but deeper than a JSON column can be written
        (ALERT + ', "additionalData": {"k": ' + "[" * 300 + "]" * 300 + "}}\n", "line 1"),
    ],
    ids=["array", "ndjson-line", "first-line", "storable-no-more"],
)
def test_json_nested_too_deeply_is_one_error_line(
    db_url: str, tmp_path: Path, text: str, place: str
) -> None:
    path = tmp_path / "deep.json"
    path.write_text(text)
    result = run(
        ["import", str(path), "--into", "security/alerts_v2", "--db", db_url], {}, tmp_path
    )
    one_error(result)
    assert f"{place}: the JSON nests too deeply (more than 254 levels" in result.stderr
    assert alerts_in(db_url) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["token"],
        ["token", "--admin"],
        ["app", "add", "--role", "SecurityAlert.Read.All"],
        ["import", "ALERTS", "--into", "security/alerts_v2"],
        ["simulate", "--events", "1"],
        ["snapshot", "list"],
        ["reset"],
        ["serve", "--port", "1"],
    ],
    ids=lambda v: " ".join(v[:2]),
)
def test_a_file_that_is_not_a_database_is_one_error_line(tmp_path: Path, args: list[str]) -> None:
    garbage = tmp_path / "notadb.txt"
    garbage.write_text("garbage\n")
    alerts = tmp_path / "alerts.json"
    alerts.write_text("[]")
    args = [str(alerts) if arg == "ALERTS" else arg for arg in args]
    error = one_error(run([*args, "--db", f"sqlite:///{garbage}"], {}, tmp_path))
    assert f"{garbage} is not an alertgraph database (not a SQLite database file" in error
    assert garbage.read_text() == "garbage\n"


@pytest.mark.postgres
def test_a_postgresql_database_that_does_not_exist_is_one_error_line(tmp_path: Path) -> None:
    from tests.conftest import PG_URL, fresh_pg_schema

    with fresh_pg_schema():  # skips, or fails when PostgreSQL is required, without a server
        pass
    url = PG_URL.rsplit("/", 1)[0] + "/alertgraph_no_such_database"
    error = one_error(run(["token", "--db", url], {}, tmp_path))
    assert f"can't open the database {url}: " in error
    assert 'database "alertgraph_no_such_database" does not exist' in error


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["token", "--db", "sqlite://"], {}),
        (["token", "--admin", "--db", "sqlite:///:memory:"], {}),
        (["app", "add", "--role", "SecurityAlert.Read.All", "--db", "sqlite://"], {}),
        (["import", "ALERTS", "--into", "security/alerts_v2", "--db", "sqlite://"], {}),
        (["token", "--db", "sqlite:///file:x?mode=memory&uri=true"], {}),
        (["token"], {"ALERTGRAPH_DATABASE_URL": "sqlite://"}),
    ],
    ids=lambda v: repr(v)[:50],
)
def test_an_in_memory_database_is_refused(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    alerts = tmp_path / "alerts.json"
    alerts.write_text("[]")
    args = [str(alerts) if arg == "ALERTS" else arg for arg in args]
    result = run(args, env, tmp_path)
    error = one_error(result)
    assert "is an in-memory SQLite database, gone when this command ends" in error
    assert "eyJ" not in result.stdout  # no token signed by a key no server can know


@pytest.mark.parametrize("form", ["ndjson", "array"])
def test_nul_is_refused_alike_on_either_database(db_url: str, tmp_path: Path, form: str) -> None:
    good = GOOD_LINE
    bad = GOOD_LINE.replace('"da0001"', '"da0002"').replace('"A"', '"nul \\u0000 inside"')
    path = tmp_path / "alerts.json"
    path.write_text(good + bad if form == "ndjson" else f"[{good},{bad}]")
    result = run(
        ["import", str(path), "--into", "security/alerts_v2", "--db", db_url], {}, tmp_path
    )
    one_error(result)
    where = "line 2" if form == "ndjson" else "record 1"
    assert f"  {where}: text can't contain NUL (\\u0000)" in result.stderr.splitlines()
    assert alerts_in(db_url) == 0
    # a backslash followed by "u0000" is text like any other
    literal = GOOD_LINE.replace('"A"', '"C:\\\\u0000"')
    path.write_text(literal)
    result = run(
        ["import", str(path), "--into", "security/alerts_v2", "--db", db_url], {}, tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert alerts_in(db_url) == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["token", "--app-id", "notaguid"], "'notaguid' is not an application id"),
        (["token", "--admin", "--scope", "SecurityAlert.Read.All"], "--scope applies only to"),
        (
            ["token", "--admin", "--user", "a@b.c", "--role", "SecurityAlert.Read.All"],
            "--user, --role apply only to",
        ),
    ],
)
def test_token_flags_that_cannot_apply_are_refused_before_the_database(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    db = tmp_path / "never.db"
    result = run([*args, "--db", f"sqlite:///{db}"], {}, tmp_path)
    assert fragment in one_error(result)
    assert not db.exists()  # refused before anything was opened
