"""The bad-input table: one valid invocation (`_commands.VALID`) with one thing broken.

Every case must end with exit code 2, at most one line on stderr, no traceback, and no
new file where the command writes. A command added to the app needs cases here (the
sweep fails, naming it, when one has none).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.reliability._breakers import (
    Breaker,
    as_folder,
    empty,
    garbage,
    in_copy,
    json_edit,
    missing,
    plain_text,
    rewrite,
    truncated,
    under_file,
)

__all__ = ["CASES", "Case"]

Edit = Callable[[list[str], Path], list[str]]


@dataclass(frozen=True)
class Case:
    command: str
    label: str
    edit: Edit
    #: False when root can write anywhere and the case cannot be staged
    as_root: bool = True
    #: an output-location case: the message must name the option (--out)
    output: bool = False
    #: words the message must hold one of (default: the name of a file the case broke)
    expect: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.command}: {self.label}"


def _value_index(args: list[str], option: str, nth: int) -> int:
    hits = [i for i, a in enumerate(args) if a == option]
    if len(hits) <= nth:
        raise KeyError(f"{option} (occurrence {nth}) not in {args}")
    return hits[nth] + 1


def swap(option: str, breaker: Breaker, *, nth: int = 0) -> Edit:
    """Break the path given to `option` (``NAME=path`` and ``path,path`` values: the
    first path); ``option`` ``"#N"`` is the N-th positional argument."""

    def edit(args: list[str], work: Path) -> list[str]:
        args = list(args)
        if option.startswith("#"):
            i = [k for k, a in enumerate(args) if not a.startswith("-")][int(option[1:])]
        else:
            i = _value_index(args, option, nth)
        value = args[i]
        prefix, sep, rest = value.rpartition("=")
        path_part = rest if sep else value
        first, comma, others = path_part.partition(",")
        broken = breaker(Path(first), work)
        with (work / "broken.txt").open("a") as fh:
            fh.write(f"{broken}\n")
        args[i] = f"{prefix}{sep}{broken}{comma}{others}"
        return args

    return edit


def setopt(option: str, value: str | Callable[[Path], str]) -> Edit:
    """Set `option` to `value` (added when absent); a callable gets the work folder."""

    def edit(args: list[str], work: Path) -> list[str]:
        args = list(args)
        text = value(work) if callable(value) else value
        if option in args:
            args[args.index(option) + 1] = text
        else:
            args += [option, text]
        return args

    return edit


def add(*extra: str) -> Edit:
    def edit(args: list[str], work: Path) -> list[str]:
        return [*args, *extra]

    return edit


def chain(*edits: Edit) -> Edit:
    def edit(args: list[str], work: Path) -> list[str]:
        for e in edits:
            args = e(args, work)
        return args

    return edit


def prefilled_out(option: str, make: Callable[[Path], None]) -> Edit:
    """An existing output folder for `option`, made by `make(folder)` (resume inputs)."""

    def edit(args: list[str], work: Path) -> list[str]:
        i = _value_index(args, option, 0)
        make(Path(args[i]))
        return args

    return edit


def _write(name: str, text: str | bytes) -> Callable[[Path], str]:
    def make(work: Path) -> str:
        path = work / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return str(path)

    return make


CASES: list[Case] = []


def case(
    command: str,
    label: str,
    edit: Edit,
    *,
    as_root: bool = True,
    output: bool = False,
    expect: tuple[str, ...] = (),
) -> None:
    CASES.append(Case(command, label, edit, as_root, output, expect))


def file_cases(
    command: str, option: str, breakers: Sequence[Breaker], *, what: str = "", nth: int = 0
) -> None:
    for breaker in breakers:
        case(command, f"{what or option} {breaker.__name__}", swap(option, breaker, nth=nth))


# ---------------------------------------------------------------- text edits
def _lines(edit: Callable[[list[str]], list[str]], name: str) -> Breaker:
    return rewrite(lambda t: "\n".join(edit(t.splitlines())) + "\n", name=name)


def _records(edit: Callable[[list[str]], list[str]], name: str, **kw) -> Breaker:
    """Edit a VCF's record lines (header kept)."""

    def apply(text: str) -> str:
        lines = text.splitlines()
        head = [x for x in lines if x.startswith("#")]
        body = [x for x in lines if not x.startswith("#")]
        return "\n".join(head + edit(body)) + "\n"

    return rewrite(apply, name=name, **kw)


def _col(line: str, k: int, value: str) -> str:
    cols = line.split("\t")
    cols[k] = value
    return "\t".join(cols)


vcf_wrong_contig = _records(
    lambda b: [_col(x, 0, "chrZ") for x in b if x.startswith("chr1\t")],
    "records on contig chrZ",
    index=True,
)
vcf_ref_mismatch = _records(
    lambda b: [
        _col(b[0], 3, {"A": "C", "C": "G", "G": "T", "T": "A"}[b[0].split("\t")[3]]),
        *b[1:],
    ],
    "REF mismatch",
    index=True,
)
vcf_unsorted = _records(lambda b: b[::-1], "unsorted records")
vcf_past_end = _records(lambda b: [_col(b[0], 1, "999999999"), *b[1:]], "POS past contig end")
vcf_short_record = _records(
    lambda b: ["\t".join(b[0].split("\t")[:3]), *b[1:]], "record with 3 columns"
)
vcf_no_header = rewrite(
    lambda t: "\n".join(x for x in t.splitlines() if not x.startswith("#")) + "\n",
    name="no header",
)


def _first_bed_line(edit: Callable[[list[str]], list[str]], name: str) -> Breaker:
    """Change the columns of the first BED line (its other columns kept)."""
    return _lines(lambda ls: ["\t".join(edit(ls[0].split("\t"))), *ls[1:]], name)


def _cols(values: dict[int, str]) -> Callable[[list[str]], list[str]]:
    return lambda cols: [values.get(k, c) for k, c in enumerate(cols)]


