"""``varinterp data``: list, fetch, verify and locate the public datasets of the papers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar
from varinterp.cli._options import Quiet, Verbose

app = typer.Typer(
    help=(
        "Public datasets described by the manifests shipped with varinterp (reference genome, "
        "1000 Genomes VCFs, PRO-cap, ENCODE, MPRA tables, CLIPNET weights, GWAS, ABC "
        "resources). 'list' shows each with what it feeds; 'fetch' downloads into the cache "
        "($VARINTERP_DATA, default ~/.cache/varinterp) with resume, retries and checksum "
        "checks before anything lands; 'verify' re-checks cached files; 'path' prints where "
        "a file is, for use in other commands' options."
    ),
    no_args_is_help=True,
)

Manifests = Annotated[
    Path | None,
    typer.Option(
        "--manifests",
        metavar="DIR",
        help=(
            "Folder of *.toml manifests (default: $VARINTERP_MANIFESTS or the manifests "
            "installed with varinterp, data_manifests/ in the repository)."
        ),
    ),
]
Cache = Annotated[
    Path | None,
    typer.Option(
        "--cache",
        metavar="DIR",
        help="Cache folder (default: $VARINTERP_DATA or ~/.cache/varinterp).",
    ),
]


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # pragma: no cover


@app.command("list")
def list_cmd(
    manifests: Manifests = None,
    cache: Cache = None,
    verbose: Verbose = False,
) -> None:
    """Show every dataset: what it is, which command and option it feeds, size, licence,
    and how many of its files are in the cache."""
    from varinterp.manifests import list_datasets

    rows = list_datasets(manifest_dir=manifests, cache=cache)
    for row in rows:
        size = _size(row.known_bytes) if row.known_bytes else ""
        if row.n_unknown_size:
            size = (size + " + " if size else "") + f"{row.n_unknown_size} of unknown size"
        files = f"{row.n_files}" + (f" ({row.n_optional} optional)" if row.n_optional else "")
        console.print(f"[bold]{row.name}[/]  {row.title}")
        for feed in row.feeds:
            console.print(f"    feeds: {feed}")
        console.print(f"    files: {files}; size: {size}; cached: {row.n_present}")
        if verbose:
            console.print(f"    licence: {row.licence}")
    console.print(f"{len(rows)} datasets")


@app.command("fetch")
def fetch_cmd(
    names: Annotated[list[str], typer.Argument(help="Dataset names (see 'varinterp data list').")],
    file: Annotated[
        list[str] | None,
        typer.Option(
            "--file",
            "-f",
            metavar="PATTERN",
            help="Only files matching this pattern (repeatable).",
        ),
    ] = None,
    include_optional: Annotated[
        bool, typer.Option("--all", help="Also fetch the files marked optional.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be downloaded; touch nothing.")
    ] = False,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh",
            help="Download again even when cached, and re-record checksums of sources "
            "that publish none (for 'latest' releases that change).",
        ),
    ] = False,
    retries: Annotated[
        int, typer.Option("--retries", min=0, help="Retries per URL after a transient error.")
    ] = 4,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1.0, help="Network time-out in seconds.")
    ] = 60.0,
    manifests: Manifests = None,
    cache: Cache = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Download datasets into the cache. Interrupted downloads resume; each file's size
    and md5 are checked before it is moved into place; archives are unpacked safely."""
    from varinterp.manifests import fetch

    def show(outcome) -> None:
        if not quiet or dry_run:
            tag = {"downloaded": "[green]fetched[/green]", "cached": "cached"}.get(
                outcome.action, outcome.action
            )
            console.print(f"{tag} {outcome.dataset}/{outcome.name}: {outcome.detail}")

    with progress_bar("downloading", quiet=quiet or dry_run) as on_progress:
        result = fetch(
            names=names,
            files=file,
            include_optional=include_optional,
            dry_run=dry_run,
            refresh=refresh,
            manifest_dir=manifests,
            cache=cache,
            retries=retries,
            timeout=timeout,
            on_progress=on_progress,
            on_file=show,
        )
    if not quiet and not dry_run:
        n = sum(o.action == "downloaded" for o in result.outcomes)
        cached = sum(o.action == "cached" for o in result.outcomes)
        console.print(
            f"{n} file(s) downloaded ({_size(result.downloaded_bytes)}), {cached} already cached"
        )


@app.command("verify")
def verify_cmd(
    names: Annotated[
        list[str] | None, typer.Argument(help="Datasets to check (default: all cached).")
    ] = None,
    manifests: Manifests = None,
    cache: Cache = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Re-read cached files and compare size, md5 and sha256 with the manifest and with
    what was recorded at download. Exit code 1 when a file is missing or differs."""
    from varinterp.manifests import verify

    with progress_bar("verifying", quiet=quiet) as on_progress:
        result = verify(names=names, manifest_dir=manifests, cache=cache, on_progress=on_progress)
    for o in result.outcomes:
        if o.action in ("mismatch", "missing") or not quiet:
            colour = {"ok": "green", "mismatch": "red", "missing": "red"}.get(o.action, "yellow")
            console.print(f"[{colour}]{o.action}[/{colour}] {o.dataset}/{o.name}: {o.detail}")
    if not result.ok:
        console.print(f"{len(result.problems)} problem(s); rerun 'varinterp data fetch' to repair")
        raise typer.Exit(1)
    if not quiet:
        console.print(f"{len(result.outcomes)} file(s) checked, no problems")


@app.command("path")
def path_cmd(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    file: Annotated[
        str | None,
        typer.Argument(help="File inside the dataset (default: the dataset folder)."),
    ] = None,
    manifests: Manifests = None,
    cache: Cache = None,
    verbose: Verbose = False,
) -> None:
    """Print the absolute path of a fetched dataset or file, e.g.
    --fasta "$(varinterp data path hg38 hg38.fa)". Exit code 2 when it is not fetched."""
    from varinterp.manifests import path

    typer.echo(str(path(name=name, file=file, manifest_dir=manifests, cache=cache).resolve()))
