"""Compare varinterp's import of a CLIPNET Keras h5 with Keras' own outputs.

    python benchmarks/clipnet/compare_keras_import.py /tmp/clipnet_ref

reads ``fold_1.h5`` and ``reference.npz`` written by ``keras_reference.py`` and prints the
largest absolute and relative differences of the profile and quantity outputs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from varinterp.models.clipnet.keras import load_keras_clipnet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    ref = np.load(args.folder / "reference.npz")
    model = load_keras_clipnet(args.folder / "fold_1.h5")
    x = torch.from_numpy(ref["x"]).permute(0, 2, 1).contiguous()
    with torch.no_grad():
        profile, quantity = model(x)
    for name, ours, theirs in (
        ("profile", profile.numpy(), ref["profile"]),
        ("quantity", quantity.numpy(), ref["quantity"]),
    ):
        diff = np.abs(ours - theirs).max()
        scale = np.abs(theirs).max()
        print(
            f"{name}: shape {ours.shape}, max |ours - keras| = {diff:.3g}, "
            f"max |keras| = {scale:.3g}, relative {diff / scale:.3g}, "
            f"nonzero {np.count_nonzero(theirs)}/{theirs.size}"
        )
    print(f"keras {ref['keras_version']}, {int(ref['params'])} Keras params")


if __name__ == "__main__":
    main()
