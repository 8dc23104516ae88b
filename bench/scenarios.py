"""The questions every system is asked, written once per system.

alertgraph is asked in OData, datasette in its table/SQL JSON API, the floor in plain SQL against
alertgraph's own SQLite file with the page encoded by Python's stdlib json (as the independent
benchmark's floor does).
Each scenario is a function of a call number, so get-by-id and PATCH walk through sample ids.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import orjson

from bench.data import TENANT, Samples
from bench.measure import HttpCall, check

SCENARIOS = (
    "newest 50",
    "severity+status, 50",
    "same + $count",
    "page 1",
    "page 1000",
    "get by id",
    "evidence any()",
    "PATCH",
)
PAGE_SIZE = 100
PATCH_STATUSES = ("inProgress", "new")


def _url(base: str, params: dict[str, str]) -> str:
    return base + "?" + urlencode(params, quote_via=quote, safe="$,'()/:")


@dataclass
class Walk:
    """Page 1 and page N of the newest-first listing, reached through next links."""

    first: str
    last: str
    pages: int
    seconds: float


def _follow(
    client: httpx.Client, first: str, pages: int, next_of: Callable[[Any], str | None]
) -> Walk:
    import time

    url = first
    started = time.perf_counter()
    for page in range(1, pages):
        response = client.get(url)
        check(response, f"page {page}")
        following = next_of(response.json())
        if following is None:
            raise RuntimeError(f"no next link after page {page} of {first}")
        url = following
    return Walk(first, url, pages, time.perf_counter() - started)


# ---- alertgraph ----------------------------------------------------------------------------


def alertgraph(base: str, samples: Samples) -> dict[str, Callable[[int], HttpCall]]:
    alerts = f"{base}/security/alerts_v2"
    newest = {"$orderby": "createdDateTime desc", "$top": "50"}
    filtered = {"$filter": "severity eq 'high' and status eq 'new'", **newest}
    hunt = (
        "evidence/any(e: e/microsoft.graph.security.deviceEvidence/deviceDnsName "
        f"eq '{samples.device}')"
    )
    ids = samples.ids

    def patch(i: int) -> HttpCall:
        body = {"status": PATCH_STATUSES[i % 2], "assignedTo": f"analyst{i % 7}@contoso.com"}
        return HttpCall("PATCH", f"{alerts}/{quote(ids[i % len(ids)], safe='')}", body)

    return {
        "newest 50": lambda i: HttpCall("GET", _url(alerts, newest)),
        "severity+status, 50": lambda i: HttpCall("GET", _url(alerts, filtered)),
        "same + $count": lambda i: HttpCall("GET", _url(alerts, {**filtered, "$count": "true"})),
        "get by id": lambda i: HttpCall("GET", f"{alerts}/{quote(ids[i % len(ids)], safe='')}"),
        "evidence any()": lambda i: HttpCall("GET", _url(alerts, {"$filter": hunt, **newest})),
        "PATCH": patch,
    }


def alertgraph_walk(client: httpx.Client, base: str, pages: int) -> Walk:
    first = _url(f"{base}/security/alerts_v2", {"$orderby": "createdDateTime desc"})
    return _follow(client, first, pages, lambda body: body.get("@odata.nextLink"))


# ---- datasette -----------------------------------------------------------------------------

DATASETTE_HUNT = """select * from alerts where exists (
  select 1 from json_each(alerts.evidence) e
  where json_extract(e.value, '$."@odata.type"') = '#microsoft.graph.security.deviceEvidence'
    and json_extract(e.value, '$.deviceDnsName') = :device)
order by "createdDateTime" desc limit 50"""


def _tilde(value: str) -> str:
    """datasette's tilde encoding of a primary key in a row URL."""
    safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return "".join(c if c in safe else "".join(f"~{b:02X}" for b in c.encode()) for c in value)