bed_reversed = _first_bed_line(_cols({1: "500", 2: "100"}), "start > end")
bed_not_numbers = _first_bed_line(_cols({1: "ten", 2: "twenty"}), "text coordinates")
bed_negative = _first_bed_line(_cols({1: "-100"}), "negative start")
bed_wrong_contig = _first_bed_line(_cols({0: "chrZ"}), "contig chrZ")
bed_past_end = _lines(
    lambda ls: ["\t".join(_cols({0: "chr1", 1: "90000000", 2: "90000100"})(ls[0].split("\t")))],
    "region past contig end",
)
tsv_no_rows = _lines(lambda ls: ls[:1], "header only")
tsv_drop_first_column = _lines(lambda ls: ["\t".join(x.split("\t")[1:]) for x in ls], "column gone")
toml_unknown_key = rewrite(lambda t: t + "epochz = 3\n", name="unknown key")
toml_wrong_type = rewrite(
    lambda t: t.replace("batch_size = 16", 'batch_size = "sixteen"'), name="wrong type"
)
toml_not_toml = rewrite(lambda t: t.replace("[data]", "[data"), name="not TOML")
toml_store_missing = rewrite(
    lambda t: t.replace("cohort.vgs", "no-such-store.vgs"), name="store path missing"
)
toml_sheet_missing = rewrite(
    lambda t: t.replace("sheet.tsv", "no-such-sheet.tsv"), name="sample sheet missing"
)
fasta_renamed = rewrite(lambda t: t.replace(">chr", ">contig"), name="other contig names")
fasta_not_fasta = rewrite(lambda t: "\n".join(t.splitlines()[1:]) + "\n", name="no > header")


def _stale_fai(src: Path, work: Path) -> Path:
    path = work / "in" / src.name
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, path)
    Path(f"{path}.fai").write_text("chr1\t999\t6\t60\t61\nchrX\tzz\n")
    return path


_stale_fai.__name__ = "stale .fai"


def _npy_object(src: Path, work: Path) -> Path:
    path = work / "in" / src.name
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    return path


_npy_object.__name__ = "object array"


def _nan_values(col: str) -> Breaker:
    def edit(text: str) -> str:
        lines = text.splitlines()
        head = lines[0].split("\t")
        k = head.index(col)
        rows = [_col(lines[1], k, "nan"), *lines[2:]]
        return "\n".join([lines[0], *rows]) + "\n"

    return rewrite(edit, name=f"{col} NaN")


def _text_values(col: str) -> Breaker:
    def edit(text: str) -> str:
        lines = text.splitlines()
        k = lines[0].split("\t").index(col)
        return "\n".join([lines[0], _col(lines[1], k, "high"), *lines[2:]]) + "\n"

    return rewrite(edit, name=f"{col} not a number")


def _inf_values(col: str) -> Breaker:
    def edit(text: str) -> str:
        lines = text.splitlines()
        k = lines[0].split("\t").index(col)
        return "\n".join([lines[0], _col(lines[1], k, "inf"), *lines[2:]]) + "\n"

    return rewrite(edit, name=f"{col} inf")


def _drop_col(*cols: str) -> Breaker:
    """The table without the columns `cols` (those it has)."""

    def edit(text: str) -> str:
        rows = [x.split("\t") for x in text.splitlines()]
        keep = [k for k, name in enumerate(rows[0]) if name not in cols]
        return "\n".join("\t".join(r[k] for k in keep) for r in rows) + "\n"

    return rewrite(edit, name=f"no {'/'.join(cols)} column")


def _config(edit: Callable[[dict], None], name: str) -> Breaker:
    return in_copy("config.json", json_edit(edit, name=name))


def _model_cases(command: str, option: str, member: str) -> None:
    for breaker in (
        missing,
        empty,
        in_copy("config.json", garbage),
        in_copy("config.json", missing),
        _config(lambda d: d.update(architecture="no-such-family"), "unknown architecture"),
        _config(lambda d: d["config"].update(bogus_key=1), "unknown config key"),
        _config(lambda d: d.update(format_version=99), "future format version"),
        in_copy(f"{member}.safetensors", truncated),
        in_copy(f"{member}.safetensors", garbage),
        in_copy(f"{member}.safetensors", missing),
    ):
        case(command, f"{option} {breaker.__name__}", swap(option, breaker))


# ------------------------------------------------------------------ outputs
_NO_OUT = {"genome info", "models list", "data list", "data verify", "data path", "data fetch"}


def _output_cases() -> None:
    from tests.reliability._commands import VALID

    for command, _args in VALID.items():
        if command in _NO_OUT:
            continue
        case(command, "--out under a file", swap("--out", under_file), output=True)
        case(command, "--out in a read-only folder", swap("--out", _read_only), as_root=False,
             output=True)  # fmt: skip


def _read_only(src: Path, work: Path) -> Path:
    folder = work / "out" / "locked"
    folder.mkdir(parents=True)
    folder.chmod(0o555)
    return folder / src.name


