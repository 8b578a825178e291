"""GET's variant scorer: a SNV changes the motifs of its peak, and so each gene's prediction.

For each SNV inside a peak of the model's inputs, the peak is rescanned
(`varinterp.motifs.features.score_regions`, the scan settings and motif set saved with
the features) with the reference allele and with the alternative allele (the sequence of
the FASTA, or of a person in a genome store), both rows normalised on the saved column
scale; every gene whose gene-centred window holds the peak is predicted with each row,
in every chosen cell type (task) where the peak is accessible.

One row per variant, cell type and gene (``frame_columns`` plus GET's own columns)::

    chrom pos id ref alt scorer task gene peak quantity_ref quantity_alt log2fc ...
    expression_ref expression_alt expression_delta flags

``quantity_*`` are TPM (``10 ** prediction - 1``), ``log2fc`` is ``log2((alt + pc) / (ref
+ pc))`` with the pseudocount ``pc``, ``expression_*`` the predictions in ``log10(TPM +
1)`` and their difference; profile, directionality and TSS columns are NaN. ``peak`` is
``chrom:start-end`` (1-based start). Flags: ``outside_peaks`` (no peak holds the SNV),
``no_gene`` (no gene window holds the peak in that cell type), ``ref_mismatch`` (the
FASTA's base differs from REF), else ``.``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from varinterp.effects.frame import ID_COLUMNS
from varinterp.effects.scores import SCORE_COLUMNS
from varinterp.errors import InputError
from varinterp.genome.encoding import one_hot
from varinterp.io.contigs import harmonize_contig
from varinterp.io.fasta import Reference
from varinterp.models.get.data import GetData
from varinterp.models.get.predict import gene_predictions
from varinterp.motifs.features import score_regions
from varinterp.progress import report

__all__ = ["GET_COLUMNS", "score_get_variants"]

GET_COLUMNS = (
    *ID_COLUMNS,
    "task",
    "gene",
    "peak",
    *SCORE_COLUMNS,
    "expression_ref",
    "expression_alt",
    "expression_delta",
    "flags",
)
_BASES = "ACGT"


def _inputs(ens) -> tuple[GetData, int, bool]:
    cached = getattr(ens, "_get_inputs", None)
    if cached is None:
        from varinterp.models.get.files import load_get_data

        g = ens.model_dir.metadata.get("get", {})
        cached = (
            load_get_data(ens.model_dir.path),
            int(g.get("n_regions", 200)),
            bool(g.get("binary_atac", False)),
        )
        ens._get_inputs = cached
    return cached


def _genes_holding(data: GetData, k: int, region: int, n_regions: int) -> list[int]:
    chrom = data.regions["chrom"].iloc[region]
    rows = data.genes["region"].to_numpy(np.int64)
    out = []
    for g in np.flatnonzero(data.genes["chrom"].astype(str).to_numpy() == chrom):
        if rows[g] < 0:
            continue
        w, at = data.gene_window(k, int(rows[g]), n_regions)
        if at >= 0 and region in set(w.tolist()):
            out.append(int(g))
    return out


def _allele_rows(
    data: GetData, region: int, pos0: int, alt: str, reference: Reference, store, sample
) -> tuple[np.ndarray, str]:
    feats = data.features
    chrom, start, end = data.regions.iloc[region][["chrom", "start", "end"]]
    if store is not None:
        seq = store.windows(sample, [chrom], [int(start)], int(end - start)).astype(np.float32) / 2
    else:
        name = harmonize_contig(str(chrom), reference.lengths, source="peaks")
        seq = one_hot(reference.codes(name, int(start), int(end))[None]).astype(np.float32)
    ref_base = (
        _BASES[int(seq[0, :, pos0 - start].argmax())] if seq[0, :, pos0 - start].any() else "N"
    )
    alt_seq = seq.copy()
    alt_seq[0, :, pos0 - start] = 0.0
    alt_seq[0, _BASES.index(alt), pos0 - start] = 1.0
    both = np.concatenate([seq, alt_seq])
    raw, _ = score_regions(
        both,
        np.full(2, int(end - start)),
        motifs=feats.motifs,
        cluster_of=feats.cluster_of,
        n_clusters=len(feats.clusters),
        settings=feats.settings,
    )
    return feats.normalise(raw), ref_base


def score_get_variants(
    ens,
    variants: pd.DataFrame,
    *,
    fasta,
    store=None,
    sample=None,
    pseudocount: float = 1e-3,
    tasks=None,
    batch_size=None,
    on_progress=None,
    **_options: Any,
) -> pd.DataFrame:
    """Score `variants` (``chrom``, ``pos`` 1-based or ``pos0``, ``ref``, ``alt``, ``id``)
    with a GET model (module docstring); `tasks` picks cell types."""
    data, n_regions, binary = _inputs(ens)
    reference = fasta if isinstance(fasta, Reference) else Reference(fasta)
    if store is not None and not hasattr(store, "windows"):
        from varinterp.genome.store import GenomeStore

        store = GenomeStore.open(store)
    names = list(ens.tasks)
    chosen = names if tasks is None else list(tasks)
    unknown = [t for t in chosen if t not in names]
    if unknown:
        raise InputError(
            f"--tasks {', '.join(unknown)}: the model's cell types are {', '.join(names)}"
        )
    models = list(ens.models.values())
    pos0s = (
        variants["pos0"].to_numpy(np.int64)
        if "pos0" in variants
        else variants["pos"].to_numpy(np.int64) - 1
    )
    region_names = set(data.regions["chrom"].astype(str))
    rows: list[dict[str, Any]] = []
    for i, v in enumerate(variants.itertuples(index=False)):
        chrom, pos0 = str(v.chrom), int(pos0s[i])
        ref, alt = str(v.ref).upper(), str(v.alt).upper()
        if ref not in _BASES or alt not in _BASES or ref == alt:
            raise InputError(
                f"variant {chrom}:{pos0 + 1} {ref}>{alt} is not a SNV; score SNVs only"
            )
        ident = {
            "chrom": chrom,
            "pos": pos0 + 1,
            "id": str(getattr(v, "id", ".")),
            "ref": ref,
            "alt": alt,
            "scorer": "ensemble",
        }
        try:
            c = harmonize_contig(chrom, region_names)
        except InputError:
            c = None
        hit = (
            np.array([], np.int64)
            if c is None
            else np.flatnonzero(
                (data.regions["chrom"].to_numpy() == c)
                & (data.regions["start"].to_numpy() <= pos0)
                & (data.regions["end"].to_numpy() > pos0)
            )
        )
        if hit.size == 0:
            rows += [
                {**ident, "task": t, "gene": ".", "peak": ".", "flags": "outside_peaks"}
                for t in chosen
            ]
            report(on_progress, i + 1, len(variants))
            continue
        for region in hit:
            r = int(region)
            allele_rows, ref_base = _allele_rows(data, r, pos0, alt, reference, store, sample)
            reg = data.regions.iloc[r]
            peak = f"{reg['chrom']}:{int(reg['start']) + 1}-{int(reg['end'])}"
            flag = "ref_mismatch" if ref_base != ref else "."
            for t in chosen:
                k = data.type_index(t)
                genes = _genes_holding(data, k, r, n_regions)
                if not genes:
                    rows.append({**ident, "task": t, "gene": ".", "peak": peak, "flags": "no_gene"})
                    continue
                kw = {
                    "n_regions": n_regions,
                    "device": ens.device,
                    "binary_atac": binary,
                    "batch_size": batch_size or 32,
                }
                e_ref = gene_predictions(
                    models, data, k, genes, motif_rows={r: allele_rows[0]}, **kw
                )
                e_alt = gene_predictions(
                    models, data, k, genes, motif_rows={r: allele_rows[1]}, **kw
                )
                q_ref, q_alt = 10.0**e_ref - 1.0, 10.0**e_alt - 1.0
                for j, g in enumerate(genes):
                    rows.append(
                        {
                            **ident,
                            "task": t,
                            "gene": str(data.genes["gene"].iloc[g]),
                            "peak": peak,
                            "quantity_ref": q_ref[j],
                            "quantity_alt": q_alt[j],
                            "log2fc": float(
                                np.log2(
                                    (max(q_alt[j], 0) + pseudocount)
                                    / (max(q_ref[j], 0) + pseudocount)
                                )
                            ),
                            "expression_ref": e_ref[j],
                            "expression_alt": e_alt[j],
                            "expression_delta": e_alt[j] - e_ref[j],
                            "flags": flag,
                        }
                    )
        report(on_progress, i + 1, len(variants))
    table = pd.DataFrame(rows)
    return table.reindex(columns=list(GET_COLUMNS))