def datasette(base: str, samples: Samples) -> dict[str, Callable[[int], HttpCall]]:
    table = f"{base}/alerts/alerts.json"
    newest = {"_sort_desc": "createdDateTime", "_size": "50", "_shape": "objects"}
    filtered = {"severity": "high", "status": "new", **newest}
    hunt = {"sql": DATASETTE_HUNT, "device": samples.device, "_shape": "objects"}
    ids = samples.ids
    return {
        "newest 50": lambda i: HttpCall("GET", _url(table, {**newest, "_nocount": "1"})),
        "severity+status, 50": lambda i: HttpCall(
            "GET", _url(table, {**filtered, "_nocount": "1"})
        ),
        "same + $count": lambda i: HttpCall("GET", _url(table, filtered)),
        "get by id": lambda i: HttpCall(
            "GET", f"{base}/alerts/alerts/{_tilde(ids[i % len(ids)])}.json?_shape=objects"
        ),
        "evidence any()": lambda i: HttpCall("GET", _url(f"{base}/alerts.json", hunt)),
    }


def datasette_jump(base: str, db_path: str, cursor: tuple[int, str] | None) -> Walk:
    """Page 1 and the deep page of datasette, the latter from the floor's keyset cursor.

    Following datasette's next_url on a descending sort costs time proportional to the depth
    (its keyset condition is an OR that SQLite answers by scanning), so at a million alerts the
    walk itself would take hours; the deep page's URL is built the way datasette builds it.
    """
    first = _url(
        f"{base}/alerts/alerts.json",
        {
            "_sort_desc": "createdDateTime",
            "_size": str(PAGE_SIZE),
            "_nocount": "1",
            "_shape": "objects",
        },
    )
    if cursor is None:
        return Walk(first, first, 1, 0.0)
    with sqlite3.connect(db_path) as conn:
        created = conn.execute(
            'SELECT "createdDateTime" FROM alerts WHERE id = ?', (cursor[1],)
        ).fetchone()[0]
    token = f"{_tilde(created)},{_tilde(cursor[1])}"
    return Walk(first, first + "&_next=" + quote(token, safe="~"), 0, 0.0)


def datasette_walk(client: httpx.Client, base: str, pages: int) -> Walk:
    first = _url(
        f"{base}/alerts/alerts.json",
        {
            "_sort_desc": "createdDateTime",
            "_size": str(PAGE_SIZE),
            "_nocount": "1",
            "_shape": "objects",
        },
    )
    return _follow(client, first, pages, lambda body: body.get("next_url"))


# ---- the floor: sqlite3 + stdlib json, no HTTP ---------------------------------------------------

ORDER = 'ORDER BY "createdDateTime" DESC, id'
HUNT_SQL = """EXISTS (SELECT 1 FROM json_each(evidence)
  WHERE json_extract(value, '$."@odata.type"') = '#microsoft.graph.security.deviceEvidence'
    AND json_extract(value, '$.deviceDnsName') = ?)"""