# ------------------------------------------------------------------ the table
def _table() -> None:
    common = (missing, empty, garbage, as_folder)

    # genome build
    c = "genome build"
    file_cases(c, "--vcf", (*common, truncated, vcf_no_header, vcf_wrong_contig, vcf_short_record))
    file_cases(c, "--vcf", (vcf_past_end,))
    case(
        c,
        "--vcf REF mismatch with --strict",
        chain(swap("--vcf", vcf_ref_mismatch), add("--strict")),
    )
    file_cases(c, "--fasta", (*common, fasta_renamed, fasta_not_fasta, _stale_fai))
    case(c, "--samples unknown sample", setopt("--samples", _write("s.txt", "NA00000\n")),
         expect=("NA00000",))  # fmt: skip
    case(c, "--samples empty file", setopt("--samples", _write("s.txt", "")))
    case(
        c,
        "--regions without a VCF index",
        chain(swap("--vcf", _records(lambda b: b, "no index")), setopt("--regions", "{regions}")),
    )
    case(c, "--regions garbage", setopt("--regions", _write("r.bed", b"\x00\x01\x02garbage")))
    case(c, "--flank not a number", setopt("--flank", "ten"))

    # genome info / export
    c = "genome info"
    for b in (missing, empty, in_copy("meta.json", garbage), in_copy("meta.json", missing),
              in_copy("gt_haps.npy", truncated), in_copy("gt_haps.npy", _npy_object),
              in_copy("reference.npy", garbage)):  # fmt: skip
        case(c, f"--store {b.__name__}", swap("--store", b))
    c = "genome export"
    case(
        c,
        "--store gt_haps.npy object array",
        swap("--store", in_copy("gt_haps.npy", _npy_object)),
    )
    case(c, "--store positions.npy truncated", swap("--store", in_copy("positions.npy", truncated)))
    file_cases(c, "--regions", (missing, empty, garbage, bed_reversed, bed_not_numbers,
                                bed_wrong_contig, bed_past_end, bed_negative))  # fmt: skip
    case(c, "--format unknown", setopt("--format", "fastq"))
    case(c, "--samples unknown", setopt("--samples", "NA00000"))

    c = "genome upgrade"
    for b in (missing, empty, in_copy("meta.json", garbage), in_copy("meta.json", missing),
              in_copy("genotypes.npy", truncated), in_copy("positions.npy", _npy_object),
              in_copy("phased.npy", missing)):  # fmt: skip
        case(c, f"--store {b.__name__}", swap("--store", b))
    case(c, "--store already current", setopt("--store", "{store}"), expect=("cohort.vgs",))

    # motif features and GET
    c = "motifs scan"
    file_cases(c, "--peaks", (missing, empty, garbage, bed_not_numbers, bed_wrong_contig,
                              bed_past_end))  # fmt: skip
    file_cases(c, "--fasta", (missing, garbage, fasta_renamed))
    file_cases(c, "--motifs", (missing, empty, garbage, plain_text, _meme_log_odds))
    file_cases(c, "--clusters", (missing, empty, garbage, _drop_col("cluster")))
    counts_short = _lines(lambda ls: ls[:5], "rows missing")
    file_cases(c, "--counts", (missing, empty, garbage, _drop_col("start"),
                               _text_values("type1"), counts_short))  # fmt: skip
    case(
        c,
        "--tracks bigWig garbage",
        chain(_drop("--counts"), setopt("--tracks", _tracks_garbage)),
    )
    case(c, "--threshold above 1", setopt("--threshold", "2"), expect=("threshold",))
    case(c, "--threshold zero", setopt("--threshold", "0"), expect=("threshold",))
    case(
        c, "--out not .h5 or .npz", setopt("--out", "{out}/features.txt"), expect=("features.txt",)
    )
    case(c, "--store without --sample", chain(_drop("--fasta"), setopt("--store", "{store}")),
         expect=("--sample",))  # fmt: skip
    c = "get train"
    file_cases(c, "--features", (missing, empty, garbage, truncated, plain_text,
                                 _h5_without("acpm")))  # fmt: skip
    file_cases(c, "--expression", (missing, empty, garbage, _text_values("type1"),
                                   tsv_no_rows))  # fmt: skip
    bed4 = _lines(lambda ls: ["\t".join(x.split("\t")[:4]) for x in ls], "BED4")
    file_cases(c, "--tss", (missing, empty, garbage, bed_not_numbers, bed_reversed, bed4))
    case(c, "--units unknown", setopt("--units", "fpkm"), expect=("--units", "fpkm"))
    case(c, "--n-heads not dividing --d-model", setopt("--n-heads", "3"), expect=("n_heads",))
    case(c, "--epochs 0", setopt("--epochs", "0"), expect=("epochs",))
    case(c, "--held-out-cell-types unknown", setopt("--held-out-cell-types", "liver"),
         expect=("liver",))  # fmt: skip
    case(c, "--init a model of another size",
         chain(setopt("--d-model", "32"), setopt("--init", "{get_model}")),
         expect=("--init",))  # fmt: skip
    c = "get lora"
    _model_cases(c, "--base", "model")
    file_cases(c, "--features", (missing, garbage, truncated))
    file_cases(c, "--expression", (missing, garbage))
    file_cases(c, "--tss", (missing, garbage))
    case(c, "--base a LoRA adapter", setopt("--base", "{get_adapter}"), expect=("adapter",))
    case(c, "--cell-types unknown", setopt("--cell-types", "liver"), expect=("liver",))
    case(c, "--rank 0", setopt("--rank", "0"), expect=("rank",))
    case(c, "--merged under a file", setopt("--merged", lambda w: str(under_file(Path("m"), w))),
         expect=("--merged",))  # fmt: skip
    c = "get merge"
    _model_cases(c, "--base", "model")
    for b in (missing, empty, in_copy("config.json", garbage),
              in_copy("adapter.safetensors", truncated),
              in_copy("adapter.safetensors", missing)):  # fmt: skip
        case(c, f"--adapter {b.__name__}", swap("--adapter", b))
    case(
        c,
        "--adapter a GET model",
        setopt("--adapter", "{get_model}"),
        expect=("get-lora", "adapter"),
    )
    c = "get enhancers"
    _model_cases(c, "--model", "model")
    for b in (in_copy("inputs.h5", garbage), in_copy("inputs.h5", missing),
              in_copy("genes.tsv", garbage), in_copy("expression.tsv", missing)):  # fmt: skip
        case(c, f"--model {b.__name__}", swap("--model", b))
    case(c, "--cell-type unknown", setopt("--cell-type", "liver"), expect=("liver",))
    case(c, "--genes unknown", setopt("--genes", "nogene"), expect=("nogene",))

    # training
    c = "train clipnet"
    file_cases(c, "--config", (missing, empty, garbage, toml_not_toml, toml_unknown_key,
                               toml_wrong_type))  # fmt: skip
    case(c, "--config store path missing", swap("--config", toml_store_missing),
         expect=("no-such-store.vgs",))  # fmt: skip
    case(c, "--config sample sheet missing", swap("--config", toml_sheet_missing),
         expect=("no-such-sheet.tsv",))  # fmt: skip
    case(c, "--folds not numbers", setopt("--folds", "one"))
    case(c, "--folds outside the table", setopt("--folds", "7"))
    case(
        c,
        "sample sheet bigWig garbage",
        swap(
            "--config",
            _config_with_sheet(
                lambda lines: [lines[0], _col(lines[1], 2, "{garbage_bw}"), *lines[2:]]
            ),
        ),
    )
    case(
        c,
        "sample sheet unknown sample",
        swap(
            "--config",
            _config_with_sheet(lambda lines: [lines[0], _col(lines[1], 1, "NA00000"), *lines[2:]]),
        ),
    )
    case(
        c,
        "sample sheet without minus column",
        swap(
            "--config",
            _config_with_sheet(lambda lines: ["\t".join(x.split("\t")[:3]) for x in lines]),
        ),
    )
    case(c, "peaks BED garbage", swap("--config", _config_with("peaks", garbage)))
    case(c, "peaks BED empty", swap("--config", _config_with("peaks", empty)))
    case(c, "store genotypes truncated", swap("--config", _config_with(
        "store", in_copy("gt_haps.npy", truncated))))  # fmt: skip
    case(c, "existing run folder of something else", prefilled_out("--out", _foreign_run))
    case(c, "existing run record garbage", prefilled_out("--out", _garbage_run_record))
    c = "finetune"
    _model_cases(c, "--from", "fold_1")
    file_cases(c, "--config", (missing, garbage, toml_unknown_key))
    c = "evaluate"
    for b in (missing, empty, in_copy("fold_1.safetensors", truncated),
              in_copy("config.json", garbage)):  # fmt: skip
        case(c, f"--model {b.__name__}", swap("--model", b))
    file_cases(c, "--config", (missing, garbage, toml_wrong_type))

    # models
    c = "models fetch"
    case(c, "unknown model name", lambda a, w: ["no-such-model", *a[1:]])
    case(c, "--zoo a file", setopt("--zoo", "{fasta}"))
    case(c, "--zoo garbage zoo.toml", setopt("--zoo", _zoo_with_garbage))
    c = "models import-clipnet"
    file_cases(c, "#0", (missing, empty, garbage, truncated, as_folder), what="h5 file")
    file_cases(c, "#0", (_plain_h5,), what="h5 file")
    c = "models upgrade"
    for b in (
        missing,
        empty,
        in_copy("config.json", garbage),
        in_copy("model.safetensors", truncated),
        in_copy("model.safetensors", garbage),
    ):
        case(c, f"model {b.__name__}", swap("#0", b))
    c = "models list"
    case(c, "--zoo missing", setopt("--zoo", "{out}/no-zoo"))
    case(c, "--manifests a file", setopt("--manifests", "{fasta}"))

    # scoring
    c = "score"
    file_cases(c, "--variants", (*common, truncated, vcf_wrong_contig, vcf_short_record))
    # a table reads unsorted variants in file order; an annotated VCF needs them sorted
    case(
        c,
        "--variants unsorted records, --out a VCF",
        chain(swap("--variants", vcf_unsorted), setopt("--out", "{out}/effects.vcf.gz")),
    )
    case(
        c,
        "--variants REF mismatch with --strict",
        chain(swap("--variants", vcf_ref_mismatch), add("--strict")),
    )
    file_cases(c, "--fasta", (missing, garbage, fasta_renamed, _stale_fai))
    _model_cases(c, "--model", "fold_1")
    case(
        c,
        "--model a DeepDETAILS model without --context-tracks",
        setopt("--model", "{deepdetails}"),
    )
    case(c, "--store without --sample", setopt("--store", "{store}"))
    case(c, "--sample unknown", chain(setopt("--store", "{store}"), setopt("--sample", "NA0")))
    case(c, "--tasks unknown", setopt("--tasks", "liver"))
    case(c, "--context-tracks garbage", setopt("--context-tracks", _write("ctx.tsv", b"\x00\xff")))
    case(
        c,
        "--context-tracks bigWig garbage",
        chain(
            setopt("--model", "{deepdetails}"), setopt("--context-tracks", _context_with_garbage)
        ),
    )
    case(c, "--vcf-out not .vcf.gz", setopt("--vcf-out", "{out}/effects.txt"))

    # attribution
    c = "attribute"
    case(c, "--region past contig end", setopt("--region", "chr1:90000001-90000100"))
    case(c, "--region unknown contig", setopt("--region", "chrZ:1-100"))
    case(c, "--region not a region", setopt("--region", "chr1:abc"))
    case(
        c,
        "--variant REF mismatch",
        chain(_drop("--region"), setopt("--variants", _ref_mismatch_variant)),
    )
    case(
        c,
        "--regions past contig end",
        chain(
            _drop("--region"), setopt("--regions", _write("r.bed", "chr1\t90000000\t90000100\n"))
        ),
    )
    file_cases(c, "--fasta", (missing, garbage, _stale_fai))
    _model_cases(c, "--model", "fold_1")

    # benchmarks
    c = "bench qtl"
    file_cases(c, "--qtls", (missing, empty, garbage))
    case(
        c,
        "--qtls none in the store",
        swap("--qtls", rewrite(lambda t: "qtl\nchr1:3:A:G\nchr2:5:C:T\n", name="none in store")),
    )
    file_cases(c, "--tracks", (missing, empty, garbage, _drop_col("plus")))
    case(c, "--store missing", swap("--store", missing))
    case(c, "--store object genotypes", swap("--store", in_copy("gt_haps.npy", _npy_object)))
    case(
        c, "--model corrupt weights", setopt("--model", _model_copy("fold_1.safetensors", garbage))
    )
    c = "bench mpra"
    file_cases(c, "--oligos", (missing, empty, garbage, _drop_col("oligo"), _text_values("log2fc")))
    file_cases(c, "--backbone", (missing, empty, garbage))
    case(c, "--insert-at past the backbone", setopt("--insert-at", "100000"))
    case(c, "--score-column unknown", setopt("--score-column", "o=nope"))

    # deconvolution
    c = "deconvolve prep"
    file_cases(c, "--bulk-pl", (missing, empty, garbage, truncated, plain_text))
    file_cases(c, "--acc", (garbage, truncated), what="--acc bigWig")
    case(c, "--acc not NAME=path", setopt("--acc", "hepatocyte"))
    case(
        c,
        "--regions past contig end",
        setopt("--regions", _write("r.bed", "chr1\t90000000\t90001000\n")),
    )
    case(c, "--regions unknown contig", setopt("--regions", _write("r.bed", "chrZ\t100\t200\n")))
    case(c, "--fasta garbage", setopt("--fasta", _write("g.fa", b"\x00\x01garbage")))
    case(c, "--library-sizes garbage", setopt("--library-sizes", _write("l.tsv", b"\x00\x01\x02")))
    c = "deconvolve import-h5"
    file_cases(c, "--h5", (missing, empty, garbage, truncated, plain_text))
    file_cases(c, "--chrom-sizes", (missing, empty, garbage))
    case(c, "--cell-type count wrong", _drop("--cell-type"))
    c = "deconvolve train"
    file_cases(c, "--data", (missing, empty, garbage, truncated, plain_text))
    case(c, "checkpoint.pt corrupt", prefilled_out("--out", _corrupt_checkpoint))
    case(c, "checkpoint.pt truncated", prefilled_out("--out", _truncated_checkpoint))
    case(c, "--penalty-weighting unknown", setopt("--penalty-weighting", "always"))
    case(c, "--scale-placement unknown", setopt("--scale-placement", "middle"))
    c = "deconvolve predict"
    file_cases(c, "--data", (missing, garbage, truncated))
    _model_cases(c, "--model", "model")
    case(c, "--rescale unknown", setopt("--rescale", "loud"))
    c = "deconvolve eval"
    file_cases(c, "--data", (missing, empty, garbage, truncated))
    case(c, "--predictions garbage", setopt("--predictions", _write("p.h5", b"\x89HDF\x00junk")))
    c = "deconvolve pseudobulk"
    file_cases(c, "--fragments", (missing, empty, garbage, truncated))
    file_cases(c, "--barcodes", (missing, empty, garbage))
    file_cases(
        c, "--chrom-sizes", (garbage, empty, _lines(lambda ls: ["chr1\tlong"], "text length"))
    )
    c = "deconvolve preflight"
    file_cases(c, "--fragments", (missing, garbage, truncated))
    file_cases(c, "--peaks", (missing, empty, garbage, bed_wrong_contig))
    file_cases(c, "--bulk-pl", (missing, garbage, truncated))

    # regulatory
    c = "elements call"
    file_cases(c, "--tracks", (missing, empty, garbage, _drop_col("path")))
    case(c, "--tracks bigWig garbage", swap("--tracks", _table_with_garbage("path")))
    file_cases(c, "--regions", (missing, empty, garbage, bed_past_end, bed_wrong_contig))
    c = "elements enrich"
    file_cases(c, "--variants", (missing, empty, garbage, _drop_col("trait"), _nan_values("pos")))
    file_cases(c, "--peaks", (missing, empty, garbage))
    file_cases(c, "--elements", (missing, empty, garbage))
    case(c, "--heatmap unknown suffix", setopt("--heatmap", "{out}/h.bmpx"))
    c = "link abc"
    file_cases(c, "--elements", (missing, empty, garbage))
    case(c, "--elements region past contig end", swap("--elements", bed_past_end),
         expect=("candidates.bed", "counts.bedgraph"))  # fmt: skip
    file_cases(
        c,
        "--genes",
        (missing, empty, garbage, _lines(lambda ls: [x.rsplit("\t", 1)[0] for x in ls], "BED4")),
    )
    file_cases(c, "--tracks", (missing, empty, garbage, _drop_col("accessibility")))
    case(c, "--samples signal garbage", swap("--tracks", _table_with_garbage("accessibility")))
    case(c, "--hic missing", setopt("--hic", "{out}/nohic.bedpe"))
    case(c, "--hic garbage cooler", setopt("--hic", _write("contacts.cool", b"\x00\x01junk")))
    case(c, "--hic BEDPE of 2 columns", setopt("--hic", _write("contacts.bedpe", "chr1\t1\n")))

    c = "link candidates"
    file_cases(c, "--peaks", (missing, empty, garbage, bed_reversed, bed_not_numbers))
    file_cases(c, "--accessibility", (missing, empty, garbage, truncated))
    file_cases(c, "--chrom-sizes", (missing, empty, garbage,
                                    _lines(lambda ls: ["chr1\tlong"], "text length")))  # fmt: skip
    case(c, "--genes garbage", setopt("--genes", _write("genes.bed", b"\x00\x01\x02junk")))
    case(c, "--blocklist BED of 2 columns", setopt("--blocklist", _write("block.bed", "chr1\t1\n")))

    # ATAC and bpAI-TAC
    c = "atac insertions"
    file_cases(c, "--fragments", (missing, empty, garbage, truncated))
    file_cases(c, "--barcodes", (missing, empty, garbage))
    file_cases(c, "--chrom-sizes", (missing, empty, garbage))
    file_cases(c, "--peaks", (missing, garbage, bed_not_numbers, bed_reversed))
    case(c, "--inputs table garbage", chain(_drop("--fragments"), _drop("--barcodes"),
         setopt("--inputs", _write("inputs.tsv", b"\x00\x01\x02junk"))))  # fmt: skip
    c = "atac footprint"
    _model_cases(c, "--model", "replicate_1")
    case(c, "--model a GET model", setopt("--model", "{get_model}"),
         expect=("model",))  # fmt: skip
    case(c, "--motif not IUPAC", setopt("--motif", "TGA!CTCA"), expect=("motif",))
    for c in ("train tn5-bias", "train bpaitac"):
        file_cases(c, "--config", (missing, empty, garbage, toml_not_toml, toml_unknown_key,
                                   toml_wrong_type))  # fmt: skip
        case(c, "--config FASTA missing", swap("--config", _config_with("fasta", missing)))
        case(c, "--config FASTA garbage", swap("--config", _config_with("fasta", garbage)))
        case(c, "--config peaks garbage", swap("--config", _config_with("peaks", garbage)))
        case(c, "--config peaks empty", swap("--config", _config_with("peaks", empty)))
        case(c, "--config task table missing", swap("--config", _config_with("tasks", missing)))
        case(c, "--config task table garbage", swap("--config", _config_with("tasks", garbage)))
        case(c, "--config task table without bigwig column",
             swap("--config", _config_with("tasks", _drop_col("bigwig"))))  # fmt: skip
        case(c, "--config task bigWig garbage",
             swap("--config", _config_with("tasks", _table_with_garbage("bigwig"))))  # fmt: skip
    c = "train bpaitac"
    _model_cases(c, "--bias-model", "replicate_1")
    case(c, "--lambda above 1", setopt("--lambda", "2"), expect=("lambda",))

    # cREscENDO
    c = "crescendo prep"
    file_cases(c, "--matrix", (missing, empty, garbage, truncated, plain_text))
    file_cases(c, "--fasta", (missing, garbage, fasta_renamed))
    file_cases(c, "--tss", (missing, empty, garbage, bed_not_numbers))
    file_cases(c, "--cell-types", (missing, empty, garbage, _drop_col("cell_type")))
    case(c, "--atac-matrix empty folder", setopt("--atac-matrix", lambda w: str(empty(
        Path("atac"), w))))  # fmt: skip
    case(c, "--store and --fasta both", setopt("--store", "{store}"))
    case(c, "--sample without --store", setopt("--sample", "NA0"))
    case(
        c,
        "--store unknown --sample",
        chain(_drop("--fasta"), setopt("--store", "{store}"), setopt("--sample", "NA0")),
    )
    c = "crescendo train"
    for b in (missing, empty, in_copy("prep.h5", garbage), in_copy("prep.h5", truncated),
              in_copy("prep.h5", missing), in_copy("prep.h5", _h5_without("pca"))):  # fmt: skip
        case(c, f"--prep {b.__name__}", swap("--prep", b))
    case(c, "encoder checkpoint corrupt", prefilled_out("--out", _corrupt_encoder_checkpoint))
    c = "crescendo activity"
    _model_cases(c, "--model", "model")
    case(c, "--genes unknown", setopt("--genes", "NOGENE"), expect=("NOGENE",))
    for b in (missing, garbage, _drop_col("cell_type")):
        case(c, f"--cell-types {b.__name__}",
             setopt("--cell-types", _broken("multiome", "cell_types.tsv", b)))  # fmt: skip
    c = "crescendo h5ad"
    file_cases(c, "--matrix", (missing, empty, garbage, truncated))
    file_cases(c, "--cell-types", (missing, garbage, _drop_col("cell_type")))

    # fine-mapping and the report
    c = "finemap"
    file_cases(c, "--sumstats", (missing, empty, garbage, truncated, _drop_col("z", "beta", "se"),
                                 _nan_values("z"), _inf_values("z")))  # fmt: skip
    case(c, "--sumstats truncated gzip", setopt("--sumstats", _gz_truncated_sumstats))
    case(c, "--sumstats empty gzip", setopt("--sumstats", _write("s.tsv.gz", b"")))
    file_cases(c, "--ld-matrix", (missing, empty, garbage, truncated, _npy_object))
    file_cases(c, "--ld-variants", (missing, empty, tsv_no_rows))
    case(c, "--region past contig end", setopt("--region", "chr3:90000000-90000100"))
    case(c, "--plink missing", chain(_drop("--ld-matrix"), _drop("--ld-variants"),
                                     setopt("--ld-plink", "{out}/panel")))  # fmt: skip
    c = "report locus"
    case(c, "--finemap missing", swap("--finemap", missing))
    case(c, "--finemap variants.tsv garbage", swap("--finemap", in_copy("variants.tsv", garbage)))
    case(
        c,
        "--finemap variants.tsv no pip",
        swap("--finemap", in_copy("variants.tsv", _drop_col("pip"))),
    )
    file_cases(c, "--genes", (missing, garbage))
    file_cases(c, "--tracks", (missing, garbage))
    case(c, "--tracks bigWig garbage", swap("--tracks", _table_with_garbage("plus")))
    case(c, "--abc missing", swap("--abc", missing))
    case(c, "--effects garbage", setopt("--effects", _write("effects.tsv", b"\xff\x00junk")))
    case(c, "--elements garbage", setopt("--elements", _write("specific.tsv", b"\xff\x00junk")))
    case(c, "--region past contig end", setopt("--region", "chr3:90000000-90000100"))
    case(c, "--ld-matrix garbage", chain(
        setopt("--ld-matrix", _write("ld.npy", b"\x93NUMPYjunk")),
        setopt("--ld-variants", "{gwas}/ld_variants.tsv")))  # fmt: skip

    # data
    c = "data fetch"
    case(c, "unknown dataset", lambda a, w: ["no-such-dataset", *a[1:]])
    case(c, "--manifests garbage TOML", setopt("--manifests", _manifests_garbage))
    case(c, "--cache a file", setopt("--cache", "{fasta}"))
    c = "data verify"
    case(c, "unknown dataset", lambda a, w: ["no-such-dataset", *a])
    case(c, "--cache a file", setopt("--cache", "{fasta}"))
    case(c, "--manifests garbage TOML", setopt("--manifests", _manifests_garbage))
    c = "data path"
    case(c, "not fetched", lambda a, w: a)
    case(c, "unknown dataset", lambda a, w: ["no-such-dataset", *a[1:]])
    c = "data list"
    case(c, "--manifests missing", setopt("--manifests", "{out}/nothing"))
    case(c, "--cache a file", setopt("--cache", "{fasta}"))

    # simulation
    c = "simulate world"
    case(c, "--genome-size too small", setopt("--genome-size", "10"))
    case(c, "-n out of range", setopt("-n", "1"))
    case(c, "--indel-density out of range", setopt("--indel-density", "0.5"))
    case(c, "existing --out", prefilled_out("--out", lambda p: p.mkdir(parents=True)))
    c = "simulate procap"
    for b in (missing, empty, in_copy("world.json", garbage), in_copy("reference.fa", truncated)):
        case(c, f"--world {b.__name__}", swap("--world", b))
    c = "simulate gwas"
    case(c, "--world world.json garbage", swap("--world", in_copy("world.json", garbage)))
    case(c, "--program unknown", setopt("--program", "lymphoid"))
    case(c, "--causal unknown", setopt("--causal", "chr9:1:A:C"))
    c = "simulate celltypes"
    case(c, "--world missing", swap("--world", missing))
    case(c, "--proportion negative", setopt("--proportion", "hepatocyte=-1"))
    c = "simulate mixture"
    case(c, "--track bigWig garbage", swap("--track", garbage))
    case(c, "--track bigWig truncated", swap("--track", truncated))
    case(c, "--chrom-sizes garbage", setopt("--chrom-sizes", _write("c.sizes", b"\x00\x01")))
    case(
        c,
        "--fragments missing",
        chain(
            setopt("--fragments", "{out}/nofrags.tsv.gz"),
            setopt("--barcodes", "{celltypes}/barcodes.tsv"),
        ),
    )
    c = "simulate expression"
    case(c, "--chrom-length too short", setopt("--chrom-length", "1000"),
         expect=("chrom-length", "chrom_length"))  # fmt: skip
    case(c, "--n-chromosomes 0", setopt("--n-chromosomes", "0"),
         expect=("n-chromosomes", "n_chromosomes"))  # fmt: skip
    case(c, "--n-cell-types 0", setopt("--n-cell-types", "0"),
         expect=("n-cell-types", "n_cell_types"))  # fmt: skip
    case(c, "--mean-spacing negative", setopt("--mean-spacing", "-5"),
         expect=("mean-spacing", "mean_spacing"))  # fmt: skip
    case(c, "--n-snps not a number", setopt("--n-snps", "many"), expect=("n-snps",))
    case(c, "existing --out", prefilled_out("--out", lambda p: p.mkdir(parents=True)),
         expect=("--overwrite",))  # fmt: skip
    c = "simulate atac"
    case(c, "--genome-size too small", setopt("--genome-size", "100"),
         expect=("genome-size", "genome_size"))  # fmt: skip
    case(c, "--n-chromosomes 0", setopt("--n-chromosomes", "0"),
         expect=("n-chromosomes", "n_chromosomes"))  # fmt: skip
    case(c, "--ocr-spacing negative", setopt("--ocr-spacing", "-5"),
         expect=("ocr-spacing", "ocr_spacing"))  # fmt: skip
    case(c, "existing --out", prefilled_out("--out", lambda p: p.mkdir(parents=True)),
         expect=("--overwrite",))  # fmt: skip
    c = "simulate multiome"
    case(c, "--cells too few", setopt("--cells", "5"), expect=("--cells",))
    case(c, "--gene-spacing negative", setopt("--gene-spacing", "-5"),
         expect=("gene-spacing", "gene_spacing"))  # fmt: skip
    case(c, "--depth negative", setopt("--depth", "-1"), expect=("depth",))
    case(c, "existing --out", prefilled_out("--out", lambda p: p.mkdir(parents=True)),
         expect=("--overwrite",))  # fmt: skip
    c = "demo"
    case(c, "--quick with another seed", setopt("--seed", "3"))
    case(c, "--threads 0", setopt("--threads", "0"))

    _output_cases()


