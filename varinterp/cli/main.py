"""The `varinterp` command: a typer app with one sub-app per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from varinterp import __version__
from varinterp.cli import (
    atac,
    attribute,
    bench,
    crescendo,
    data,
    deconvolve,
    deconvolve_inputs,
    demo,
    elements,
    finemap,
    genome,
    get,
    link,
    modeling,
    models,
    motifs,
    report,
    score,
    simulate,
    train,
    train_bpaitac,
)
from varinterp.cli._common import ErrorHandlingGroup
from varinterp.cli._conventions import apply_conventions

app = typer.Typer(
    cls=ErrorHandlingGroup,
    name="varinterp",
    help=(
        "From genetic variants to mechanisms: personal diploid genomes from VCFs, "
        "sequence-to-function models, variant effects, deconvolution, ABC links, "
        "fine-mapping and locus reports.\n\n"
        "Coordinates are 0-based half-open inside (BED style); VCF positions are 1-based "
        "at the boundary. Exit codes: 0 ok, 1 failed run, 2 bad usage or bad input."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"varinterp {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """varinterp: variant interpretation from personal genomes to locus reports."""


_GENOMES = "Personal genomes"
_MODELS = "Sequence-to-function models"
_EFFECTS = "Variant effects"
_MECHANISMS = "Cell types and mechanisms"
_MORE = "Data, simulation and demo"

deconvolve.app.command("pseudobulk")(deconvolve_inputs.pseudobulk)
deconvolve.app.command("preflight")(deconvolve_inputs.preflight)
train.app.command("bpaitac")(train_bpaitac.bpaitac)
train.app.command("tn5-bias")(train_bpaitac.tn5_bias)

app.add_typer(genome.app, name="genome", rich_help_panel=_GENOMES)
app.add_typer(train.app, name="train", rich_help_panel=_MODELS)
app.command("finetune", rich_help_panel=_MODELS)(modeling.finetune)
app.command("evaluate", rich_help_panel=_MODELS)(modeling.evaluate)
app.add_typer(models.app, name="models", rich_help_panel=_MODELS)
app.add_typer(get.app, name="get", rich_help_panel=_MODELS)
app.add_typer(crescendo.app, name="crescendo", rich_help_panel=_MODELS)
app.command("score", rich_help_panel=_EFFECTS)(score.score_command)
app.add_typer(bench.app, name="bench", rich_help_panel=_EFFECTS)
app.command("attribute", rich_help_panel=_EFFECTS)(attribute.attribute_command)
app.add_typer(atac.app, name="atac", rich_help_panel=_MODELS)
app.add_typer(deconvolve.app, name="deconvolve", rich_help_panel=_MECHANISMS)
app.add_typer(elements.app, name="elements", rich_help_panel=_MECHANISMS)
app.add_typer(link.app, name="link", rich_help_panel=_MECHANISMS)
app.add_typer(motifs.app, name="motifs", rich_help_panel=_MECHANISMS)
app.command("finemap", rich_help_panel=_MECHANISMS)(finemap.finemap_command)
app.add_typer(report.app, name="report", rich_help_panel=_MECHANISMS)
app.add_typer(data.app, name="data", rich_help_panel=_MORE)
app.add_typer(simulate.app, name="simulate", rich_help_panel=_MORE)
app.command("demo", rich_help_panel=_MORE)(demo.demo)
apply_conventions(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