class Floor:
    """The same SELECTs alertgraph needs, run with sqlite3 and encoded with stdlib json."""

    def __init__(self, db_file: str, samples: Samples) -> None:
        from alertgraph.store.database import TABLES

        self.db_file = db_file
        self.samples = samples
        table = TABLES["alerts_v2"]
        self.json_columns = {c.name for c in table.columns if c.type.__class__.__name__ == "JSON"}
        from alertgraph.schema.edm import load_model

        enums = load_model().enums
        self.high = enums["microsoft.graph.security.alertSeverity"].members["high"]
        self.status = enums["microsoft.graph.security.alertStatus"].members
        self.cursor: tuple[int, str] | None = None

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_file, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _page(self, conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> bytes:
        """The rows as a JSON page, with Python's stdlib ``json`` (stored JSON parsed back)."""
        cursor = conn.execute(sql, args)
        names = [d[0] for d in cursor.description]
        wrap = [name in self.json_columns for name in names]
        loads = json.loads
        rows = [
            {
                name: loads(value) if json_column and value is not None else value
                for name, json_column, value in zip(names, wrap, row, strict=True)
            }
            for row in cursor.fetchall()
        ]
        return json.dumps({"value": rows}).encode()

    def walk(self, pages: int) -> None:
        """Keyset-walk to the last page so "page 1000" starts where the server's does."""
        conn = self.connect()
        try:
            cursor: tuple[int, str] | None = None
            for _ in range(1, pages):
                if cursor is None:
                    rows = conn.execute(
                        f'SELECT "createdDateTime", id FROM security_alerts WHERE _tenant = ? '
                        f"{ORDER} LIMIT ?",
                        (TENANT, PAGE_SIZE),
                    ).fetchall()
                else:
                    rows = conn.execute(
                        'SELECT "createdDateTime", id FROM security_alerts WHERE _tenant = ? AND '
                        '("createdDateTime" < ? OR ("createdDateTime" = ? AND id > ?)) '
                        f"{ORDER} LIMIT ?",
                        (TENANT, cursor[0], cursor[0], cursor[1], PAGE_SIZE),
                    ).fetchall()
                cursor = (rows[-1][0], rows[-1][1])
            self.cursor = cursor
        finally:
            conn.close()

    def scenarios(self) -> dict[str, Callable[[sqlite3.Connection, int], bytes]]:
        ids = self.samples.ids
        filtered_where = "_tenant = ? AND severity = ? AND status = ?"
        filtered_args = (TENANT, self.high, self.status["new"])

        def newest(conn: sqlite3.Connection, i: int) -> bytes:
            return self._page(
                conn, f"SELECT * FROM security_alerts WHERE _tenant = ? {ORDER} LIMIT 51", (TENANT,)
            )

        def filtered(conn: sqlite3.Connection, i: int) -> bytes:
            return self._page(
                conn,
                f"SELECT * FROM security_alerts WHERE {filtered_where} {ORDER} LIMIT 51",
                filtered_args,
            )

        def counted(conn: sqlite3.Connection, i: int) -> bytes:
            page = filtered(conn, i)
            total = conn.execute(
                f"SELECT count(*) FROM security_alerts WHERE {filtered_where}", filtered_args
            ).fetchone()[0]
            return page + orjson.dumps(total)

        def page_first(conn: sqlite3.Connection, i: int) -> bytes:
            return self._page(
                conn,
                f"SELECT * FROM security_alerts WHERE _tenant = ? {ORDER} LIMIT ?",
                (TENANT, PAGE_SIZE + 1),
            )

        def page_last(conn: sqlite3.Connection, i: int) -> bytes:
            if self.cursor is None:
                return page_first(conn, i)
            at, key = self.cursor
            return self._page(
                conn,
                'SELECT * FROM security_alerts WHERE _tenant = ? AND ("createdDateTime" < ? OR '
                f'("createdDateTime" = ? AND id > ?)) {ORDER} LIMIT ?',
                (TENANT, at, at, key, PAGE_SIZE + 1),
            )

        def by_id(conn: sqlite3.Connection, i: int) -> bytes:
            return self._page(
                conn,
                "SELECT * FROM security_alerts WHERE _tenant = ? AND id = ?",
                (TENANT, ids[i % len(ids)]),
            )

        def hunt(conn: sqlite3.Connection, i: int) -> bytes:
            return self._page(
                conn,
                f"SELECT * FROM security_alerts WHERE _tenant = ? AND {HUNT_SQL} {ORDER} LIMIT 51",
                (TENANT, self.samples.device),
            )

        def patch(conn: sqlite3.Connection, i: int) -> bytes:
            key = ids[i % len(ids)]
            status = self.status[PATCH_STATUSES[i % 2]]
            with conn:
                conn.execute(
                    'UPDATE security_alerts SET status = ?, "assignedTo" = ? '
                    "WHERE _tenant = ? AND id = ?",
                    (status, f"analyst{i % 7}@contoso.com", TENANT, key),
                )
            return by_id(conn, i)

        return {
            "newest 50": newest,
            "severity+status, 50": filtered,
            "same + $count": counted,
            "page 1": page_first,
            "page 1000": page_last,
            "get by id": by_id,
            "evidence any()": hunt,
            "PATCH": patch,
        }
