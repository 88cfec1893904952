"""The ``walkout`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.status import Status
from rich.table import Table
from rich.text import Text
from threadpoolctl import threadpool_limits

from walkout.bench import in_fresh_process, run_replay, run_simulate
from walkout.domain.truth import Receipts, Truth
from walkout.evaluate import SeedResult, evaluate
from walkout.importers.aifi import AifiFormatError, import_aifi
from walkout.plot import PlotError, plot_floor, plot_weight
from walkout.recording import RunFileError, find_recording, read_json, read_people
from walkout.replay import ReplayResult, replay
from walkout.scoring import Score, score
from walkout.sim.run import VisionMode, simulate
from walkout.sim.scenarios import SCENARIOS, get_scenario
from walkout.sim.storegen import Template, generate_store
from walkout.sim.timeline import PersonTrack
from walkout.storefile import StoreFileError, check_store_file, load_store, store_json
from walkout.tracking import score_run

app = typer.Typer(
    help="walkout: a cashier-less store platform: digital twin, fusion engine and tools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
store_app = typer.Typer(help="Work with store files.", no_args_is_help=True)
app.add_typer(store_app, name="store")
import_app = typer.Typer(help="Convert other recordings into walkout runs.", no_args_is_help=True)
app.add_typer(import_app, name="import")
service_app = typer.Typer(help="Administer the store service.", no_args_is_help=True)
app.add_typer(service_app, name="service")
plot_app = typer.Typer(help="Draw pictures of a run to PNG.", no_args_is_help=True)
app.add_typer(plot_app, name="plot")

console = Console()
err_console = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print a one-line error to stderr and return the exit to raise (code 1)."""
    err_console.print(
        Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True
    )
    return typer.Exit(1)


@store_app.command("check")
def store_check(
    file: Annotated[Path, typer.Argument(help="The store file (store.json) to check.")],
) -> None:
    """Validate a store file and report every error with its path."""
    problems = check_store_file(file)
    if problems:
        for p in problems:
            err_console.print(
                f"{file}: {p.render()}", markup=False, highlight=False, soft_wrap=True
            )
        raise fail(f"{len(problems)} problem(s) in {file}")
    console.print(f"{file}: ok", markup=False, highlight=False, soft_wrap=True)


def print_score(result: Score, limit: int = 20) -> None:
    """A table of the scores and the sessions whose receipt is wrong."""
    table = Table(title="receipt score (PROTOCOL section 5)", show_header=False)
    s = result.summary()
    table.add_row("sessions", str(s["sessions"]))
    table.add_row("exact receipts", f"{s['exact']} ({result.exact_rate:.2%})")
    table.add_row("TP / FP / FN", f"{s['tp']} / {s['fp']} / {s['fn']}")
    table.add_row("precision", f"{result.precision:.4f}")
    table.add_row("recall", f"{result.recall:.4f}")
    table.add_row("F1", f"{result.f1:.4f}")
    console.print(table)
    for err in result.errors[:limit]:
        missing = ", ".join(f"{n}×{sku}" for sku, n in err.missing.items()) or "-"
        extra = ", ".join(f"{n}×{sku}" for sku, n in err.extra.items()) or "-"
        note = "" if err.has_receipt else " (no receipt)"
        console.print(
            f"  wrong {err.token}{note}: missing {missing}; extra {extra}", highlight=False
        )
    if len(result.errors) > limit:
        console.print(f"  … and {len(result.errors) - limit} more wrong sessions")


@app.command("score")
def score_cmd(
    truth: Annotated[Path, typer.Option(help="truth.json written by the simulator.")],
    receipts: Annotated[Path, typer.Option(help="receipts.json written by the engine.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the score as JSON.")] = False,
) -> None:
    """Score receipts against the truth: F1, exact receipts, and every wrong session."""
    try:
        result = score(read_json(truth, Truth), read_json(receipts, Receipts))
    except RunFileError as exc:
        raise fail(str(exc)) from None
    if as_json:
        doc = {
            **result.summary(),
            "wrong": [
                {
                    "token": e.token,
                    "missing": e.missing,
                    "extra": e.extra,
                    "has_receipt": e.has_receipt,
                }
                for e in result.errors
            ],
        }
        typer.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
    else:
        print_score(result)


