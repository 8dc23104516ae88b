"""``alertgraph token`` and ``alertgraph app``: bearer tokens and app registrations."""

from __future__ import annotations

import click

from alertgraph.cli.common import (
    MAX_EXPIRES_IN,
    _open_store,
    _settings,
    db_option,
    is_guid,
    known_permission,
    tenant_option,
)


def _directory_roles(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """Role names or template ids -> template ids, refusing unknown ones before anything runs."""
    from alertgraph.identity.auth import role_template_id

    try:
        return tuple(role_template_id(name) for name in value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@click.command()
@db_option
@tenant_option
@click.option("--user", metavar="UPN", help="Signed-in user (delegated token).")
@click.option("--app-id", metavar="ID", help="Application id (application token).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="PERM",
    callback=known_permission,
    help="Delegated permission (scp).",
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    metavar="PERM",
    callback=known_permission,
    help="Application permission (roles).",
)
@click.option(
    "--directory-role",
    "directory_roles",
    multiple=True,
    metavar="NAME_OR_TEMPLATE_ID",
    callback=_directory_roles,
    help="Entra directory role of the user (wids), by name or template id.",
)
@click.option(
    "--expires-in",
    default=3600,
    show_default=True,
    type=click.IntRange(1, MAX_EXPIRES_IN),
    metavar="SECONDS",
    help=f"Lifetime of the token, 1 to {MAX_EXPIRES_IN} seconds.",
)
@click.option(
    "--admin",
    is_flag=True,
    help="An admin token for the emulator's admin API (/_alertgraph/), not for Graph.",
)
@click.option("--server-wide", is_flag=True, help="With --admin: may act on any tenant (?tenant=).")
def token(
    database_url: str | None,
    tenant: str | None,
    user: str | None,
    app_id: str | None,
    scopes: tuple[str, ...],
    roles: tuple[str, ...],
    directory_roles: tuple[str, ...],
    expires_in: int,
    admin: bool,
    server_wide: bool,
) -> None:
    """Print one bearer token that a server on the same database accepts.

    With neither --scope nor --role: every read and write permission of the served APIs, delegated,
    plus the directory roles PIM needs.

    \b
    Examples:
      alertgraph token
      alertgraph token --app-id 11111111-2222-3333-4444-555555555555 --role SecurityAlert.Read.All
      alertgraph token --user analyst@contoso.com --scope SecurityAlert.Read.All \\
          --directory-role "Security Reader"
      alertgraph token --admin
    """
    from alertgraph.identity.auth import mint_dev_token

    # flags first, before the database is opened (as every command does)
    if server_wide and not admin:
        raise click.UsageError("--server-wide only applies to --admin tokens")
    if admin:
        graph_only = {
            "--user": user,
            "--app-id": app_id,
            "--scope": scopes,
            "--role": roles,
            "--directory-role": directory_roles,
        }
        given = [flag for flag, value in graph_only.items() if value]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise click.UsageError(
                f"{', '.join(given)} {verb} only to Graph tokens; an --admin token carries no "
                "Graph identity or permissions"
            )
    if app_id is not None and not is_guid(app_id):
        raise click.BadParameter(
            f"'{app_id}' is not an application id; Entra application ids are GUIDs",
            param_hint="--app-id",
        )
    settings = _settings(database_url=database_url, default_tenant=tenant)
    store = _open_store(settings)
    if admin:
        from alertgraph.emulator.admin import mint_admin

        try:
            click.echo(
                mint_admin(
                    store,
                    settings,
                    tenant=settings.default_tenant,
                    server_wide=server_wide,
                    expires_in=expires_in,
                )
            )
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--tenant") from None
        return
    # directory roles arrive as template ids (the option's callback converts names)
    click.echo(
        mint_dev_token(
            store,
            tenant=settings.default_tenant,
            user=user,
            app_id=app_id,
            scopes=scopes,
            roles=roles,
            directory_roles=directory_roles,
            expires_in=expires_in,
        )
    )


@click.group()
def app() -> None:
    """Manage app registrations for the client-credentials flow."""


@app.command(name="add")
@db_option
@tenant_option
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    metavar="PERM",
    callback=known_permission,
    help="Application permission the app gets (repeat for several).",
)
@click.option("--name", metavar="NAME", help="Display name of the app.")
def app_add(
    database_url: str | None, tenant: str | None, roles: tuple[str, ...], name: str | None
) -> None:
    """Register an application; print its client id and secret (shown only once).

    The secret is stored as a salted hash. Exchange it for a token at
    /{tenant}/oauth2/v2.0/token with grant_type=client_credentials and
    scope=https://graph.microsoft.com/.default (see docs/auth.md).

    \b
    Example:
      alertgraph app add --tenant $TENANT --role SecurityAlert.Read.All --name siem
    """
    from alertgraph.identity.auth import add_app

    settings = _settings(database_url=database_url, default_tenant=tenant)
    store = _open_store(settings)
    client_id, secret = add_app(store, tenant=settings.default_tenant, roles=roles, name=name)
    click.echo(f"tenant:        {settings.default_tenant}")
    click.echo(f"client_id:     {client_id}")
    click.echo(f"client_secret: {secret}")
