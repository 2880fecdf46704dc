"""The ``voxwatch`` command line.

Exit status, the same for every command (README, "Exit status"):

- 0: done, every source healthy;
- 1: the run failed on something unexpected (one line here, the traceback in the log);
- 2: the run failed on a problem a person can fix (bad settings, a damaged or busy
  store, a model that will not load): one clear line, never a traceback;
- 3: the run completed, but one or more sources are degraded (one line each on stderr).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table
from typer.core import TyperGroup

from voxwatch.cli.care import authors_app, lint_command, route, templates_app
from voxwatch.cli.cases import cases_app
from voxwatch.cli.options import ConfigOption, config_path
from voxwatch.cli.outbox import outbox_app
from voxwatch.cli.users import users_app
from voxwatch.errors import VoxWatchError
from voxwatch.runtime import prepare_environment, route_tracebacks, start_prefect_server
from voxwatch.settings import CONFIG_ENV, load_settings

console = Console(soft_wrap=True)  # a message is one line, however long its path
err_console = Console(stderr=True, soft_wrap=True)


EXIT_OK, EXIT_FAILED, EXIT_ERROR, EXIT_DEGRADED = 0, 1, 2, 3
log = logging.getLogger("voxwatch.cli")


class VoxWatchGroup(TyperGroup):
    """Errors become one line on stderr and an exit status, never a traceback.

    Ours (``VoxWatchError``) exit 2; anything else exits 1 with its traceback in
    the log file. Done in the command group itself, so the installed
    ``voxwatch`` and an in-process ``CliRunner`` behave the same.
    """

    def invoke(self, ctx: Any) -> Any:  # a typer (vendored click) Context
        try:
            return super().invoke(ctx)
        except VoxWatchError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
            ctx.exit(EXIT_ERROR)
        except Exception as exc:
            if type(exc).__module__.startswith(("click", "typer")):  # Exit, Abort, usage errors: click's
                raise
            where = route_tracebacks()
            log.error("unexpected error", exc_info=exc)
            err_console.print(
                f"[bold red]error:[/] unexpected {type(exc).__name__}: {exc} (details in {where})",
                markup=True,
                highlight=False,
            )
            ctx.exit(EXIT_FAILED)


app = typer.Typer(
    cls=VoxWatchGroup,
    help="VoxWatch: watch what the public says about a brand, and answer it well.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logs.")] = False) -> None:
    prepare_environment()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
    )
    for noisy in ("httpx", "httpcore", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def print_summary(summary: dict[str, Any]) -> None:
    table = Table(title="VoxWatch pipeline summary", show_header=False)
    table.add_row("collected mentions", str(summary["collected"]))
    table.add_row("scored", f"{summary['scored']} (model {summary['model_id']})")
    table.add_row("negative", str(summary["negative"]))
    table.add_row("routed cases", str(summary["routed"]))
    table.add_row("dismissed as invalid", str(summary["dismissed"]))
    for owner, count in summary["per_owner"].items():
        table.add_row(f"  routed to {owner}", str(count))
    run = summary["this_run"]
    sources = ", ".join(f"{name}: {value}" for name, value in run["sources"].items())
    table.add_row("this run", f"new per source: {sources}; scored {run['scored']}; routed {run['routed']}")
    console.print(table)


# Streamlit options for every launch, whatever .streamlit folder is (or is not) around:
# users get no Deploy button or developer menu, forms are XSRF-protected, no usage stats.
PRODUCTION_OPTIONS = {
    "server.headless": "true",
    "server.enableXsrfProtection": "true",
    "server.enableCORS": "true",
    "server.runOnSave": "false",
    "server.fileWatcherType": "none",
    "client.toolbarMode": "viewer",
    "client.showErrorDetails": "type",  # exception types only; the details go to the log
    "browser.gatherUsageStats": "false",
}


def dashboard_command(port: int, address: str = "127.0.0.1") -> list[str]:
    """The command that serves the dashboard on ``address``:``port`` with the production options."""
    app_path = resources.files("dashboard").joinpath("app.py")
    options = PRODUCTION_OPTIONS | {"server.address": address, "server.port": str(port)}
    flags = [part for name, value in options.items() for part in (f"--{name}", value)]
    # dashboard.serve is `streamlit run` that never treats pages/ as the old multipage mode.
    return [sys.executable, "-m", "dashboard.serve", "run", str(app_path), *flags]


def launch_dashboard(config: Path, port: int) -> None:
    """Run the Streamlit dashboard in the foreground until interrupted, where settings say to listen.

    The store is migrated first: after an upgrade, the pages read tables the new version adds.
    """
    from voxwatch.store import store_for

    settings = load_settings(config)
    store_for(settings).migrate()
    address = settings.dashboard.address
    env = os.environ | {CONFIG_ENV: str(config.resolve())}
    command = dashboard_command(port, address)
    console.print(f"Dashboard: [bold]http://{address}:{port}[/]  (Ctrl-C to stop)")
    with contextlib.suppress(KeyboardInterrupt):
        subprocess.run(command, env=env, check=False)


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its settings and DuckDB file.")] = Path(
        "voxwatch-demo"
    ),
    no_dashboard: Annotated[bool, typer.Option("--no-dashboard", help="Stop after the summary.")] = False,
    port: Annotated[int, typer.Option(help="Port of the sample-source server (0: any free port).")] = 0,
    dashboard_port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8501,
) -> None:
    """Run the whole pipeline on a bundled sample week, offline, then open the dashboard."""
    from flows.pipeline import pipeline_flow
    from voxwatch.demo.run import demo_sources

    with demo_sources(data_dir, port) as config:
        console.print(f"Sample sources served locally; settings written to {config}")
        summary = pipeline_flow(str(config))
        print_summary(summary)
        console.print(f"Store: {load_settings(config).store.location}")
        console.print(
            "Demo sign-in (password [bold]larkspur-demo[/] for everyone): amy, ben, li (responders), "
            "sara (escalations, also approves), maya (comms lead), grace (supervisor and admin), "
            "erin (executive)"
        )
        console.print(
            f"Command line as a person: [bold]voxwatch users token amy --config {config}[/] (her password), "
            "then export VOXWATCH_TOKEN=<the token> and add --as amy"
        )
        if not no_dashboard:
            launch_dashboard(config, dashboard_port)


def preflight(settings_path: Path, source: str | None = None) -> None:
    """Fail fast, with one clear line, before Prefect starts: settings, the source asked for, the store."""
    from voxwatch.store import store_for

    settings = load_settings(settings_path)
    if source:
        settings.source(source)  # a clear error for a name that is not in settings
    store_for(settings).check()  # a damaged store is reported, never written to
    import prefect  # noqa: F401  (its logging is set up on import; route it before any run)

    route_tracebacks()
    start_prefect_server()


def report_degraded(results: dict[str, int | str]) -> int:
    """One line per degraded source on stderr; the exit status that says whether any was."""
    degraded = {name: result for name, result in results.items() if isinstance(result, str)}
    for name, result in degraded.items():
        err_console.print(f"[yellow]{name}[/]: {result}", markup=True, highlight=False)
    return EXIT_DEGRADED if degraded else EXIT_OK


@app.command("run")
def run_pipeline(
    config: ConfigOption = None,
    source: Annotated[str | None, typer.Option(help="Only this source: collect, score and route it.")] = None,
) -> None:
    """Run the pipeline once: collect -> score -> route. Exit 3 if a source is degraded."""
    from flows.pipeline import pipeline_flow

    settings_path = config_path(config)
    preflight(settings_path, source)
    summary = pipeline_flow(str(settings_path), source)
    print_summary(summary)
    raise typer.Exit(report_degraded(summary["this_run"]["sources"]))


@app.command()
def collect(
    config: ConfigOption = None,
    source: Annotated[str | None, typer.Option(help="Collect only this source.")] = None,
) -> None:
    """Run the collect flow once: fetch new mentions from every source (or one)."""
    from flows.collect import collect_flow

    settings_path = config_path(config)
    preflight(settings_path, source)
    results = collect_flow(str(settings_path), source)
    for name, result in results.items():
        console.print(f"{name}: {result if isinstance(result, str) else f'{result} new mention(s)'}")
    raise typer.Exit(report_degraded(results))


@app.command()
def serve(config: ConfigOption = None) -> None:
    """Keep monitoring: each source's pipeline runs on its own schedule until Ctrl-C."""
    from flows.deployments import serve_settings

    settings_path = config_path(config).resolve()
    preflight(settings_path)
    serve_settings(load_settings(settings_path), str(settings_path))


