"""`varinterp bench qtl`: genotype-group L2 effects against an independent computation.

The world: two contigs, six individuals, seven libraries (one individual sequenced
twice), stranded bigWigs with random signal (minus stored negative), and two small
CLIPNET model directories with two fold models each. The expected numbers are computed
here from the FASTA text, the genotype table and the numpy arrays written to the
bigWigs, with the fold modules called directly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import pearsonr
from typer.testing import CliRunner

from tests.genome._cohort import write_cohort
from varinterp.errors import InputError
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig

CFG = ClipnetConfig.small(input_length=200, output_length=50, n_dilations=3)
SAMPLES = ["s1", "s2", "s3", "s4", "s5", "s6"]
LIBS = [
    ("L1", "s1"),
    ("L1b", "s1"),
    ("L2", "s2"),
    ("L3", "s3"),
    ("L4", "s4"),
    ("L5", "s5"),
    ("L6", "s6"),
]
GT = {"0": (0, 0), "H": (0, 1), "1": (1, 1)}
# (chrom, pos1, id, genotype code per sample)
VARIANTS = [
    ("chr1", 150, "rs1", "0011H1"),
    ("chr1", 170, "rs2", "01H010"),  # inside rs1's window: personal windows differ
    ("chr1", 400, "rs3", "1100H0"),
    ("chr2", 120, "rs4", "00H111"),
    ("chr2", 300, "rs5", "000HH0"),  # no hom-alt individual
    ("chr1", 600, "rs6", "H0H010"),
]
LENGTHS = {"chr1": 700, "chr2": 420}


def _alt_of(base: str) -> str:
    return {"A": "G", "C": "T", "G": "A", "T": "C"}[base]


def _models(seed: int) -> dict[str, Clipnet]:
    out = {}
    for k in (1, 2):
        torch.manual_seed(seed + k)
        m = Clipnet(CFG)
        m.init_quantity_scale(20.0, 5.0)
        with torch.no_grad():
            m.profile_bn.bias.fill_(0.5)
        out[f"fold_{k}"] = m.eval()
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from varinterp.genome.build import build_store
    from varinterp.io.bigwig import write_bigwig
    from varinterp.training.modeldir import save_model_dir

    folder = tmp_path_factory.mktemp("qtl_world")
    rng = np.random.default_rng(3)
    seqs = {c: "".join(rng.choice(list("ACGT"), n)) for c, n in LENGTHS.items()}
    records, table = [], []
    for chrom, pos1, vid, codes in VARIANTS:
        ref = seqs[chrom][pos1 - 1]
        alt = _alt_of(ref)
        gts = ["/".join(str(a) for a in GT[c]) for c in codes]
        records.append("\t".join([chrom, str(pos1), vid, ref, alt, ".", "PASS", ".", "GT", *gts]))
        table.append((chrom, pos1 - 1, vid, ref, alt, [sum(GT[c]) for c in codes]))
    fasta_text = "".join(f">{c}\n{s}\n" for c, s in seqs.items())
    # a multiallelic site split into two records (every sample hom-ref: no effect)
    ref7 = seqs["chr1"][649]
    for alt7 in [b for b in "ACGT" if b != ref7][:2]:
        records.append(
            "\t".join(
                ["chr1", "650", "rs7", ref7, alt7, ".", "PASS", ".", "GT"] + ["0/0"] * len(SAMPLES)
            )
        )
    records.sort(key=lambda r: (r.split("\t")[0], int(r.split("\t")[1])))
    fasta, vcf = write_cohort(folder, records, samples=tuple(SAMPLES), fasta_text=fasta_text)
    store = folder / "cohort.vgs"
    build_store(vcf=vcf, fasta=fasta, out=store)
    signal = {}
    sheet = ["library\tsample\tplus\tminus"]
    for lib, sample in LIBS:
        tracks = {}
        for strand, sign in (("plus", 1.0), ("minus", -1.0)):
            arrs = {}
            for c, n in LENGTHS.items():
                # integer read counts (pyBigWig's header sum is truncated to an integer)
                v = rng.poisson(2.0, n) * (rng.random(n) < 0.4)
                arrs[c] = v.astype(np.float32)
            path = folder / f"{lib}.{strand}.bw"
            write_bigwig(
                path,
                chrom_sizes=LENGTHS,
                tracks=[(c, 0, sign * a) for c, a in arrs.items()],
            )
            tracks[strand] = arrs
        signal[lib] = tracks
        sheet.append(f"{lib}\t{sample}\t{lib}.plus.bw\t{lib}.minus.bw")
    (folder / "sheet.tsv").write_text("\n".join(sheet) + "\n")
    personal, reference = _models(10), _models(20)
    meta = {"folds": {"chr1": 1, "chr2": 0}, "n_folds": 10}
    save_model_dir(folder / "personal", config=CFG, folds=personal, metadata=meta)
    save_model_dir(folder / "reference", config=CFG, folds=reference, metadata=meta)
    qtls = folder / "qtls.tsv"
    qtls.write_text(
        f"qtl\tset\nrs1\tti\nchr1:400\tti\nrs4\tdi\nrs5\tdi\nrs99\tti\nchr1:600:{table[5][3]}:{table[5][4]}\tdi\nrs1\tti\n"
    )
    return {
        "folder": folder,
        "seqs": seqs,
        "variants": table,
        "signal": signal,
        "store": store,
        "sheet": folder / "sheet.tsv",
        "qtls": qtls,
        "modules": {"personal": personal, "reference": reference},
    }


# ------------------------------------------------------------- independent answers
def _two_hot_window(world, chrom, start, length, sample_i):
    """Personal two-hot window from the FASTA text and the genotype table (numpy only)."""
    seq = world["seqs"][chrom]
    hap = [list(seq), list(seq)]
    for c, pos0, _, ref, alt, dos in world["variants"]:
        if c != chrom:
            continue
        gt = GT["0" if dos[sample_i] == 0 else "1" if dos[sample_i] == 2 else "H"]
        for h in (0, 1):
            hap[h][pos0] = alt if gt[h] else ref
    x = np.zeros((4, length), dtype=np.float32)
    for j in range(length):
        p = start + j
        if 0 <= p < len(seq):
            for h in (0, 1):
                x["ACGT".index(hap[h][p]), j] += 1
    return x


def _predict(modules, x):
    """Mean of modules, reverse-complement averaged, as tracks (n, 2, L) float64."""
    xt = torch.from_numpy(x)
    with torch.no_grad():
        outs = [m(xt) for m in modules]
        outs_rc = [m(xt.flip(1, 2)) for m in modules]
    p = torch.stack([o[0] for o in outs]).mean(0).reshape(len(x), 2, -1).double()
    q = torch.stack([o[1] for o in outs]).mean(0).reshape(-1).double()
    prc = torch.stack([o[0] for o in outs_rc]).mean(0).reshape(len(x), 2, -1).double()
    qrc = torch.stack([o[1] for o in outs_rc]).mean(0).reshape(-1).double()
    p = 0.5 * (p + prc.flip(1, 2))
    q = 0.5 * (q + qrc)
    p = p.numpy()
    return p / p.reshape(len(x), -1).sum(1)[:, None, None] * q.numpy()[:, None, None]


def _expected(world, label, composite=True):
    L, out_len = CFG.input_length, CFG.output_length
    folds = world["modules"][label]
    totals = {
        lib: sum(np.abs(a).sum(dtype=np.float64) for s in tr.values() for a in s.values())
        for lib, tr in world["signal"].items()
    }
    expected = {}
    for chrom, pos0, vid, _, _, dos in world["variants"]:
        dos = np.array(dos)
        if not (dos == 0).any() or not (dos == 2).any():
            continue
        start = pos0 - L // 2
        ref_i, alt_i = np.flatnonzero(dos == 0), np.flatnonzero(dos == 2)
        x = np.stack([_two_hot_window(world, chrom, start, L, i) for i in [*ref_i, *alt_i]])
        mods = [folds["fold_1"]] if (composite and chrom == "chr1") else list(folds.values())
        tr = _predict(mods, x)
        pred = np.sqrt(((tr[: ref_i.size].mean(0) - tr[ref_i.size :].mean(0)) ** 2).sum())
        o0 = start + (L - out_len) // 2

        def obs_mean(members, chrom=chrom, o0=o0):
            libs = [lib for lib, s in LIBS if SAMPLES.index(s) in members]
            arr = [
                np.stack(
                    [world["signal"][lib][st][chrom][o0 : o0 + out_len] for st in ("plus", "minus")]
                )
                * 1e6
                / totals[lib]
                for lib in libs
            ]
            return np.mean(arr, axis=0, dtype=np.float64)

        obs = np.sqrt(((obs_mean(ref_i) - obs_mean(alt_i)) ** 2).sum())
        expected[vid] = (obs, pred)
    return expected


# ------------------------------------------------------------------------- tests
def test_l2_and_pearson_match_independent_computation(world, tmp_path):
    from varinterp.effects.qtl import qtl_benchmark

    res = qtl_benchmark(
        qtls=world["qtls"],
        store=world["store"],
        sample_sheet=world["sheet"],
        models={
            "personal": world["folder"] / "personal",
            "reference": world["folder"] / "reference",
        },
        out=tmp_path / "bench",
        device="cpu",
        chunk_size=2,
    )
    t = res.table
    assert t["status"].tolist() == [
        "ok",
        "ok",
        "ok",
        "no_hom_alt",
        "not_in_store",
        "ok",
        "duplicate",
    ]
    assert t["set"].tolist()[:3] == ["ti", "ti", "di"]
    ids = ["rs1", "rs3", "rs4", "rs6"]
    rows = t[t["status"] == "ok"]
    assert len(rows) == 4
    assert rows["scorer_personal"].tolist() == ["fold_1", "fold_1", "ensemble", "fold_1"]
    r1 = rows.iloc[0]
    assert (r1["n_hom_ref"], r1["n_het"], r1["n_hom_alt"]) == (2, 1, 3)
    assert (r1["n_lib_ref"], r1["n_lib_alt"]) == (3, 3)  # s1 has two libraries
    for label in ("personal", "reference"):
        exp = _expected(world, label)
        obs = np.array([exp[v][0] for v in ids])
        pred = np.array([exp[v][1] for v in ids])
        np.testing.assert_allclose(rows["obs_l2"].to_numpy(), obs, rtol=1e-5)
        np.testing.assert_allclose(rows[f"pred_l2_{label}"].to_numpy(), pred, rtol=2e-4)
        r = pearsonr(np.log10(obs + 1e-3), np.log10(pred + 1e-3)).statistic
        got = res.summary.set_index("model").loc[label]
        assert got["n_scored"] == 4
        assert got["pearson_log10_l2"] == pytest.approx(r, abs=1e-4)
    assert (res.out / "scatter.png").stat().st_size > 1000
    written = pd.read_csv(res.out / "qtl_effects.tsv", sep="\t")
    assert len(written) == 7 and "pred_l2_reference" in written.columns
    # the written table states 1-based positions, as every varinterp table does
    assert "pos0" not in written.columns
    ok = res.table["status"] == "ok"
    assert (written.loc[ok, "pos"] == res.table.loc[ok, "pos0"] + 1).all()
    summary = pd.read_csv(res.out / "summary.tsv", sep="\t")
    assert summary["model"].tolist() == ["personal", "reference"]


def test_full_ensemble_mode(world, tmp_path):
    from varinterp.effects.qtl import qtl_benchmark

    res = qtl_benchmark(
        qtls=world["qtls"],
        store=world["store"],
        sample_sheet=world["sheet"],
        models={"personal": world["folder"] / "personal"},
        out=tmp_path / "b",
        device="cpu",
        holdout_composite=False,
        rc_average=True,
    )
    rows = res.table[res.table["status"] == "ok"]
    exp = _expected(world, "personal", composite=False)
    pred = np.array([exp[v][1] for v in ("rs1", "rs3", "rs4", "rs6")])
    np.testing.assert_allclose(rows["pred_l2_personal"].to_numpy(), pred, rtol=2e-4)
    assert set(rows["scorer_personal"]) == {"ensemble"}
    assert res.summary["mode"].iat[0] == "ensemble"


def test_group_l2_and_log_pearson_units():
    from varinterp.effects.qtl import group_mean_l2, log_l2_pearson

    rng = np.random.default_rng(0)
    tr = rng.random((5, 2, 7))
    got = group_mean_l2(tr, np.array([0, 2]), np.array([1, 3, 4]))
    want = np.linalg.norm((tr[[0, 2]].mean(0) - tr[[1, 3, 4]].mean(0)).ravel())
    assert got == pytest.approx(want)
    o, p = rng.random(20), rng.random(20)
    o[3] = np.nan
    r, pv, n = log_l2_pearson(o, p)
    keep = np.isfinite(o)
    want = pearsonr(np.log10(o[keep] + 1e-3), np.log10(p[keep] + 1e-3))
    assert n == 19 and r == pytest.approx(want.statistic) and pv == pytest.approx(want.pvalue)
    assert np.isnan(log_l2_pearson(np.ones(5), p[:5])[0])


def test_qtl_list_formats(tmp_path):
    from varinterp.effects.qtl_inputs import read_qtl_list

    a = tmp_path / "a.txt"
    a.write_text("# comment\nrs1\nchr1:5\nchr1:5:A:G\n")
    assert read_qtl_list(a)["qtl"].tolist() == ["rs1", "chr1:5", "chr1:5:A:G"]
    b = tmp_path / "b.tsv"
    b.write_text("gene\tvariant\nX\trs2\n")
    t = read_qtl_list(b)
    assert t.columns.tolist() == ["qtl", "gene"] and t["qtl"].tolist() == ["rs2"]
    c = tmp_path / "c.tsv"
    c.write_text("gene\tsnp\nX\trs2\n")
    with pytest.raises(InputError, match="header"):
        read_qtl_list(c)
    d = tmp_path / "d.txt"
    d.write_text("# nothing\n")
    with pytest.raises(InputError, match="no QTLs"):
        read_qtl_list(d)


def test_multiallelic_and_missing_sample(world, tmp_path):
    from varinterp.effects.qtl import qtl_benchmark
    from varinterp.effects.qtl_inputs import resolve_qtls
    from varinterp.genome.store import GenomeStore

    store = GenomeStore.open(world["store"])
    pos1 = VARIANTS[0][1]
    specs = [f"1:{pos1}", "chr3:5", "chr1:1", "rs7", "chr1:650"]
    got = resolve_qtls(store, pd.DataFrame({"qtl": specs})).table
    assert got["status"].tolist() == [
        "ok",
        "not_in_store",
        "not_in_store",
        "multiallelic",
        "multiallelic",
    ]
    assert got["pos0"].iat[0] == pos1 - 1 and got["chrom"].iat[0] == "chr1"
    sheet = world["folder"] / "sheet_bad.tsv"
    sheet.write_text(world["sheet"].read_text().replace("L6\ts6", "L6\tNA999"))
    with pytest.raises(InputError, match="not in store"):
        qtl_benchmark(
            qtls=world["qtls"],
            store=world["store"],
            sample_sheet=sheet,
            models={"p": world["folder"] / "personal"},
            out=tmp_path / "x",
            device="cpu",
        )


def _cli():
    import typer

    from varinterp.cli._common import ErrorHandlingGroup
    from varinterp.cli.bench import app

    root = typer.Typer(cls=ErrorHandlingGroup)
    root.add_typer(app, name="bench")
    return root


def test_cli_qtl_runs_and_rejects_bad_input(world, tmp_path):
    runner = CliRunner()
    base = [
        "bench",
        "qtl",
        "--qtls",
        str(world["qtls"]),
        "--store",
        str(world["store"]),
        "--sample-sheet",
        str(world["sheet"]),
        "--device",
        "cpu",
    ]
    res = runner.invoke(
        _cli(),
        [*base, "-m", f"personal={world['folder'] / 'personal'}", "-o", str(tmp_path / "o")],
    )
    assert res.exit_code == 0, res.output
    assert "personal: Pearson log10(L2) r =" in res.output
    assert (tmp_path / "o" / "summary.tsv").is_file()
    # the same output again without --overwrite
    res = runner.invoke(
        _cli(),
        [*base, "-m", f"personal={world['folder'] / 'personal'}", "-o", str(tmp_path / "o")],
    )
    assert res.exit_code == 2 and "already exists" in res.output
    res = runner.invoke(_cli(), [*base, "-m", f"p={tmp_path}", "-o", str(tmp_path / "p")])
    assert res.exit_code == 2 and "not a model directory" in res.output
    assert "Traceback" not in res.output
    bad = [
        "bench",
        "qtl",
        "--qtls",
        str(tmp_path / "missing.txt"),
        "--store",
        str(world["store"]),
        "--sample-sheet",
        str(world["sheet"]),
        "-m",
        str(world["folder"] / "personal"),
        "-o",
        str(tmp_path / "q"),
    ]
    res = runner.invoke(_cli(), bad)
    assert res.exit_code == 2 and "QTL list" in res.output