def _drop(option: str) -> Edit:
    """Remove the last occurrence of `option` and its value."""

    def edit(args: list[str], work: Path) -> list[str]:
        i = len(args) - 1 - args[::-1].index(option)
        return args[:i] + args[i + 2 :]

    return edit


def _config_with(key: str, breaker: Breaker) -> Breaker:
    """The run config with the file or folder of `key` in [data] broken."""

    def apply(src: Path, work: Path) -> Path:
        text = src.read_text()
        line = next(x for x in text.splitlines() if x.startswith(f"{key} = "))
        broken = breaker(Path(line.split('"')[1]), work)
        with (work / "broken.txt").open("a") as fh:
            fh.write(f"{broken}\n")
        path = work / "in" / src.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace(line, f'{key} = "{broken}"'))
        return path

    apply.__name__ = f"{key} {breaker.__name__}"
    return apply


def _config_with_sheet(edit: Callable[[list[str]], list[str]]) -> Breaker:
    def sheet(src: Path, work: Path) -> Path:
        bw = work / "in" / "garbage.bw"
        bw.parent.mkdir(parents=True, exist_ok=True)
        bw.write_bytes(b"\x00" * 64 + b"not a bigwig")
        lines = [x.replace("{garbage_bw}", str(bw)) for x in edit(src.read_text().splitlines())]
        path = work / "in" / src.name
        path.write_text("\n".join(lines) + "\n")
        return path

    sheet.__name__ = "edited sheet"
    return _config_with("sample_sheet", sheet)