@app.command()
def deploy(
    pool: Annotated[
        str, typer.Option(help="The Prefect server's work pool that workers serve (made if missing).")
    ],
    config: ConfigOption = None,
) -> None:
    """Register each source's pipeline (plus score and route) with a Prefect server's work pool.

    Then run ``prefect worker start --pool NAME`` on any number of machines with
    VoxWatch installed and this settings file at the same path; they share the
    store at ``[store] url``. ``voxwatch serve`` stays the one-machine mode.
    """
    from flows.deployments import deploy_to_pool

    if not os.environ.get("PREFECT_API_URL"):
        raise typer.BadParameter(
            "deploying needs a Prefect server that workers reach: start one (prefect server start) "
            "and set PREFECT_API_URL"
        )
    settings_path = config_path(config).resolve()
    settings = load_settings(settings_path)
    if settings.store.url is None:
        err_console.print(
            f"warning: the store is the DuckDB file {settings.store.path}; workers on other machines "
            "cannot share it, and two workers here take turns on it. Set [store] url for a team"
        )
    for name in deploy_to_pool(settings, str(settings_path), pool):
        console.print(f"deployed {name} to work pool {pool}")
    console.print(f"now start workers: prefect worker start --pool {pool}")


@app.command()
def dashboard(
    config: ConfigOption = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
) -> None:
    """Open the Streamlit dashboard on the store that settings point at."""
    settings_path = config_path(config)
    load_settings(settings_path)
    launch_dashboard(settings_path, port)


