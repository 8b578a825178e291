"""The end-to-end demo on a simulated world: one module per step, on top of every stage.

`run_demo` (`varinterp.demo.pipeline`) makes a seeded world and runs the steps in
`STEPS` into one folder, then writes ``SUMMARY.md``; ``varinterp demo`` calls it. Each
step takes the shared `DemoContext` (`varinterp.demo.context`), reads and writes files
under the demo folder, and returns lines for the summary:

- `world`: simulate the world (`DEMO_WORLD`), build the personal-genome store, export
  personal promoter windows;
- `clipnet`: simulate PRO-cap, train and evaluate a small CLIPNET on held-out contigs;
- `scoring`: score the world's designed SNPs, causal vs non-causal;
- `qtl`: personal vs reference-only model on the genotype-group QTL benchmark;
- `deconvolution`: simulate cell types and deconvolve their bulk with a tiny DeepDETAILS;
- `locus` (with `evidence`): simulate, fine-map and report a PSC-like GWAS locus.

No stage package imports this one: the demo calls the stages, nothing calls the demo.
"""

from __future__ import annotations

from varinterp.demo.context import DemoContext, DemoStep
from varinterp.demo.pipeline import STEPS, run_demo
from varinterp.demo.world import DEMO_WORLD

__all__ = ["DEMO_WORLD", "STEPS", "DemoContext", "DemoStep", "run_demo"]