def _broken(key: str, rel: str, breaker: Breaker) -> Callable[[Path], str]:
    """The input `key` (its file `rel`) broken by `breaker`, for an option the valid
    invocation does not give."""

    def make(work: Path) -> str:
        from tests.reliability._inputs import current_inputs

        broken = breaker(current_inputs()[key] / rel, work)
        with (work / "broken.txt").open("a") as fh:
            fh.write(f"{broken}\n")
        return str(broken)

    return make


def _table_with_garbage(column: str) -> Breaker:
    """A table whose first `column` file is garbage bytes."""

    def apply(src: Path, work: Path) -> Path:
        lines = src.read_text().splitlines()
        head = lines[0].split("\t")
        k = head.index(column)
        bad = work / "in" / ("garbage" + Path(lines[1].split("\t")[k]).suffix)
        bad.parent.mkdir(parents=True, exist_ok=True)
        bad.write_bytes(b"\x00" * 32 + b"garbage")
        rows = [lines[0], _col(lines[1], k, str(bad))]
        for line in lines[2:]:
            cols = line.split("\t")
            cols = [str(src.parent / c) if c.endswith((".bw", ".bedgraph")) else c for c in cols]
            rows.append("\t".join(cols))
        rows[1] = "\t".join(
            str(src.parent / c) if c.endswith((".bw", ".bedgraph")) and "/" not in c else c
            for c in rows[1].split("\t")
        )
        path = work / "in" / src.name
        path.write_text("\n".join(rows) + "\n")
        return path

    apply.__name__ = f"{column} garbage"
    return apply


