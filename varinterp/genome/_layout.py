"""The store's variant and genotype arrays: written in a stream, read memory-mapped.

**Genotypes, sparse where rare and dense where common.** Each variant's carriers (the
haplotypes ``2 * sample + h`` that carry its ALT) are kept in whichever of three forms is
smallest: the sorted list of carriers (``gt_kind`` 0), the sorted list of the haplotypes
that do *not* carry it (1, for ALT frequencies near 1), or a dense row of bits (2). A
list entry takes 2 bytes (4 past 65,536 haplotypes) and a dense row ``2 * ceil(n / 8)``
bytes, so rows are dense above an ALT frequency of 1/16 and below 15/16. Most variants
of a cohort are rare, so the store is about the size of the VCF.gz (see
``docs/genome_store.md``) while any one genotype is still found in O(log carriers)
without decompressing anything.

**Overlaps, resolved once.** As the variants of a contig stream in (sorted), each
haplotype's carried variants are checked the way ``bcftools consensus`` applies them: a
variant starting at or before the last REF base of the one applied before it on that
haplotype is dropped from that haplotype, except an indel whose first base is the VCF
padding base starting exactly on that last base (not after an insertion). The stored
carriers are what is applied; ``overlapping_calls_dropped`` counts the rest.

**Streaming.** `ContigWriter` appends each chunk's arrays to raw part files; `assemble`
joins the parts of every contig into the ``.npy`` files. Memory is one chunk plus two
numbers per haplotype, whatever the number of variants.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np

from varinterp.errors import InputError
from varinterp.io.readers import load_npy

__all__ = [
    "ARRAYS",
    "Chunk",
    "ContigWriter",
    "assemble",
    "carriers",
    "hap_dtype",
    "load",
    "load_v1",
    "unphased_samples",
]

KIND_CARRIERS, KIND_NONCARRIERS, KIND_DENSE = 0, 1, 2

# name -> (dtype or None for the haplotype dtype, trailing shape key, is an offsets array)
ARRAYS = {
    "positions": ("int64", None),
    "ref_len": ("int32", None),
    "alt_offsets": ("int64", "offsets"),
    "alt_bases": ("uint8", None),
    "gt_kind": ("uint8", None),
    "gt_offsets": ("int64", "offsets"),
    "gt_haps": (None, None),
    "dense_row": ("int32", "rows"),
    "gt_dense": ("uint8", "dense"),
    "unphased_offsets": ("int64", "offsets"),
    "unphased": ("uint32", None),
}


def hap_dtype(n_samples: int) -> np.dtype:
    """Haplotype ids fit uint16 up to 32,768 samples, else uint32."""
    return np.dtype(np.uint16 if 2 * n_samples <= 1 << 16 else np.uint32)


@dataclass
class Chunk:
    """Variants of one contig, in position order: ``pos (m,) int64``, ``ref_len (m,) int32``,
    ``alt (m,)`` lists of base codes, ``ids``, carriers as CSR (``hap_offsets (m + 1,)``,
    ``haps`` sorted ids per variant), unphased heterozygous samples as CSR, and per
    variant ``padded`` (an indel whose first ALT base is REF's)."""

    pos: list[int] = field(default_factory=list)
    ref_len: list[int] = field(default_factory=list)
    alt: list[np.ndarray] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    padded: list[bool] = field(default_factory=list)
    haps: list[np.ndarray] = field(default_factory=list)
    unphased: list[np.ndarray] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pos)


@numba.njit(nogil=True, cache=True)
def _resolve(pos, rlen, padded, is_ins, offsets, haps, frz, prev_ins, keep):
    # bcftools consensus's overlap rule per haplotype; frz/prev_ins carry across chunks.
    for v in range(pos.shape[0]):
        for k in range(offsets[v], offsets[v + 1]):
            h = haps[k]
            f = frz[h]
            if pos[v] > f or (pos[v] == f and padded[v] and not prev_ins[h]):
                keep[k] = True
                frz[h] = pos[v] + rlen[v] - 1
                prev_ins[h] = is_ins[v]
            else:
                keep[k] = False


