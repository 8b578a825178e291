"""Write a simulated ATAC world to a folder (atomically), and `simulate_atac` (both steps).

Files (BED 0-based half-open; VCF and TSV positions 1-based where named ``pos``):

``reference.fa`` / ``.fai``, ``chrom.sizes``   the genome with its planted OCRs
``fragments.tsv.gz`` / ``.tbi``                 fragments ``chrom start end barcode count``,
                                                  already Tn5-shifted (as 10x writes them:
                                                  insertions at ``start`` and ``end - 1``)
``barcodes.tsv``                                ``barcode<TAB>cell_type`` of the cells
                                                  (ambient barcodes are absent)
``ocrs.bed``                                    the OCRs' counted windows (BED6, name = id)
``background.bed``                              closed regions (Tn5 background only)
``ocrs.tsv``                                    per OCR: id, program, sites, expected counts
                                                  per cell type (columns ``exp:<cell type>``)
``sites.tsv``                                   every factor site (0-based start/end)
``cell_types.tsv``                              cell type, lineage, depth, occupancy per factor
``variants.vcf.gz`` / ``.tbi``                  the designed SNPs (sites only)
``variant_effects.tsv``                         one row per SNP and cell type: ``id chrom pos
                                                  ref alt kind tf lineage cell_type
                                                  tf_active log2fc`` (truth)
``atac.json``                                   parameters, counts and MD5 of every file

The same parameters always give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.io.atomic import atomic_dir, check_output
from varinterp.progress import ProgressCallback
from varinterp.simulate.atac import AtacParams, AtacWorld, make_atac_world
from varinterp.simulate.atac_model import LINEAGES, TFS
from varinterp.simulate.celltypes_atac import Fragments, write_fragments
from varinterp.simulate.motifs import decode

__all__ = ["AtacFiles", "simulate_atac", "write_atac_world"]

_LINE = 60
#: occupancy above which a factor counts as active in a cell type (truth tables)
ACTIVE = 0.3


@dataclass(frozen=True)
class AtacFiles:
    """Paths of a written ATAC world."""

    out_dir: Path
    fasta: Path
    chrom_sizes: Path
    fragments: Path
    barcodes: Path
    ocrs_bed: Path
    background_bed: Path
    ocrs: Path
    sites: Path
    cell_types: Path
    variants_vcf: Path
    variant_effects: Path
    manifest: Path


def _files(out: Path) -> AtacFiles:
    return AtacFiles(
        out_dir=out,
        fasta=out / "reference.fa",
        chrom_sizes=out / "chrom.sizes",
        fragments=out / "fragments.tsv.gz",
        barcodes=out / "barcodes.tsv",
        ocrs_bed=out / "ocrs.bed",
        background_bed=out / "background.bed",
        ocrs=out / "ocrs.tsv",
        sites=out / "sites.tsv",
        cell_types=out / "cell_types.tsv",
        variants_vcf=out / "variants.vcf.gz",
        variant_effects=out / "variant_effects.tsv",
        manifest=out / "atac.json",
    )


def _write_fasta(world: AtacWorld, path: Path) -> None:
    import pyfaidx

    with path.open("w", encoding="ascii", newline="\n") as fh:
        for name, seq in world.reference.sequences.items():
            text = decode(seq)
            fh.write(f">{name}\n")
            fh.write("\n".join(text[i : i + _LINE] for i in range(0, len(text), _LINE)) + "\n")
    pyfaidx.Faidx(str(path)).close()


def _write_vcf(world: AtacWorld, path: Path) -> None:
    import pysam

    lines = ["##fileformat=VCFv4.2", "##source=varinterp.simulate.atac", "##reference=reference.fa"]
    lines += [f"##contig=<ID={n},length={ln}>" for n, ln in world.reference.lengths.items()]
    lines.append('##INFO=<ID=TF,Number=1,Type=String,Description="Factor whose site it breaks">')
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    for v in world.variants.itertuples():
        lines.append(f"{v.chrom}\t{v.pos0 + 1}\t{v.id}\t{v.ref}\t{v.alt}\t.\tPASS\tTF={v.tf}")
    plain = path.with_suffix("")
    plain.write_text("\n".join(lines) + "\n", encoding="ascii")
    written = pysam.tabix_index(str(plain), preset="vcf", force=True)
    if Path(written) != path:  # pragma: no cover
        Path(written).replace(path)


def _tsv(table: pd.DataFrame, path: Path) -> None:
    table.to_csv(path, sep="\t", index=False, lineterminator="\n", float_format="%.6g")


def _tables(world: AtacWorld, f: AtacFiles) -> None:
    ref = world.reference
    f.chrom_sizes.write_text("".join(f"{c}\t{n}\n" for c, n in ref.lengths.items()))
    bc = pd.DataFrame({"barcode": world.barcodes, "cell_type": world.barcode_cell_type})
    bc = bc[bc["cell_type"] != ""]
    bc.to_csv(f.barcodes, sep="\t", index=False, header=False, lineterminator="\n")
    o = world.ocrs
    bed = pd.DataFrame(
        {"chrom": o["chrom"], "start": o["start"], "end": o["end"], "name": o["ocr_id"],
         "score": 0, "strand": "."}
    )  # fmt: skip
    bed.to_csv(f.ocrs_bed, sep="\t", index=False, header=False, lineterminator="\n")
    world.background.to_csv(
        f.background_bed, sep="\t", index=False, header=False, lineterminator="\n"
    )
    sites = world.sites.groupby("ocr_id")["tf"].agg(lambda s: ",".join(s))
    table = o.assign(sites=o["ocr_id"].map(sites).fillna(""))
    for k, ct in enumerate(world.cell_types):
        table[f"exp:{ct}"] = world.expected[:, k]
    _tsv(table, f.ocrs)
    _tsv(world.sites, f.sites)
    cts = pd.DataFrame(
        {"cell_type": world.cell_types, "lineage": world.lineages, "depth": world.depth}
    )
    for j, tf in enumerate(TFS):
        cts[f"occ:{tf}"] = world.activity[:, j]
    _tsv(cts, f.cell_types)
    v = world.variants
    n_ct = len(world.cell_types)
    rows = v.loc[v.index.repeat(n_ct)].reset_index(drop=True)
    rows["pos"] = rows.pop("pos0") + 1
    rows["cell_type"] = np.tile(world.cell_types, len(v))
    tf_idx = [TFS.index(t) if t in TFS else -1 for t in v["tf"]]
    active = [[bool(j >= 0 and world.activity[c, j] > ACTIVE) for c in range(n_ct)] for j in tf_idx]
    rows["tf_active"] = np.asarray(active, dtype=bool).reshape(-1)
    rows["log2fc"] = world.effects.reshape(-1)
    cols = ["id", "chrom", "pos", "ref", "alt", "kind", "tf", "lineage", "ocr_id", "cell_type",
            "tf_active", "log2fc"]  # fmt: skip
    _tsv(rows[cols], f.variant_effects)


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_atac_world(
    world: AtacWorld, out: str | os.PathLike, *, overwrite: bool = False
) -> AtacFiles:
    """Write `world` into the folder `out` atomically (module docstring)."""
    out = Path(out)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        f = _files(tmp)
        _write_fasta(world, f.fasta)
        fr = world.fragments
        write_fragments(
            Fragments(
                contigs=world.reference.names,
                contig=fr["contig"],
                start=fr["start"],
                end=fr["end"],
                cell=fr["barcode"],
                count=np.ones(fr["start"].size, dtype=np.int64),
                barcodes=world.barcodes,
                cell_type=world.barcode_cell_type,
            ),
            f.fragments,
        )
        _tables(world, f)
        _write_vcf(world, f.variants_vcf)
        n_ins = {
            ct: int(sum(c.sum() for _, c in per.values())) for ct, per in world.insertions.items()
        }
        doc = {
            "params": asdict(world.params),
            "lineages": {k: {"tfs": list(t), "cell_types": list(c)} for k, (t, c) in
                         LINEAGES.items()},
            "counts": {
                "ocrs": len(world.ocrs),
                "background_regions": len(world.background),
                "sites": len(world.sites),
                "variants": len(world.variants),
                "fragments": int(fr["start"].size),
                "insertions": n_ins,
            },
            "md5": {
                p.name: _md5(p)
                for p in sorted(tmp.iterdir())
                if p.is_file() and p.name != "atac.json"
            },
        }  # fmt: skip
        f.manifest.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return _files(out)


def simulate_atac(
    *,
    out: str | os.PathLike,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    **params,
) -> tuple[AtacWorld, AtacFiles]:
    """Draw an ATAC world with `params` (`AtacParams` fields) and write it to `out`."""
    out = check_output(out)
    if out.exists() and not overwrite:
        from varinterp.errors import InputError

        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    world = make_atac_world(AtacParams(**params), on_progress=on_progress)
    return world, write_atac_world(world, out, overwrite=overwrite)
