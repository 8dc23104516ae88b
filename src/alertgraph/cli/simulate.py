"""``alertgraph simulate``: keep a tenant alive (new alerts, triage, partner and PIM changes)."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import click

from alertgraph.cli.common import _open_store, _settings, db_option, tenant_option


@click.command()
@db_option
@tenant_option
@click.option(
    "--rate",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Events per minute (new alerts and changes alike).",
)
@click.option(
    "--seed", default=1, show_default=True, type=int, help="Seed: same seed, same events."
)
@click.option("--events", type=click.IntRange(min=1), help="Stop after this many events.")
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    help="Stop after this many seconds (default: run until --events or Ctrl+C).",
)
def simulate(
    database_url: str | None,
    tenant: str | None,
    rate: float,
    seed: int,
    events: int | None,
    duration: float | None,
) -> None:
    """Make a tenant move like a live one, beside a running `alertgraph serve`.

    New Defender alerts arrive with evidence and correlate into incidents; simulated analysts
    triage, comment, resolve and merge; partner alerts change status; PIM role assignments come
    and go. Every event is an audited write that moves lastUpdateDateTime. The same --seed and
    --events give the same alerts, ids and content.

    \b
    Example:
      alertgraph simulate --rate 120 --duration 600
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from alertgraph.simulate.pace import Tally, run_paced
    from alertgraph.simulate.tenant import SimulatedTenant

    settings = _settings(database_url=database_url, default_tenant=tenant)
    store = _open_store(settings)
    live = SimulatedTenant(store, settings.default_tenant, seed)
    if live.prepare():
        click.echo(f"Tenant {settings.default_tenant} was empty: PIM catalogue created.")
    limit = f"{events} events" if events else f"{duration:g} s" if duration else "Ctrl+C"
    click.echo(
        f"Simulating tenant {settings.default_tenant} at {rate:g} events/min (seed {seed}, "
        f"until {limit}) in {store.dialect} database {settings.database_url}"
    )
    tally: Tally | None = None
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[count]}[/bold] events, {task.fields[speed]} events/s"),
        TextColumn("{task.fields[kinds]}"),
        disable=not sys.stderr.isatty(),
    ) as progress:
        task = progress.add_task("simulate", total=None, **_fields(None))

        def show(current: Tally) -> None:
            nonlocal tally
            tally = current
            progress.update(task, **_fields(current))

        try:
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C ends the run with its summary
                run_paced(live.step, rate=rate, events=events, duration=duration, on_event=show)
        finally:
            store.engine.dispose()
    if tally is None:
        click.echo("No events written.")
        return
    fields = _fields(tally)
    click.echo(f"Wrote {fields['count']} events ({fields['speed']} events/s): {fields['kinds']}.")


def _fields(tally: Any) -> dict[str, Any]:
    if tally is None:
        return {"count": "0", "speed": "0.0", "kinds": ""}
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(tally.kinds.items()))
    return {"count": str(tally.total), "speed": f"{tally.per_second():.1f}", "kinds": kinds}
