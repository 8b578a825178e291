"""varinterp: from genetic variants to mechanistic hypotheses.

Personal diploid genomes from VCFs, sequence-to-function models, variant effect scores,
deconvolution of bulk tracks, ABC enhancer-gene links, fine-mapping and locus reports.

The curated API is imported on first use (``import varinterp as vi`` loads nothing
heavy)::

    import varinterp as vi

    store = vi.GenomeStore.open("cohort.vgs")          # personal genomes
    model = vi.load_model("models/clipnet-demo")       # any registered family
    effects = vi.score_frame(model, variants, fasta="genome.fa")

``docs/python.md`` walks through personal genomes, scoring, fine-mapping and a locus
report; `API` lists every name with the module it comes from.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from varinterp import _moved

try:
    __version__ = version("varinterp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

_moved.install()

#: public name -> "module:attribute" (imported on first use).
API: dict[str, str] = {
    # personal genomes
    "GenomeStore": "varinterp.genome.store:GenomeStore",
    "build_store": "varinterp.genome.build:build_store",
    "realign_tracks": "varinterp.genome.realign:realign_tracks",
    "export_sequences": "varinterp.genome.export:export_sequences",
    # models: the registry, the model-directory format, the engine, family recipes
    "Architecture": "varinterp.training.registry:Architecture",
    "OutputSpec": "varinterp.training.registry:OutputSpec",
    "register_architecture": "varinterp.training.registry:register_architecture",
    "architectures": "varinterp.training.registry:architectures",
    "load_model": "varinterp.training.inference:load_model",
    "save_model_dir": "varinterp.training.modeldir:save_model_dir",
    "upgrade_model_dir": "varinterp.training.modeldir:upgrade_model_dir",
    "fit": "varinterp.training.engine:fit",
    "Loss": "varinterp.training.engine:Loss",
    "FitSettings": "varinterp.training.settings:FitSettings",
    "OptimizerSettings": "varinterp.training.settings:OptimizerSettings",
    "train": "varinterp.models:train",
    "finetune": "varinterp.models:finetune",
    "evaluate": "varinterp.models:evaluate",
    # deconvolution of bulk tracks (DeepDETAILS): windows, the bulk's response, training
    "prepare_deconvolution": "varinterp.deconv.run:prepare_data",
    "estimate_bulk_response": "varinterp.deconv.contributions:estimate_response",
    "train_deconvolution": "varinterp.models.deepdetails.train:train_deconv",
    "predict_deconvolution": "varinterp.deconv.predict:predict_tracks",
    # single-cell multiome (cREscENDO): 10x matrices, preparation, training, cRE activity
    "read_10x_h5": "varinterp.io.tenx:read_10x_h5",
    "prepare_multiome": "varinterp.models.crescendo.prep:prepare_multiome",
    "train_crescendo": "varinterp.models.crescendo.train:train_crescendo",
    "cre_activity": "varinterp.models.crescendo.activity:cre_activity",
    # variant effects
    "score_frame": "varinterp.effects.frame:score_frame",
    "score_variants": "varinterp.effects.score:score_variants",
    "qtl_benchmark": "varinterp.effects.qtl:qtl_benchmark",
    "mpra_benchmark": "varinterp.effects.mpra:mpra_benchmark",
    # regulatory interpretation, fine-mapping, reports
    "call_elements": "varinterp.regulatory.elements:call_elements",
    "link_abc": "varinterp.regulatory.abc_run:link_abc",
    "finemap": "varinterp.finemap",
    "locus_report": "varinterp.report.locus:locus_report",
    "scan_peaks": "varinterp.motifs.pipeline:scan_peaks",
    "train_get_model": "varinterp.models.get.pipeline:train_get_model",
    # simulated worlds
    "simulate_world": "varinterp.simulate.store:simulate_world",
    "simulate_gwas": "varinterp.simulate.gwas:simulate_gwas_folder",
    "simulate_expression": "varinterp.simulate.expression:simulate_expression",
    "simulate_multiome": "varinterp.simulate.multiome_files:simulate_multiome",
    "simulate_atac": "varinterp.simulate.atac_writers:simulate_atac",
    # ATAC reads -> per-cell-type Tn5 insertion tracks (bpAI-TAC's inputs)
    "count_insertions": "varinterp.atac.insertions:count_insertions",
}

__all__ = ["API", "__version__", *sorted(API)]


def __getattr__(name: str) -> Any:
    if name == "finemap":  # the subpackage is callable: it is `varinterp.finemap.run.finemap`
        return importlib.import_module("varinterp.finemap")
    target = API.get(name)
    if target is None:
        msg = f"module 'varinterp' has no attribute {name!r}"
        raise AttributeError(msg)
    module, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(API))
