"""Settings: built once from the environment and command-line flags; nothing else reads os.environ.

Every setting is declared once here with its default, its environment variable and its help text
(the CLI and docs/settings.md are derived from this table).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///alertgraph.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = field(
        default=DEFAULT_DATABASE_URL,
        metadata={
            "env": "ALERTGRAPH_DATABASE_URL",
            "help": "SQLAlchemy URL: sqlite:///file.db or postgresql+psycopg://user@host/db",
        },
    )
    default_tenant: str = field(
        default="00000000-0000-4000-8000-000000000001",
        metadata={
            "env": "ALERTGRAPH_TENANT",
            "help": "tenant id used by --demo, import and token when none is given",
        },
    )
    strict_graph: bool = field(
        default=False,
        metadata={
            "env": "ALERTGRAPH_STRICT_GRAPH",
            "help": "reject queries and bodies that rely on behaviour Graph does not document",
        },
    )
    max_body_bytes: int = field(
        default=1_048_576,
        metadata={
            "env": "ALERTGRAPH_MAX_BODY_BYTES",
            "help": "largest accepted request body (413 above)",
        },
    )
    token_leeway_seconds: int = field(
        default=5,
        metadata={
            "env": "ALERTGRAPH_TOKEN_LEEWAY",
            "help": "clock skew tolerated when checking token exp/nbf",
        },
    )
    max_filter_nodes: int = field(
        default=1000,
        metadata={
            "env": "ALERTGRAPH_MAX_FILTER_NODES",
            "help": "largest $filter/$orderby expression",
        },
    )
    max_expression_depth: int = field(
        default=100,
        metadata={"env": "ALERTGRAPH_MAX_EXPRESSION_DEPTH", "help": "deepest nesting in $filter"},
    )
    durable_commits: bool = field(
        default=False,
        metadata={
            "env": "ALERTGRAPH_DURABLE_COMMITS",
            "help": "PostgreSQL: each API write waits for its WAL flush (synchronous_commit on)",
        },
    )
    trusted_issuers_file: str | None = field(
        default=None,
        metadata={
            "env": "ALERTGRAPH_TRUSTED_ISSUERS",
            "help": "JSON file of external issuers and their JWKS to trust (off by default)",
        },
    )
    throttle: str = field(
        default="off",
        metadata={
            "env": "ALERTGRAPH_THROTTLE",
            "help": "throttle Graph requests: off, graph (Graph's limits) or N/S (per app, tenant)",
        },
    )
    faults: str | None = field(
        default=None,
        metadata={
            "env": "ALERTGRAPH_FAULTS",
            "help": "inject faults: rate=R,status=CODE,seed=N[,latency=MS]",
        },
    )
    journal: bool = field(
        default=False,
        metadata={"env": "ALERTGRAPH_JOURNAL", "help": "record each Graph request in the database"},
    )
    journal_bodies: bool = field(
        default=False,
        metadata={
            "env": "ALERTGRAPH_JOURNAL_BODIES",
            "help": "also record request and response bodies in the journal",
        },
    )
    journal_max_entries: int = field(
        default=10_000,
        metadata={
            "env": "ALERTGRAPH_JOURNAL_MAX_ENTRIES",
            "help": "journal entries kept; older ones are dropped",
        },
    )
    admin_api: bool = field(
        default=True,
        metadata={
            "env": "ALERTGRAPH_ADMIN_API",
            "help": "serve the emulator admin API under /_alertgraph/ (admin tokens only)",
        },
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Settings from environment variables, then explicit overrides (None means not given)."""
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            env_name = spec.metadata.get("env")
            if env_name and env_name in environ:
                values[spec.name] = _convert(spec.type, environ[env_name], env_name)
        for key, value in overrides.items():
            if value is not None:
                values[key] = value
        return cls(**values)


def _convert(type_name: Any, raw: str, env_name: str) -> Any:
    text = str(type_name)
    if text.startswith("bool"):
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{env_name} must be true or false, got {raw!r}")
    if text.startswith("int"):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{env_name} must be a whole number, got {raw!r}") from None
    return raw