@app.command("score-people")
def score_people_cmd(
    run: Annotated[Path, typer.Argument(help="A run directory written by simulate.")],
    every: Annotated[float, typer.Option(help="Seconds of stream time between samples.")] = 0.2,
    match: Annotated[
        float, typer.Option(help="A track this near a person (m) follows them.")
    ] = 0.5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
    switches: Annotated[int, typer.Option(help="List this many identity switches.")] = 20,
) -> None:
    """Score how the engine follows people (pose or track mode) against the simulator's true
    positions (people.npz): MOTA, IDF1, identity switches and bound identity."""
    if every <= 0 or match <= 0:
        raise fail("--every and --match must be positive")
    try:
        result = score_run(run, every_s=every, match_m=match)
    except (FileNotFoundError, RunFileError, StoreFileError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(orjson.dumps(result.summary(), option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(title="people tracking (CLEAR MOT, IDF1)", show_header=False)
    s = result.summary()
    table.add_row("samples", f"{s['samples']} (every {every:g} s)")
    table.add_row("true person-samples", str(s["truth"]))
    table.add_row("MOTA", f"{result.mota:.4f}")
    table.add_row("IDF1", f"{result.idf1:.4f}")
    table.add_row("identity switches", str(s["id_switches"]))
    table.add_row("misses / false positives", f"{s['misses']} / {s['false_positives']}")
    table.add_row("mean position error", f"{result.mean_error_m:.3f} m")
    table.add_row("bound identity", f"{result.bound_rate:.2%} of {result.bound} samples")
    console.print(table)
    for sw in result.switches[:switches]:
        console.print(
            f"  t={sw.t:.1f}: person {sw.person} went from {sw.before} to {sw.after} "
            f"(nearest other person {sw.nearest_m:.2f} m)",
            highlight=False,
        )
    if len(result.switches) > switches:
        console.print(f"  … and {len(result.switches) - switches} more switches")


RunDir = Annotated[Path, typer.Option("--run", help="A run directory written by simulate.")]


@plot_app.command("weight")
def plot_weight_cmd(
    run: RunDir,
    plate: Annotated[str, typer.Option(help="The plate id to draw.")],
    out: Annotated[Path, typer.Option(help="The PNG to write.")] = Path("weight.png"),
    t0: Annotated[
        float | None,
        typer.Option(help="Start time (default: 5 s before the plate's first true event)."),
    ] = None,
    t1: Annotated[float | None, typer.Option(help="End time (default: 10 s after it).")] = None,
) -> None:
    """Draw a plate's weight trace with the true events marked."""
    try:
        recording = find_recording(run)
        plot_weight(recording, read_json(run / "truth.json", Truth), plate, out, t0, t1)
    except (FileNotFoundError, RunFileError, PlotError) as exc:
        raise fail(str(exc)) from None
    console.print(f"wrote {out}")


@plot_app.command("floor")
def plot_floor_cmd(
    run: Annotated[Path | None, typer.Option("--run", help="A run directory (for people).")] = None,
    store: Annotated[Path | None, typer.Option(help="A store file (default: the run's).")] = None,
    at: Annotated[
        float | None,
        typer.Option(help="Time to show people at (default: the busiest moment of the run)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="The PNG to write.")] = Path("floor.png"),
) -> None:
    """Draw the floor plan with fixtures, cameras and the people at a moment."""
    if store is None and run is None:
        raise fail("give --store or --run")
    try:
        the_store = load_store(store if store is not None else run / "store.json")  # type: ignore[operator]
        people = read_people(run / "people.npz") if run is not None else None
    except (StoreFileError, FileNotFoundError, OSError) as exc:
        raise fail(str(exc)) from None
    if people and at is None:
        at = busiest_moment(people)
    plot_floor(the_store, out, people, at)
    console.print(f"wrote {out}")


@import_app.command("aifi")
def import_aifi_cmd(
    case_dir: Annotated[Path, typer.Argument(help="An AutoCheckout (CPS-IoT Week 2020) case.")],
    out: Annotated[Path, typer.Option(help="The run directory to write.")],
) -> None:
    """Convert an AutoCheckout competition case into store.json and recording.jsonl.gz."""
    try:
        report = import_aifi(case_dir, out)
    except AifiFormatError as exc:
        raise fail(str(exc)) from None
    console.print(
        f"wrote {report.store_path} ({report.products} products, {report.plates} plates) and "
        f"{report.recording_path} ({report.weight_messages} weight, {report.track_messages} "
        f"track, {report.gate_messages} gate messages; {report.t_end - report.t_start:.1f} s)",
        highlight=False,
    )
    for skipped in report.skipped_products:
        console.print(f"  skipped product {skipped.sku} ({skipped.name}): {skipped.reason}")
    for warning in report.warnings:
        console.print(f"  warning: {warning}", highlight=False)


def busiest_moment(people: list[PersonTrack]) -> float:
    """The time at which most people are in the store (the earliest such time)."""
    edges = sorted([(p.t_enter, 1) for p in people] + [(p.t_exit, -1) for p in people])
    best_t, best_n, n = edges[0][0], 0, 0
    for t, d in edges:
        n += d
        if n > best_n:
            best_t, best_n = t, n
    return best_t


@store_app.command("new")
def store_new(
    template: Annotated[Template, typer.Option(help="The kind of store to generate.")],
    out: Annotated[Path, typer.Option(help="The store file to write.")],
    seed: Annotated[int, typer.Option(help="Seed of the product catalogue and planogram.")] = 0,
) -> None:
    """Generate a realistic store file (the examples under examples/stores are these)."""
    store = generate_store(template, seed)
    out.write_bytes(store_json(store))
    console.print(
        f"wrote {out}: {len(store.products)} products, {len(store.plates)} plates, "
        f"{len(store.cameras)} cameras, {len(store.fixtures)} fixtures",
        highlight=False,
    )


@app.command("simulate")
def simulate_cmd(
    store: Annotated[Path, typer.Option(help="The store file to simulate.")],
    out: Annotated[Path, typer.Option(help="The run directory to write.")],
    scenario: Annotated[str, typer.Option(help=f"Preset: {', '.join(SCENARIOS)}.")] = "busy",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same bytes.")] = 0,
    minutes: Annotated[
        float | None, typer.Option(help="Minutes of arrivals (default: the preset's).")
    ] = None,
    shoppers: Annotated[
        int | None, typer.Option(help="Exactly this many shoppers arrive (default: the preset).")
    ] = None,
    vision: Annotated[
        VisionMode, typer.Option(help="pose: per-camera keypoints; track: 3-D people.")
    ] = "pose",
    appearance: Annotated[
        bool,
        typer.Option(help="Pose detections carry appearance descriptors (ADR 14)."),
    ] = True,
) -> None:
    """Simulate shoppers in a store: writes store.json, recording.jsonl.gz and truth.json."""
    try:
        the_store = load_store(store)
        preset = get_scenario(scenario)
    except (StoreFileError, ValueError) as exc:
        raise fail(str(exc)) from None
    if minutes is not None and minutes <= 0:
        raise fail(f"--minutes must be > 0, got {minutes}")
    if shoppers is not None and shoppers < 0:
        raise fail(f"--shoppers must be >= 0, got {shoppers}")
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("simulating", total=None)

        def on_progress(done: float, total: float) -> None:
            bar.update(task, description="rendering sensors", completed=done, total=total)

        summary = simulate(
            the_store,
            preset,
            seed,
            out,
            minutes=minutes,
            shoppers=shoppers,
            vision=vision,
            appearance=appearance,
            progress=on_progress,
        )
    console.print(
        f"wrote {out}: {summary.people} people, {summary.sessions} sessions, "
        f"{summary.events} true events, {summary.lines:,} messages over "
        f"{(summary.end - summary.start) / 60:.1f} simulated minutes in {summary.seconds:.1f} s "
        f"({summary.realtime_ratio:.1f}x real time)",
        highlight=False,
    )


def print_replay(result: ReplayResult) -> None:
    st = result.stats
    console.print(
        f"replayed {result.lines:,} lines ({result.stream_s / 60:.1f} stream minutes) in "
        f"{result.wall_s:.1f} s: {result.realtime_ratio:.1f}x real time; "
        f"{len(result.receipts.receipts)} receipts, review rate {result.review_rate:.1%}; "
        f"rejected {st.rejected}, late {st.late}, shelf events {st.shelf_events} "
        f"(unattributed {st.unattributed}, charged once bound {st.recovered}, "
        f"unexplained {st.unexplained})",
        highlight=False,
    )
    lat = result.cart_latency
    console.print(
        f"cart latency after the lift ends: p50 {lat.p50:.2f} s, p95 {lat.p95:.2f} s "
        f"({lat.count} items)",
        highlight=False,
    )
    if result.receipt_latency is not None and result.receipt_latency.count:
        rl = result.receipt_latency
        console.print(
            f"receipt latency after leaving: p50 {rl.p50:.2f} s, p95 {rl.p95:.2f} s",
            highlight=False,
        )
    if result.score is not None:
        print_score(result.score)


@app.command("replay")
def replay_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run directory: store.json + recording.")],
    out: Annotated[
        Path | None, typer.Option(help="Where to write receipts.json and evidence.jsonl.")
    ] = None,
) -> None:
    """Replay a recording through the engine; score it when truth.json is beside it."""
    try:
        with err_console.status("replaying…") as status:
            result = replay(
                run_dir, out, progress=lambda n: status.update(f"replaying: {n:,} lines")
            )
    except (StoreFileError, FileNotFoundError, RunFileError) as exc:
        raise fail(str(exc)) from None
    print_replay(result)
    console.print(f"wrote {result.out['receipts']} and {result.out['evidence']}", highlight=False)


@app.command("bench")
def bench_cmd(
    store: Annotated[Path, typer.Option(help="The store to benchmark on.")] = Path(
        "examples/stores/grocery.json"
    ),
    scenario: Annotated[str, typer.Option(help="Scenario preset.")] = "busy",
    minutes: Annotated[float, typer.Option(help="Minutes of store time.")] = 60.0,
    vision: Annotated[VisionMode, typer.Option(help="pose or track.")] = "pose",
    seed: Annotated[int, typer.Option(help="Seed of the benchmark run.")] = 2026,
    out: Annotated[Path, typer.Option(help="Where the benchmark run is written.")] = Path(
        "bench-out"
    ),
    phase: Annotated[
        str, typer.Option(help="simulate, replay (of an existing run in --out) or both.")
    ] = "both",
) -> None:
    """Measure the simulator and the engine on a store's hour: x real time and peak memory."""
    if phase not in ("simulate", "replay", "both"):
        raise fail(f"--phase must be simulate, replay or both, not {phase!r}")
    try:
        load_store(store)
        get_scenario(scenario)
    except (StoreFileError, ValueError) as exc:
        raise fail(str(exc)) from None
    results = []
    try:
        if phase in ("simulate", "both"):
            with console.status(f"simulating {minutes:g} min of {scenario} on {store.name}…"):
                results.append(
                    in_fresh_process(run_simulate, store, scenario, seed, out, minutes, vision)
                )
        if phase in ("replay", "both"):
            with console.status(f"replaying {out} through the engine…"):
                results.append(in_fresh_process(run_replay, out))
    except (StoreFileError, FileNotFoundError, RunFileError) as exc:
        raise fail(str(exc)) from None
    table = Table(title=f"walkout bench: {store.name}, {scenario}, {minutes:g} min, {vision}")
    for column in ("phase", "stream min", "wall s", "cpu s", "x real time", "peak MB", "lines"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            r.name,
            f"{r.stream_s / 60:.1f}",
            f"{r.wall_s:.1f}",
            f"{r.cpu_s:.1f}",
            f"{r.ratio:.2f}",
            f"{r.peak_mb:.0f}",
            f"{r.lines:,}",
        )
    console.print(table)


@app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option(help="The demo's run directory.")] = Path("demo-out"),
    store: Annotated[Path, typer.Option(help="The store to run.")] = Path(
        "examples/stores/corner.json"
    ),
    scenario: Annotated[str, typer.Option(help="Scenario preset.")] = "busy",
    minutes: Annotated[float, typer.Option(help="Minutes of arrivals.")] = 3.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    vision: Annotated[
        VisionMode,
        typer.Option(
            help="What the cameras send: 'track' (people from an overhead tracker) or 'pose' "
            "(keypoints the engine triangulates; weaker in crowds, see docs/benchmarks.md)."
        ),
    ] = "track",
    port: Annotated[
        int, typer.Option(help="Port of the store service (a free one if it is taken).")
    ] = 8000,
    speed: Annotated[
        float | None,
        typer.Option(help="Play the store at this many times real time (default: at once)."),
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Keep the API up until Ctrl-C.")
    ] = True,
    busy: Annotated[
        bool,
        typer.Option(
            "--busy/--no-busy",
            help="While the API is up, keep new shoppers coming in real time (a new seed each "
            "round).",
        ),
    ] = True,
) -> None:
    """The whole store: shoppers, the engine live, the service, payments and receipts.

    Shoppers with accounts and ledger cards enter through the service's gates, the engine
    runs live and feeds the service, which takes payments; each visit's receipt is printed
    next to the truth, then the API stays up (unless --no-serve) with the store kept busy.
    """
    import threading

    import httpx

    from walkout.demo import (
        PASSWORD,
        DemoError,
        LiveRun,
        keep_busy,
        receipts_table,
        run_store,
        running_service,
    )

    if speed is not None and speed <= 0:
        raise fail("--speed must be positive")
    console.rule(f"walkout demo: {scenario} store, {minutes:g} minutes of shoppers")
    simulate_cmd(
        store=store,
        out=out,
        scenario=scenario,
        seed=seed,
        minutes=minutes,
        shoppers=None,
        vision=vision,
    )
    truth = read_json(out / "truth.json", Truth)
    plot_floor_cmd(run=out, store=None, at=None, out=out / "floor.png")
    picks = [e for e in truth.events if e.kind == "pick"]
    if picks:
        plot_weight_cmd(run=out, plate=picks[0].plate, out=out / "weight.png", t0=None, t1=None)
    the_store = load_store(out / "store.json")
    console.rule("the store service, its gates and the engine, live")
    with running_service(out / "service", store, port) as service:
        console.print(f"store service at {service.url} (data in {out / 'service'})")
        try:
            with console.status("signing shoppers up…") as status:
                result = run_store(
                    service,
                    out,
                    the_store,
                    truth,
                    find_recording(out),
                    speed=speed,
                    progress=lambda n, r: status.update(f"live: {n:,} lines, {r} receipts"),
                )
        except DemoError as exc:
            raise fail(str(exc)) from None
        live = result.live
        console.print(
            f"played {live.lines:,} lines ({live.stream_s / 60:.1f} stream minutes) in "
            f"{live.wall_s:.1f} s; {len(live.visits)} visits admitted at the gate, "
            f"{sum(live.outcomes.values())} cart events in {live.batches} batches "
            f"({', '.join(f'{n} {k}' for k, n in sorted(live.outcomes.items()))})"
            + (f"; refused at the gate: {live.refused}" if live.refused else ""),
            highlight=False,
        )
        console.print(receipts_table(result))
        captured = result.captured
        console.print(
            f"ledger: {len(captured)} payments captured, "
            f"{sum(e.captured for e in captured) / 100:.2f} in all",
            highlight=False,
        )
        print_score(result.score)
        console.print(f"wrote {out / 'receipts.json'} (the service's receipts)", highlight=False)
        accounts = result.accounts
        console.print(
            f"API {service.url} · docs {service.url}/docs\n"
            f"shopper app {service.url}/app/ · be the shopper {accounts.you.email}"
            + (" (they shop in every round of the busy store)" if serve and busy else "")
            + f"\nstaff console {service.url}/staff/ · staff {accounts.staff.email} · "
            f"manager {accounts.manager.email}"
            + (f" · a simulated shopper {result.shopper.email}" if result.shopper else "")
            + f"\npassword {PASSWORD!r} for every account",
            highlight=False,
        )
        if serve:
            stop = threading.Event()

            def played(round_no: int, live: LiveRun) -> None:
                console.print(
                    f"busy store, round {round_no}: {len(live.visits)} visits, "
                    f"{sum(live.outcomes.values())} cart events",
                    highlight=False,
                )

            def run_busy() -> None:
                try:
                    keep_busy(
                        service, accounts, the_store, out / "busy", stop,
                        scenario=scenario, seed=seed, vision=vision, report=played,
                    )  # fmt: skip
                except (DemoError, httpx.HTTPError) as exc:  # reported; the API stays up
                    if not stop.is_set():
                        console.print(f"the busy store stopped: {exc}", highlight=False)

            worker = threading.Thread(target=run_busy, name="busy-store", daemon=True)
            if busy:
                worker.start()
            console.print(
                "serving until Ctrl-C" + (" (new shoppers keep coming)…" if busy else "…")
            )
            service.serve_until_interrupted()
            stop.set()
            if busy:
                worker.join(timeout=15)


@app.command("serve")
def serve_cmd(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the store's API (OpenAPI at /openapi.json).

    Embedded defaults (SQLite, the built-in payment ledger) unless WALKOUT_* settings say
    otherwise, e.g. WALKOUT_DATABASE_URL=postgresql+psycopg://... for PostgreSQL.
    """
    from walkout.service.app import cli_serve

    cli_serve(port=port, host=host)


@service_app.command("add-account")
def add_account_cmd(
    email: Annotated[str, typer.Option(help="The person's e-mail address.")],
    role: Annotated[str, typer.Option(help="shopper, staff or manager.")] = "manager",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create an account (the store's first manager is made this way)."""
    from walkout.service.accounts.schemas import PersonRole
    from walkout.service.app import cli_add_account
    from walkout.service.models import Role

    if role not in ("shopper", "staff", "manager"):
        raise fail(f"--role must be shopper, staff or manager, not {role!r}")
    try:
        account = cli_add_account(email, password, cast(PersonRole, Role(role)))
    except ValueError as exc:
        raise fail(str(exc)) from None
    console.print(f"created {role} account {account} for {email}", highlight=False)


def _run_files(path: Path) -> tuple[Path, Path]:
    """The recording and the store file of a run directory, or of a recording file (whose
    store.json is beside it)."""
    if path.is_dir():
        return find_recording(path), path / "store.json"
    return path, path.parent / "store.json"


@app.command("publish")
def publish_cmd(
    recording: Annotated[Path, typer.Argument(help="A run directory or a recording file.")],
    mqtt: Annotated[str, typer.Option(help="The broker.")] = "mqtt://127.0.0.1:1883",
    speed: Annotated[
        float, typer.Option(help="Times real time; 0 for as fast as the broker takes them.")
    ] = 1.0,
    store_id: Annotated[
        str | None, typer.Option(help="Store id of the topics (default: the run's store.json).")
    ] = None,
) -> None:
    """Play a recording to an MQTT broker as the store's devices would (the simulator as a
    device fleet): each message on walkout/<store>/<type>/<source>, QoS 1, in time order."""
    from walkout.adapters.devices import DeviceTransportError, publish_recording

    try:
        path, store_file = _run_files(recording)
        store = store_id or load_store(store_file).id
        with Status(f"publishing {path} to {mqtt}", console=err_console):
            sent = publish_recording(path, mqtt, store, speed=speed or None)
    except (OSError, StoreFileError, ValueError, DeviceTransportError) as exc:
        raise fail(str(exc)) from None
    console.print(
        f"published {sent.published} messages to {mqtt} (store {store}); "
        f"skipped {sent.skipped} malformed lines",
        highlight=False,
    )


@app.command("run-engine")
def run_engine_cmd(
    store: Annotated[Path, typer.Option(help="The store file.")],
    mqtt: Annotated[
        str | None, typer.Option(help="Read the devices on this broker (mqtt://host:port).")
    ] = None,
    recording: Annotated[
        Path | None, typer.Option(help="Read a recording instead (then finish the engine).")
    ] = None,
    event_log: Annotated[
        str | None,
        typer.Option(
            help="Append cart events to this NATS JetStream (nats://host:port); "
            "default: print them as JSON lines."
        ),
    ] = None,
    speed: Annotated[
        float | None, typer.Option(help="With --recording: times real time (default: at once).")
    ] = None,
    idle_finish: Annotated[
        float | None,
        typer.Option(
            help="Finish the engine and stop after this many seconds without a "
            "message (batch runs and tests; a live store never goes quiet)."
        ),
    ] = None,
    client_id: Annotated[
        str | None, typer.Option(help="MQTT client id (default walkout-engine-<store>).")
    ] = None,
) -> None:
    """Run the fusion engine on a store's devices: sensor messages in, cart events out to the
    event log, until stopped (Ctrl-C, SIGTERM) or the recording ends."""
    import asyncio

    from walkout.adapters.devices import DeviceTransportError
    from walkout.adapters.eventlog import EventLogError
    from walkout.adapters.runner import run_store

    if (mqtt is None) == (recording is None):
        raise fail("give one of --mqtt (live devices) and --recording")
    try:
        the_store = load_store(store)
        report = asyncio.run(
            run_store(
                the_store,
                mqtt=mqtt,
                recording=recording,
                event_log=event_log,
                speed=speed,
                idle_finish_s=idle_finish,
                client_id=client_id,
                ready=lambda what: err_console.print(
                    f"reading {what}", highlight=False, soft_wrap=True
                ),
            )
        )
    except (OSError, StoreFileError, ValueError, DeviceTransportError, EventLogError) as exc:
        raise fail(str(exc)) from None
    runner, source = report.runner, report.source
    err_console.print(
        f"{runner.messages} messages ({source.rejected_total} rejected: {source.rejected or '-'}; "
        f"{source.duplicates} repeats dropped); {runner.events} cart events, {runner.stored} "
        f"stored, {runner.duplicates} already in the log; "
        f"{'finished' if runner.finished else 'stopped, visits left open'}",
        highlight=False,
        soft_wrap=True,
    )


def parse_seeds(spec: str) -> list[int]:
    """``1000-1004`` or ``7,9,12`` (or a mix) as a list of seeds."""
    seeds: list[int] = []
    for part in spec.split(","):
        lo, dash, hi = part.strip().partition("-")
        if not lo.isdigit() or (dash and not hi.isdigit()):
            raise ValueError(f"seeds must look like 1000-1004 or 7,9,12, not {spec!r}")
        seeds += range(int(lo), int(hi) + 1) if dash else [int(lo)]
    return seeds


@app.command("evaluate")
def evaluate_cmd(
    scenario: Annotated[
        list[str] | None, typer.Option(help="Preset(s) to evaluate (default: all four).")
    ] = None,
    seeds: Annotated[str, typer.Option(help="Seeds, e.g. 1000-1004 or 7,9,12.")] = "1000-1002",
    minutes: Annotated[
        float | None, typer.Option(help="Minutes of arrivals (default: the preset's).")
    ] = None,
    vision: Annotated[VisionMode, typer.Option(help="pose or track.")] = "pose",
    store: Annotated[Path, typer.Option(help="The store.")] = Path("examples/stores/corner.json"),
    out: Annotated[Path, typer.Option(help="Where the runs are written.")] = Path("eval-out"),
    appearance: Annotated[
        bool,
        typer.Option(help="Pose detections carry appearance descriptors (ADR 14)."),
    ] = True,
) -> None:
    """Scored scenarios: simulate fresh seeds, replay them, and pool the engine's scores."""
    try:
        the_store = load_store(store)
        presets = [get_scenario(name) for name in (scenario or list(SCENARIOS))]
        seed_list = parse_seeds(seeds)
    except (StoreFileError, ValueError) as exc:
        raise fail(str(exc)) from None
    table = Table(title=f"scored scenarios: {store.name}, seeds {seeds}, {vision}")
    for column in (
        "preset",
        "sessions",
        "F1",
        "exact",
        "review rate",
        "wrong unflagged",
        "cart p95 s",
        "receipt p95 s",
    ):
        table.add_column(column, justify="right")
    people = Table(title="how the engine followed people (walkout score-people)")
    for column in ("preset", "MOTA", "IDF1", "identity switches", "untracked", "error m"):
        people.add_column(column, justify="right")
    for preset in presets:
        with console.status(f"{preset.name}…") as status:

            def on_seed(r: SeedResult, name: str = preset.name, bar: Status = status) -> None:
                bar.update(f"{name}: seed {r.seed}: F1 {r.score.f1:.4f}")

            result = evaluate(
                the_store, preset, seed_list, out, minutes, vision, on_seed, appearance
            )
        table.add_row(
            preset.name,
            str(result.sessions),
            f"{result.f1:.4f}",
            f"{result.exact_rate:.1%}",
            f"{result.review_rate:.1%}",
            f"{result.unflagged_wrong_rate:.2%}",
            f"{result.cart_p95:.2f}",
            f"{result.receipt_p95:.2f}",
        )
        tracking = result.tracking
        people.add_row(
            preset.name,
            f"{tracking.mota:.3f}",
            f"{tracking.idf1:.3f}",
            str(len(tracking.switches)),
            f"{tracking.misses / tracking.truth if tracking.truth else 0.0:.1%}",
            f"{tracking.mean_error_m:.3f}",
        )
    console.print(table)
    console.print(people)


def main() -> None:
    # The engine's matrices are small: a BLAS thread pool gains nothing on them and its
    # threads spin, and on a busy machine wait for cores (ADR 16), so BLAS runs on one thread.
    with threadpool_limits(limits=1, user_api="blas"):
        app()
