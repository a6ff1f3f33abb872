"""Convert the MNIST 5k csv (``mnist_5k.csv.gz``) into the bundled ``mnist_5k.npz``.

Usage::

    python -m tinygrad_cnn.data.convert_mnist5k SRC.csv.gz DST.npz

The source is checked against its known sha256 before anything is parsed. Each csv row holds
784 pixel values (28x28, row-major, 0-255) followed by the label (0-9). The output holds
``images`` uint8 (5000, 28, 28) and ``labels`` uint8 (5000,), written with ``np.savez_compressed``.
This was run once to produce the file shipped in the package; see ``NOTICE.md`` for provenance.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
from pathlib import Path

import numpy as np

SOURCE_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
N_ROWS = 5000
N_PIXELS = 28 * 28


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def convert(src: Path, dst: Path, expected_sha256: str = SOURCE_SHA256) -> None:
    """Verify ``src``, parse it, check its contents and write ``dst``."""
    digest = sha256_of(src)
    if digest != expected_sha256:
        raise SystemExit(f"sha256 mismatch for {src}: got {digest}, expected {expected_sha256}")
    with gzip.open(src, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape != (N_ROWS, N_PIXELS + 1):
        raise SystemExit(f"unexpected table shape {table.shape}, expected {(N_ROWS, N_PIXELS + 1)}")
    pixels, labels = table[:, :N_PIXELS], table[:, N_PIXELS]
    if pixels.min() < 0 or pixels.max() > 255:
        raise SystemExit("pixel values outside 0..255")
    if labels.min() < 0 or labels.max() > 9:
        raise SystemExit("labels outside 0..9")
    images = pixels.astype(np.uint8).reshape(N_ROWS, 28, 28)
    dst.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(dst, images=images, labels=labels.astype(np.uint8))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="path to mnist_5k.csv.gz")
    parser.add_argument("dst", type=Path, help="path of the .npz to write")
    args = parser.parse_args(argv)
    convert(args.src, args.dst)
    print(f"wrote {args.dst} ({args.dst.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