@app.command()
def replay(
    kind: Annotated[str, typer.Argument(help="Connector: rss, jsonld, hackernews, mastodon, appstore.")],
    file: Annotated[Path, typer.Argument(help="A saved response body, or a vcrpy/betamax cassette.")],
) -> None:
    """Run one connector's parser on a saved response; print one JSON object per mention."""
    from voxwatch.cli.replay import replay_file

    for mention in replay_file(kind, file):
        print(
            json.dumps(
                {
                    "external_id": mention.external_id,
                    "url": mention.url,
                    "author": mention.author,
                    "text": mention.text,
                    "published_at": mention.published_at.isoformat() if mention.published_at else None,
                    "rating": mention.rating,
                    "lang": mention.lang,
                },
                ensure_ascii=False,
            )
        )


@app.command()
def score(
    input_file: Annotated[
        Path | None, typer.Option("--input", "-i", help="JSON Lines with a 'text' field (default: stdin).")
    ] = None,
    output_file: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write (default: stdout).")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="A model directory or hub id (default: settings, else shipped)."),
    ] = None,
    config: ConfigOption = None,
    max_line_bytes: Annotated[
        int, typer.Option(help="A longer input line is reported as an error, never read whole.", min=1)
    ] = 1024 * 1024,
) -> None:
    """Score texts: each object comes back with label, probs, lang and model_id.

    Lines that cannot be scored are reported (and written as {"line", "error"});
    the rest are still scored, and the exit status is 1 if any line failed.
    """
    from sentiment.model import load_scorer
    from sentiment.score_file import score_stream
    from voxwatch.settings import ModelSettings

    path = config_path(config)
    model_settings = load_settings(path).model if config or path.is_file() else ModelSettings()
    if model:
        model_settings = model_settings.model_copy(update={"name": model})
    scorer = load_scorer(model_settings)
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(open_input(input_file)) if input_file else sys.stdin.buffer
        sink = stack.enter_context(open_output(output_file)) if output_file else sys.stdout
        report = score_stream(scorer, source, sink, max_line_bytes)
    err_console.print(f"scored {report.scored} line(s) with {scorer.model_id}; {report.failed} failed")
    if report.failed:
        raise typer.Exit(1)