class ContigWriter:
    """Append the variants of one contig (sorted) to raw part files in `folder`."""

    def __init__(self, folder: Path, contig: str, n_samples: int) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.contig = contig
        self.n_samples = n_samples
        self.n_haps = 2 * n_samples
        self.n_bytes = (n_samples + 7) // 8
        self.dtype = hap_dtype(n_samples)
        self.frz = np.full(max(self.n_haps, 1), -1, dtype=np.int64)
        self.prev_ins = np.zeros(max(self.n_haps, 1), dtype=np.bool_)
        self.files = {name: (self.folder / f"{name}.bin").open("wb") for name in ARRAYS}
        self.ids = (self.folder / "variant_ids.txt").open("w")
        self.n = self.n_alt = self.n_gt = self.n_dense = self.n_unphased = 0
        self.max_span = 1
        self.last_pos = -1
        self.dropped = 0

    def add(self, chunk: Chunk) -> None:
        """Resolve overlaps and append `chunk`; an unsorted contig is an `InputError`."""
        m = len(chunk)
        if not m:
            return
        pos = np.asarray(chunk.pos, dtype=np.int64)
        if pos[0] < self.last_pos or (m > 1 and (np.diff(pos) < 0).any()):
            bad = int(pos[np.flatnonzero(np.diff(np.r_[self.last_pos, pos]) < 0)[0]])
            msg = (
                f"the VCF is not sorted at {self.contig}:{bad + 1}; the store is built in one "
                "pass: sort it first (bcftools sort -Oz -W -o sorted.vcf.gz in.vcf.gz)"
            )
            raise InputError(msg)
        self.last_pos = int(pos[-1])
        rlen = np.asarray(chunk.ref_len, dtype=np.int32)
        alen = np.array([a.size for a in chunk.alt], dtype=np.int64)
        offsets = np.zeros(m + 1, dtype=np.int64)
        np.cumsum([h.size for h in chunk.haps], out=offsets[1:])
        haps = np.concatenate(chunk.haps).astype(np.int64) if offsets[-1] else np.zeros(0, np.int64)
        keep = np.ones(haps.size, dtype=np.bool_)
        _resolve(
            pos, rlen.astype(np.int64), np.asarray(chunk.padded, dtype=np.bool_),
            alen > rlen, offsets, haps, self.frz, self.prev_ins, keep,
        )  # fmt: skip
        self.dropped += int((~keep).sum())

        kinds = np.empty(m, dtype=np.uint8)
        gt_counts = np.zeros(m, dtype=np.int64)
        dense_rows = np.full(m, -1, dtype=np.int32)
        lists, dense = [], []
        dense_cost = 2 * self.n_bytes
        for v in range(m):
            kept = haps[offsets[v] : offsets[v + 1]][keep[offsets[v] : offsets[v + 1]]]
            k = kept.size
            cost = self.dtype.itemsize * min(k, self.n_haps - k)
            if cost <= dense_cost:
                if k <= self.n_haps - k:
                    kinds[v] = KIND_CARRIERS
                    lists.append(kept)
                else:
                    kinds[v] = KIND_NONCARRIERS
                    mask = np.ones(self.n_haps, dtype=np.bool_)
                    mask[kept] = False
                    kept = np.flatnonzero(mask)
                    lists.append(kept)
                gt_counts[v] = kept.size
            else:
                kinds[v] = KIND_DENSE
                bits = np.zeros((2, self.n_bytes * 8), dtype=np.bool_)
                bits[kept & 1, kept >> 1] = True
                dense.append(np.packbits(bits, axis=-1, bitorder="little"))
                dense_rows[v] = self.n_dense + len(dense) - 1
        unph_counts = np.array([u.size for u in chunk.unphased], dtype=np.int64)

        write = self._write
        write("positions", pos)
        write("ref_len", rlen)
        write("alt_offsets", self.n_alt + np.cumsum(alen)[:])
        write("alt_bases", np.concatenate(chunk.alt).astype(np.uint8))
        write("gt_kind", kinds)
        write("gt_offsets", self.n_gt + np.cumsum(gt_counts))
        if lists:
            write("gt_haps", np.concatenate(lists).astype(self.dtype))
        write("dense_row", dense_rows)
        if dense:
            write("gt_dense", np.stack(dense))
        write("unphased_offsets", self.n_unphased + np.cumsum(unph_counts))
        if unph_counts.sum():
            write("unphased", np.concatenate(chunk.unphased).astype(np.uint32))
        self.ids.write("".join(f"{i}\n" for i in chunk.ids))
        self.n += m
        self.n_alt += int(alen.sum())
        self.n_gt += int(gt_counts.sum())
        self.n_dense += len(dense)
        self.n_unphased += int(unph_counts.sum())
        self.max_span = max(self.max_span, int(rlen.max()))

    def _write(self, name: str, arr: np.ndarray) -> None:
        np.ascontiguousarray(arr, dtype=ARRAYS[name][0] or self.dtype).tofile(self.files[name])

    def close(self) -> dict:
        """Close the part files; returns this contig's sizes (for `assemble`)."""
        for fh in self.files.values():
            fh.close()
        self.ids.close()
        return {
            "contig": self.contig,
            "folder": str(self.folder),
            "n": self.n,
            "n_alt": self.n_alt,
            "n_gt": self.n_gt,
            "n_dense": self.n_dense,
            "n_unphased": self.n_unphased,
            "max_span": self.max_span,
            "dropped": self.dropped,
        }


