"""Image files: folders of PNGs and ``.npz`` archives, read with checks and written atomically.

Layouts read:

* ``root/<class>/*.png`` (also ``.jpg``/``.jpeg``/``.bmp``): the class is the folder name;
* ``root/*.png`` (or in class folders) with a labels table of ``file``, ``label`` columns:
  ``labels.parquet`` (what :func:`write_images` writes) or ``labels.csv`` (easy to write by
  hand; what synthaug wrote before), or with neither for unlabelled images;
* ``file.npz`` with an ``images`` array (uint8 ``(N, H, W[, C])``) and optionally ``labels``.

Written: a folder ``root/<class>/<index>.png`` plus ``labels.parquet`` (file, label), or an
``.npz``.  A folder is replaced only when it is one synthaug wrote (see
:func:`synthaug.utils.files.atomic_folder`).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthaug.data.image.container import Images, as_images
from synthaug.data.io import read_parquet
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.utils.files import atomic_file, atomic_folder

__all__ = ["IMAGE_SUFFIXES", "is_image_path", "read_images", "write_images"]

#: image file suffixes read from folders
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
#: the labels table written beside the PNGs, and the one read when both are present
LABELS_FILE = "labels.parquet"
#: the hand-written form (and what synthaug wrote before), still read
LABELS_CSV = "labels.csv"


def _labels_file(folder: Path) -> Path | None:
    """The folder's labels table (Parquet first), or ``None``."""
    for name in (LABELS_FILE, LABELS_CSV):
        if (folder / name).is_file():
            return folder / name
    return None


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def is_image_path(path: Path) -> bool:
    """Whether ``path`` is an ``.npz`` or a folder of images in one of the layouts above."""
    if path.suffix.lower() == ".npz":
        return True
    if not path.is_dir():
        return False
    if _labels_file(path) is not None or _image_files(path):
        return True
    return any(sub.is_dir() and _image_files(sub) for sub in path.iterdir())


def read_images(path: Path) -> Images:
    """Read images (and labels) from ``path``; see the module docstring for the layouts.

    Raises
    ------
    InvalidDataError
        For a file that is not an image, images of different sizes or modes, an empty class
        folder, a labels table that names missing files, or an ``.npz`` without ``images``;
        the message names the file.
    InvalidParameterError
        When ``path`` does not exist.
    """
    if path.suffix.lower() == ".npz":
        return _read_npz(path)
    if not path.is_dir():
        raise InvalidParameterError(f"{str(path)!r} is neither an image folder nor an .npz file.")
    table = _labels_file(path)
    if table is not None:
        listed, labels = _read_labels_file(path, table)
        return _load(listed, labels, path)
    flat = _image_files(path)
    classes = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if flat and classes:
        raise InvalidDataError(
            f"{str(path)!r} holds images both at the top and in subfolders; put every image in "
            "its class folder (root/<class>/*.png), or list them in a labels.csv."
        )
    if flat:
        return _load(flat, None, path)
    files: list[Path] = []
    names: list[str] = []
    for folder in classes:
        found = _image_files(folder)
        if not found:
            raise InvalidDataError(
                f"class folder {str(folder)!r} holds no images ({', '.join(IMAGE_SUFFIXES)}); "
                "remove it or add its images."
            )
        files.extend(found)
        names.extend([folder.name] * len(found))
    if not files:
        raise InvalidDataError(f"{str(path)!r} holds no images.")
    return _load(files, np.asarray(names, dtype=object), path)