def _model_copy(member_file: str, breaker: Breaker) -> Callable[[Path], str]:
    def make(work: Path) -> str:
        from tests.reliability._inputs import ZOO

        return "demo=" + str(in_copy(member_file, breaker)(ZOO / "clipnet-demo", work))

    return make


def _context_with_garbage(work: Path) -> str:
    bad = work / "in" / "garbage.bw"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"\x00" * 32 + b"garbage")
    path = work / "in" / "context.tsv"
    path.write_text("".join(["task\tbigwig\n"] + [
        f"{t}\t{bad}\n" for t in ("hepatocyte", "kupffer", "endothelial")]))  # fmt: skip
    return str(path)


def _ref_mismatch_variant(work: Path) -> str:
    from pyfaidx import Fasta

    from tests.reliability._inputs import current_inputs

    ref = str(Fasta(str(current_inputs()["fasta"]))["chr1"][12000:12001]).upper()
    wrong = {"A": "C", "C": "G", "G": "T", "T": "A"}[ref]
    alt = {"A": "G", "C": "T", "G": "A", "T": "C"}[wrong]
    return f"chr1:12001:{wrong}:{alt}"


def _gz_truncated_sumstats(work: Path) -> str:
    import gzip

    from tests.reliability._inputs import current_inputs

    data = gzip.compress(current_inputs()["sumstats"].read_bytes())
    return _write("s.tsv.gz", data[: len(data) // 2])(work)


def _plain_h5(src: Path, work: Path) -> Path:
    import h5py

    path = work / "in" / src.name
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as fh:
        fh.create_dataset("x", data=np.zeros(3))
    return path


_plain_h5.__name__ = "HDF5 without Keras layers"


def _zoo_with_garbage(work: Path) -> str:
    from tests.reliability._inputs import ZOO

    zoo = work / "in" / "zoo"
    shutil.copytree(ZOO, zoo)
    (zoo / "clipnet-demo" / "zoo.toml").write_bytes(b"[[[ not toml")
    return str(zoo)


def _manifests_garbage(work: Path) -> str:
    folder = work / "in" / "manifests"
    folder.mkdir(parents=True)
    (folder / "x.toml").write_text("name = [unclosed\n")
    return str(folder)


def _meme_log_odds(src: Path, work: Path) -> Path:
    """The MEME file with its first matrix given as log-odds (negative entries)."""
    path = work / "in" / src.name
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = src.read_text().splitlines()
    k = next(i for i, x in enumerate(lines) if x.startswith("letter-probability")) + 1
    lines[k] = "-1.5 0.2 1.1 -3.0"
    path.write_text("\n".join(lines) + "\n")
    return path


_meme_log_odds.__name__ = "log-odds matrix"


def _h5_without(key: str) -> Breaker:
    """An HDF5 file with the dataset `key` removed."""

    def apply(src: Path, work: Path) -> Path:
        import h5py

        path = work / "in" / src.name
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, path)
        with h5py.File(path, "a") as fh:
            del fh[key]
        return path

    apply.__name__ = f"without {key}"
    return apply


def _tracks_garbage(work: Path) -> str:
    from tests.reliability._inputs import current_inputs

    bad = work / "in" / "garbage.bw"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"\x00" * 32 + b"garbage")
    types = (current_inputs()["expr_world"] / "counts.tsv").read_text().split("\n")[0]
    path = work / "in" / "tracks.tsv"
    path.write_text("cell_type\tplus\n" + "".join(f"{t}\t{bad}\n" for t in types.split("\t")[3:]))
    return str(path)


def _foreign_run(out: Path) -> None:
    out.mkdir(parents=True)
    (out / "notes.txt").write_text("not a training run\n")


def _garbage_run_record(out: Path) -> None:
    (out / ".train").mkdir(parents=True)
    (out / ".train" / "run.json").write_bytes(b"\xff\xfe{garbage")


def _corrupt_encoder_checkpoint(out: Path) -> None:
    out.mkdir(parents=True)
    (out / "checkpoint_encoder.pt").write_bytes(b"\x80\x02garbage that is not a pickle")


def _corrupt_checkpoint(out: Path) -> None:
    out.mkdir(parents=True)
    (out / "checkpoint.pt").write_bytes(b"\x80\x02garbage that is not a pickle")


def _truncated_checkpoint(out: Path) -> None:
    from tests.reliability._inputs import current_inputs

    out.mkdir(parents=True)
    data = (current_inputs()["deconv_model"].parent / "checkpoint.pt").read_bytes()
    (out / "checkpoint.pt").write_bytes(data[: len(data) // 2])


_ = json  # json_edit comes from _breakers
_table()
