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