def _read_labels_file(path: Path, table: Path) -> tuple[list[Path], np.ndarray | None]:
    """The images and labels that ``table`` (the folder's :func:`_labels_file`) lists."""
    files: list[Path] = []
    labels: list[str] = []
    rows: list[dict[str, Any]]
    first_row = 1  # the number a message gives the table's first record (a CSV's header is 1)
    try:
        if table.suffix == ".parquet":
            frame = read_parquet(table)  # the project's reader: invalid UTF-8 is refused
            rows = [{str(k): (None if pd.isna(v) else str(v)) for k, v in row.items()}
                    for row in frame.to_dict("records")]
        else:
            first_row = 2
            with open(table, newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
        raise InvalidDataError(f"cannot read {str(table)!r}: {exc}") from None
    for i, row in enumerate(rows):
        name, label = row.get("file"), row.get("label")
        if not name or label is None:
            raise InvalidDataError(f"{str(table)!r} row {i + first_row} needs 'file' and "
                                   "'label' columns.")
        file = (path / name).resolve()
        if path.resolve() not in file.parents or not file.is_file():
            raise InvalidDataError(f"{str(table)!r} row {i + first_row} names {name!r}, "
                                   "which is not an image inside the folder.")
        files.append(file)
        labels.append(label)
    if not files:
        raise InvalidDataError(f"{str(table)!r} lists no images.")
    if not any(labels):  # written for unlabelled images
        return files, None
    if not all(labels):
        raise InvalidDataError(f"{str(table)!r} leaves some labels empty; give "
                               "every image a label, or none.")
    return files, np.asarray(labels, dtype=object)


def _load(files: list[Path], labels: np.ndarray | None, root: Path) -> Images:
    from PIL import Image, UnidentifiedImageError

    arrays = []
    first: tuple[Any, Any] | None = None
    for file in files:
        try:
            with Image.open(file) as img:
                img.load()
                mode = img.mode if img.mode in ("L", "RGB") else None
                if mode is None:
                    raise InvalidDataError(
                        f"{str(file)!r} has mode {img.mode!r}; save grey ('L') or RGB images."
                    )
                arr = np.asarray(img, dtype=np.uint8)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise InvalidDataError(f"{str(file)!r} is not a readable image ({exc}); remove or "
                                   "replace it.") from None
        key = (arr.shape, mode)
        if first is None:
            first = key
        elif key != first:
            raise InvalidDataError(
                f"{str(file)!r} is {arr.shape[1]}x{arr.shape[0]} {mode} but the first image of "
                f"{str(root)!r} is {first[0][1]}x{first[0][0]} {first[1]}; every image must "
                "have one size and mode."
            )
        arrays.append(arr[..., None] if arr.ndim == 2 else arr)
    return as_images(np.stack(arrays), labels, what=str(root))


def _read_npz(path: Path) -> Images:
    if not path.is_file():
        raise InvalidParameterError(f"{str(path)!r} is not a file.")
    try:
        with np.load(path, allow_pickle=False) as archive:  # never unpickle
            if "images" not in archive.files:
                raise InvalidDataError(f"{str(path)!r} has no 'images' array (it has "
                                       f"{archive.files}); save with np.savez(path, "
                                       "images=..., labels=...).")
            images = archive["images"]
            labels = archive["labels"] if "labels" in archive.files else None
    except (OSError, ValueError) as exc:
        raise InvalidDataError(f"cannot read {str(path)!r} as an .npz of images ({exc}).") from None
    return as_images(images, labels, what=str(path))


def _folder_problem(path: Path) -> str | None:
    """Why ``path`` is not an image folder synthaug wrote (None: it is one, replaceable)."""
    table = _labels_file(path)
    if table is None:
        return f"it has no {LABELS_FILE} (or {LABELS_CSV}), so synthaug did not write it"
    try:
        files, _ = _read_labels_file(path, table)
    except InvalidDataError as exc:
        return str(exc)
    listed = {f.resolve() for f in files} | {table.resolve()}
    for entry in path.rglob("*"):
        if entry.is_file() and entry.resolve() not in listed:
            return f"it holds {str(entry)!r}, which synthaug did not write"
    return None


def write_images(data: Images, path: str | os.PathLike[str]) -> Path:
    """Write ``data`` to an ``.npz`` or a folder of PNGs plus ``labels.parquet``, atomically."""
    from PIL import Image

    target = Path(path)
    if target.suffix.lower() == ".npz":
        with atomic_file(target) as tmp:
            buffer = io.BytesIO()
            arrays = {"images": data.pixels}
            if data.labels is not None:
                arrays["labels"] = np.asarray(data.labels).astype(str) \
                    if data.labels.dtype.kind == "O" else data.labels
            np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
            tmp.write_bytes(buffer.getvalue())
        return target
    if target.suffix:
        raise InvalidParameterError(f"{str(target)!r}: write images to a folder (no suffix) or "
                                    "an .npz file.")
    width = max(6, len(str(len(data))))
    with atomic_folder(target, replaceable=_folder_problem, what="image folder") as tmp:
        rows = []
        for i in range(len(data)):
            label = None if data.labels is None else str(data.labels[i])
            if label is not None and (not label or label in (".", "..") or "/" in label
                                      or "\\" in label):
                raise InvalidParameterError(f"label {label!r} cannot name a folder; map the "
                                            "labels to plain names first.")
            folder = tmp / label if label is not None else tmp
            folder.mkdir(exist_ok=True)
            name = f"{i:0{width}d}.png"
            pixels = data.pixels[i]
            Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(
                folder / name, format="PNG")
            rows.append({"file": f"{label}/{name}" if label is not None else name,
                         "label": "" if label is None else label})
        pd.DataFrame(rows, columns=["file", "label"]).to_parquet(tmp / LABELS_FILE, index=False)
    return target
