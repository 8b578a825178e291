"""Manifest validation, published-checksum parsing, and the repository's own manifests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from varinterp.errors import InputError
from varinterp.manifests.schema import Md5Source, load_manifest, load_manifests
from varinterp.manifests.sources import SourceError, parse_published

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "data_manifests"  # the manifests shipped with the package

GOOD = """
format = 1
name = "toy"
title = "Toy"
description = "A toy dataset."
licence = "CC0"
homepage = "https://example.org/"
feeds = ["varinterp genome build --fasta: test"]

[[files]]
name = "chr{c}.txt"
urls = ["https://example.org/chr{c}.txt"]
size = 12
md5 = ""
checksum = "published"
md5_source = { kind = "list", url = "https://example.org/md5sum.txt" }
expand = { c = ["1", "2"] }
description = "chromosome {c}"
"""


def _write(tmp_path, text, name="toy.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_manifest_and_expansion(tmp_path):
    ds = load_manifest(_write(tmp_path, GOOD))
    assert [f.name for f in ds.files] == ["chr1.txt", "chr2.txt"]
    assert ds.files[1].urls == ("https://example.org/chr2.txt",)
    assert ds.files[1].md5_source.key == "chr2.txt"
    assert ds.files[1].description == "chromosome 2"
    assert ds.files[0].size == 12 and ds.known_size == 24


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace('title = "Toy"', 'title = "Toy"\ncolour = "red"'),
            "unknown key 'colour'",
        ),
        (lambda t: t.replace('licence = "CC0"\n', ""), "missing required key 'licence'"),
        (lambda t: t.replace("size = 12\n", ""), "file 'chr{c}.txt': missing required key 'size'"),
        (lambda t: t.replace("size = 12", 'size = 12\nmirror = "x"'), "unknown key 'mirror'"),
        (
            lambda t: t.replace('checksum = "published"', 'checksum = "sha1"'),
            "key 'checksum' must be",
        ),
        (lambda t: t.replace('md5 = ""', 'md5 = "abc"'), "32 hex digits"),
        (lambda t: t.replace("size = 12", "size = -3"), "positive byte count"),
        (lambda t: t.replace('"chr{c}.txt"', '"../chr{c}.txt"', 1), "relative path"),
        (lambda t: t.replace("https://example.org/chr{c}", "ftp://example.org/chr{c}"), "https://"),
        (lambda t: t.replace('kind = "list"', 'kind = "s3"'), "md5_source.kind"),
        (lambda t: t.replace("format = 1", "format = 2"), "format = 2 is not supported"),
        (lambda t: t.replace('{c}.txt"]', '{chrom}.txt"]'), "placeholders"),
        (lambda t: t.replace('name = "toy"', 'name = "Toy Data"'), "lower case"),
        (
            lambda t: t.replace('expand = { c = ["1", "2"] }', 'expand = { c = ["1", "1"] }'),
            "twice",
        ),
        (
            lambda t: (
                t
                + "[samples]\nfile = 'm.tsv'\ndescription = 'd'\n"
                + "columns = ['a', 'b']\nrows = [['x']]\n"
            ),
            "rows[0]",
        ),
        (lambda t: t.replace("title", "title = 1\n#", 1), "non-empty string"),
    ],
)
def test_invalid_manifests_name_the_problem(tmp_path, edit, message):
    path = _write(tmp_path, edit(GOOD))
    with pytest.raises(InputError) as err:
        load_manifest(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_md5_policy_consistency(tmp_path):
    text = GOOD.replace('md5 = ""', 'md5 = "' + "a" * 32 + '"')
    with pytest.raises(InputError, match='checksum must be "md5"'):
        load_manifest(_write(tmp_path, text))
    text = GOOD.replace('checksum = "published"', 'checksum = "md5"')
    with pytest.raises(InputError, match="needs the md5"):
        load_manifest(_write(tmp_path, text))
    text = GOOD.replace('checksum = "published"', 'checksum = "record-on-first-download"')
    with pytest.raises(InputError, match="md5_source is only used"):
        load_manifest(_write(tmp_path, text))


def test_not_toml_and_duplicate_dataset_names(tmp_path):
    with pytest.raises(InputError, match="not valid TOML"):
        load_manifest(_write(tmp_path, "format = = 1"))
    folder = tmp_path / "m"
    folder.mkdir()
    _write(folder, GOOD, "a.toml")
    _write(folder, GOOD, "b.toml")
    with pytest.raises(InputError, match="used by both"):
        load_manifests(folder)
    with pytest.raises(InputError, match="does not exist"):
        load_manifests(tmp_path / "nowhere")


def test_parse_published_checksums():
    md5 = "0123456789abcdef0123456789abcdef"
    enc = Md5Source("encode", "https://e/x", "x")
    assert parse_published(json.dumps({"md5sum": md5, "file_size": 42}).encode(), enc).md5 == md5
    assert parse_published(json.dumps({"md5sum": md5, "file_size": 42}).encode(), enc).size == 42
    with pytest.raises(SourceError):
        parse_published(b"<html>", enc)

    zen = Md5Source("zenodo", "https://z/api/records/1", "fold_2.h5")
    doc = {
        "files": [
            {"key": "fold_1.h5", "checksum": "md5:" + "f" * 32, "size": 1},
            {"key": "fold_2.h5", "checksum": "md5:" + md5, "size": 7},
        ]
    }
    pub = parse_published(json.dumps(doc).encode(), zen)
    assert (pub.md5, pub.size) == (md5, 7)
    with pytest.raises(SourceError, match="no file named"):
        parse_published(json.dumps(doc).encode(), Md5Source("zenodo", "u", "fold_3.h5"))

    md5sum = f"{'e' * 32}  hg38.2bit\n{md5}  hg38.fa.gz\n".encode()
    assert parse_published(md5sum, Md5Source("list", "u", "hg38.fa.gz")).md5 == md5
    igsr = f"./ALL.chr1.vcf.gz\t123456\t{md5}\n./ALL.chr2.vcf.gz\t9\t{'e' * 32}\n".encode()
    pub = parse_published(igsr, Md5Source("list", "u", "ALL.chr1.vcf.gz"))
    assert (pub.md5, pub.size) == (md5, 123456)
    with pytest.raises(SourceError, match="no md5"):
        parse_published(igsr, Md5Source("list", "u", "ALL.chr3.vcf.gz"))


# -- the repository's manifests -------------------------------------------------------------

EXPECTED = {
    "hg38",
    "1kg-grch38-2019",
    "lcl-procap-gse110638",
    "k562-procap",
    "siraj2024-mpra",
    "clipnet-weights",
    "crescendo-multiome",
    "clipnet-data",
    "liver-encode",
    "gwas-psc",
    "abc-resources",
    "vierstra-archetypes-v1",
    "catlas-human-atlas",
    "mm10",
    "immgen-atac-gse100738",
}


def test_repository_manifests_cover_every_dataset_family():
    datasets = load_manifests(SHIPPED)
    assert set(datasets) == EXPECTED
    for ds in datasets.values():
        assert ds.feeds and ds.licence and ds.title
        for f in ds.files:
            assert all(u.startswith("https://") for u in f.urls), f.name
            if f.checksum == "published":
                assert f.md5_source is not None


def test_repository_manifest_facts():
    datasets = load_manifests(SHIPPED)
    vcfs = [f for f in datasets["1kg-grch38-2019"].files if f.name.endswith(".vcf.gz")]
    assert len(vcfs) == 23
    weights = datasets["clipnet-weights"]
    assert {f.name for f in weights.files if f.name.startswith("lcl/")} == {
        f"lcl/fold_{i}.h5" for i in range(1, 10)
    }
    assert all(
        "zenodo.org/records/10408623/" in weights.file(f"lcl/fold_{i}.h5").urls[0]
        for i in range(1, 10)
    )
    encode = datasets["k562-procap"]
    for acc in ("ENCFF994CSC", "ENCFF580QEK", "ENCFF253HUA", "ENCFF328OOU"):
        entry = encode.file(f"{acc}.bigWig")
        assert entry.urls[0] == f"https://www.encodeproject.org/files/{acc}/@@download/{acc}.bigWig"
        assert entry.md5_source.kind == "encode"
    liver = datasets["liver-encode"]
    assert {"ENCFF289FJG.tar.gz", "ENCFF478KET.bam", "experiments/ENCSR364FHN.json"} <= {
        f.name for f in liver.files
    }


def test_gse110638_library_map():
    ds = load_manifests(SHIPPED)["lcl-procap-gse110638"]
    table = ds.samples
    assert table.columns == ("library", "gsm", "individual", "in_clipnet")
    used = [r for r in table.rows if r[3] == "yes"]
    assert len(used) == 67
    assert len({r[2] for r in used}) == 58  # 58 individuals + 9 replicate libraries
    for library, gsm, individual, _ in table.rows:
        assert library.startswith(gsm + "_")
        assert re.fullmatch(r"NA\d{5}", individual)