def _npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_2_0(
        buf, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def assemble(parts: list[dict], out: Path, n_samples: int) -> int:
    """Join the contigs' part files (in order) into the store's ``.npy`` files; returns
    the number of variants. Offsets and dense rows are rebased contig by contig."""
    dtype = hap_dtype(n_samples)
    n_bytes = (n_samples + 7) // 8
    totals = {k: sum(p[k] for p in parts) for k in ("n", "n_alt", "n_gt", "n_dense", "n_unphased")}
    n = totals["n"]
    lengths = {
        "positions": n, "ref_len": n, "alt_offsets": n + 1, "alt_bases": totals["n_alt"],
        "gt_kind": n, "gt_offsets": n + 1, "gt_haps": totals["n_gt"], "dense_row": n,
        "gt_dense": totals["n_dense"], "unphased_offsets": n + 1,
        "unphased": totals["n_unphased"],
    }  # fmt: skip
    rebase = {"alt_offsets": "n_alt", "gt_offsets": "n_gt", "unphased_offsets": "n_unphased"}
    for name, (dt, kind) in ARRAYS.items():
        dt = np.dtype(dt or dtype)
        shape = (lengths[name], 2, n_bytes) if kind == "dense" else (lengths[name],)
        with (out / f"{name}.npy").open("wb") as dst:
            dst.write(_npy_header(dt, shape))
            if kind == "offsets":
                np.zeros(1, dtype=dt).tofile(dst)
            base = {k: 0 for k in ("n_alt", "n_gt", "n_dense", "n_unphased")}
            for p in parts:
                src = Path(p["folder"]) / f"{name}.bin"
                if name in rebase or name == "dense_row":
                    arr = np.fromfile(src, dtype=dt)
                    if name == "dense_row":
                        arr = np.where(arr >= 0, arr + base["n_dense"], -1).astype(dt)
                    else:
                        arr = arr + base[rebase[name]]
                    arr.tofile(dst)
                else:
                    with src.open("rb") as fh:
                        shutil.copyfileobj(fh, dst, 1 << 22)
                for k in base:
                    base[k] += p[k]
    with (out / "variant_ids.txt").open("w") as dst:
        for p in parts:
            with (Path(p["folder"]) / "variant_ids.txt").open() as fh:
                shutil.copyfileobj(fh, dst, 1 << 22)
    return n


def _load_npy(path: Path) -> np.ndarray:
    """A numeric array of a store, memory-mapped; a missing, truncated or garbled file is
    an `InputError` naming it."""
    try:
        return load_npy(path, "genome store array", mmap_mode="r")
    except InputError:  # an empty array cannot be memory-mapped; a damaged one fails again
        return load_npy(path, "genome store array")


def load(path: Path, meta: dict) -> dict[str, np.ndarray]:
    """The arrays of a version-2 store, memory-mapped."""
    return {name: _load_npy(path / f"{name}.npy") for name in ARRAYS}


def load_v1(path: Path, meta: dict) -> dict[str, np.ndarray]:
    """A version-1 store (SNVs, dense bits) seen through the version-2 arrays.

    Version 1 left overlaps to the kernel (the first SNV at a position wins on a
    haplotype); here later SNVs at a repeated position become carrier lists with the
    earlier carriers removed, so the kernels need no special case.
    """
    positions = _load_npy(path / "positions.npy")
    alleles = _load_npy(path / "alleles.npy")
    dense = _load_npy(path / "genotypes.npy")
    n = positions.shape[0]
    n_samples = len(meta["samples"])
    kinds = np.full(n, KIND_DENSE, dtype=np.uint8)
    rows = np.arange(n, dtype=np.int32)
    counts = np.zeros(n, dtype=np.int64)
    lists: list[np.ndarray] = []
    pos = np.asarray(positions)
    starts = {c["var_start"] for c in meta["contigs"]}
    repeated = [v for v in np.flatnonzero(np.diff(pos) == 0) + 1 if v not in starts]
    in_run = set(repeated)
    run_start: dict[int, int] = {}
    for v in repeated:  # ascending: the run's first variant wins on a haplotype
        run_start[v] = run_start[v - 1] if v - 1 in in_run else v - 1
        earlier = np.zeros(2 * n_samples, dtype=np.bool_)
        for u in range(run_start[v], v):
            earlier |= _dense_carriers(dense[u], n_samples).reshape(-1, order="F")
        mine = _dense_carriers(dense[v], n_samples).reshape(-1, order="F") & ~earlier
        kinds[v] = KIND_CARRIERS
        rows[v] = -1
        counts[v] = int(mine.sum())
        lists.append(np.flatnonzero(mine).astype(np.uint32))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return {
        "positions": positions,
        "ref_len": np.ones(n, dtype=np.int32),
        "alt_offsets": np.arange(n + 1, dtype=np.int64),
        "alt_bases": np.ascontiguousarray(alleles[:, 1]) if n else np.zeros(0, np.uint8),
        "gt_kind": kinds,
        "gt_offsets": offsets,
        "gt_haps": np.concatenate(lists) if lists else np.zeros(0, dtype=np.uint32),
        "dense_row": rows,
        "gt_dense": dense,
        "v1_phased": path / "phased.npy",
    }


def _dense_carriers(row: np.ndarray, n_samples: int) -> np.ndarray:
    """A dense row ``(2, n_bytes)`` -> ``(2, n_samples) bool``; ``.reshape(-1, order="F")``
    gives haplotype-id order."""
    return np.unpackbits(np.asarray(row), axis=-1, bitorder="little")[:, :n_samples].astype(bool)


def carriers(gt: dict, v: int, n_samples: int) -> np.ndarray:
    """``(2, n_samples) bool``: haplotype h of sample s carries variant `v`'s ALT."""
    kind = int(gt["gt_kind"][v])
    if kind == KIND_DENSE:
        return _dense_carriers(gt["gt_dense"][int(gt["dense_row"][v])], n_samples)
    listed = np.zeros(2 * n_samples, dtype=bool)
    lo, hi = gt["gt_offsets"][v], gt["gt_offsets"][v + 1]
    listed[np.asarray(gt["gt_haps"][lo:hi], dtype=np.int64)] = True
    if kind == KIND_NONCARRIERS:
        listed = ~listed
    return listed.reshape(n_samples, 2).T.copy()


def unphased_samples(path: Path, meta: dict, gt: dict) -> np.ndarray:
    """``(n_samples,) bool``: the sample has an unphased heterozygous call somewhere."""
    n_samples = len(meta["samples"])
    cached = gt.get("_unphased_samples")
    if cached is not None:
        return cached
    out = np.zeros(n_samples, dtype=bool)
    if "v1_phased" in gt:
        phased = _load_npy(Path(gt["v1_phased"]))
        if phased.shape[0]:
            bits = np.unpackbits(np.asarray(phased), axis=-1, bitorder="little")[:, :n_samples]
            out = ~bits.all(axis=0).astype(bool)
    else:
        listed = np.asarray(gt["unphased"])
        out[np.unique(listed)] = True
    gt["_unphased_samples"] = out
    return out


def read_meta(path: Path) -> dict:
    """``meta.json`` of a store folder."""
    return json.loads((path / "meta.json").read_text())