def open_input(path: Path) -> Any:
    try:
        return path.open("rb")
    except OSError as exc:
        raise VoxWatchError(f"cannot read {path}: {exc.strerror}") from exc


def open_output(path: Path) -> Any:
    try:
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise VoxWatchError(f"cannot write {path}: {exc.strerror}") from exc


@app.command()
def report(
    month: Annotated[str, typer.Option(help="YYYY-MM (default: this month).")] = "",
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path(
        "voxwatch-report.html"
    ),
    lang: Annotated[str, typer.Option("--lang", help="The report's language: en or zh.")] = "en",
    config: ConfigOption = None,
) -> None:
    """Write the monthly leader report (indicators, themes, spikes, owners) as HTML."""
    from datetime import UTC, date, datetime

    from insights.report import monthly_figures, render_html
    from sentiment.registry import model_id_for
    from sentiment.themes import theme_labels
    from voxwatch.i18n import LANGUAGES
    from voxwatch.store import store_for

    if lang not in LANGUAGES:
        raise VoxWatchError(f"--lang {lang!r} is not one of {', '.join(LANGUAGES)}")
    try:
        chosen = date.fromisoformat(f"{month}-01") if month else datetime.now(UTC).date()
    except ValueError as exc:
        raise VoxWatchError(f"--month {month!r} is not YYYY-MM") from exc
    settings = load_settings(config_path(config))
    store = store_for(settings)
    store.migrate()  # a store last written by an older version gains the tables the report reads
    figures = monthly_figures(store, settings, model_id_for(settings.model.name), chosen)
    output.write_text(
        render_html(figures, lang, theme_labels(lang, settings.library.themes)), encoding="utf-8"
    )
    console.print(f"wrote {output} ({figures['month']}: {figures['volume']} mentions)")


@app.command("check-store")
def check_store(config: ConfigOption = None) -> None:
    """Read the whole store once, read-only: is it intact? (Nothing is written.)"""
    from voxwatch.store import store_for

    settings = load_settings(config_path(config))
    store = store_for(settings)
    store.check()
    console.print(f"ok: {store.location} " + ("reads back whole" if store.engine == "duckdb" else "answers"))


@app.command("migrate-store")
def migrate_store(
    source: Annotated[str, typer.Option("--from", help="The DuckDB file to move: duckdb:PATH.")],
    target: Annotated[
        str,
        typer.Option(
            "--to",
            help="An empty Postgres database, postgresql://user@host/db (password: VOXWATCH_STORE__PASSWORD)",
        ),
    ],
) -> None:
    """Copy a DuckDB store into an empty Postgres database, every table, counts checked on both sides."""
    from voxwatch.settings import StoreSettings
    from voxwatch.store import DuckDBStore, open_store
    from voxwatch.store.transfer import copy_store

    if not source.startswith("duckdb:"):
        raise typer.BadParameter("give the file as duckdb:PATH", param_hint="--from")
    path = Path(source.removeprefix("duckdb:"))
    if not path.is_file():
        raise typer.BadParameter(f"no DuckDB file at {path}", param_hint="--from")
    copied = copy_store(DuckDBStore(path), open_store(StoreSettings.for_url(target)))
    for table, rows in copied.items():
        console.print(f"{table}: {rows} row(s) copied, the same as in {path}")
    console.print(f"ok: {sum(copied.values())} row(s) now in {target}; set [store] url to use it")


@app.command("check-config")
def check_config(config: ConfigOption = None) -> None:
    """Validate a settings file and say what it configures."""
    settings = load_settings(config_path(config))
    console.print(
        f"ok: {len(settings.sources)} source(s), {len(settings.responders)} responder(s), "
        f"{len(settings.routing.rules)} routing rule(s); store {settings.store.location}"
    )


app.add_typer(users_app, name="users")
app.add_typer(cases_app, name="cases")
app.add_typer(outbox_app, name="outbox")
app.add_typer(templates_app, name="templates")
app.add_typer(authors_app, name="authors")
app.command("route")(route)
app.command("lint")(lint_command)


def run() -> None:
    """The ``voxwatch`` entry point (errors are mapped to exit codes by ``VoxWatchGroup``)."""
    app()
