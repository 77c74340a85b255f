"""Small real-shaped data that every test can afford, importable from every test folder.

``from tests.toydata import make_mixed_frame`` works in any module under ``tests/`` (the test
folders are packages, so pytest puts the repository root on ``sys.path``); the fixtures in
``tests/conftest.py`` hand out the same data.  Only numpy and pandas here: the fixture scripts
under ``tests/fixtures/`` import this module while running another synthaug version.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_mixed_frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """A small table with every column kind synthaug handles, and missing values."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    income = np.where(age + rng.normal(0, 10, n) > 50, ">50K", "<=50K")
    frame = pd.DataFrame(
        {
            "age": age.astype(np.int64),
            "hours": np.round(rng.normal(40, 8, n), 1),
            "gain": np.where(rng.random(n) < 0.8, 0, rng.integers(100, 5000, n)).astype(np.int64),
            "work": rng.choice(["Private", "State", "Self"], n, p=[0.6, 0.3, 0.1]),
            "flag": rng.random(n) < 0.3,
            "joined": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
            "score": np.where(rng.random(n) < 0.1, np.nan, rng.normal(0, 1, n)),
            "income": income,
        }
    )
    frame["work"] = frame["work"].astype("str")
    frame["income"] = frame["income"].astype("str")
    frame.loc[rng.random(n) < 0.1, "work"] = np.nan
    return frame


def make_nullable_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Numbers, ints with NaN, strings with NaN, bools, datetimes with NaT, categories."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(np.int64),
            "score": rng.normal(0, 1, n),
            "visits": pd.array(rng.integers(0, 9, n), dtype="Int64"),
            "kids": rng.integers(0, 4, n).astype(np.float64),
            "work": pd.Series(rng.choice(["Private", "State", "Self"], n), dtype="str"),
            "flag": rng.random(n) < 0.3,
            "joined": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s"),
            "plan": pd.Categorical(rng.choice(["basic", "pro"], n)),
        }
    )
    frame.loc[rng.random(n) < 0.15, "visits"] = pd.NA
    frame.loc[rng.random(n) < 0.15, "kids"] = np.nan
    frame.loc[rng.random(n) < 0.15, "work"] = np.nan
    frame.loc[rng.random(n) < 0.15, "joined"] = pd.NaT
    return frame


def make_digits(n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` of scikit-learn's 8 x 8 digits as uint8 grey images ``(n, 8, 8)``, and
    their classes (0-9, int64): real images, small enough for any test."""
    from sklearn.datasets import load_digits  # here, not at the top: the fixture scripts

    digits = load_digits()
    pixels = (digits.images[:n] * 16).clip(0, 255).astype(np.uint8)
    return pixels, digits.target[:n].astype(np.int64)


def make_reviews(n: int = 120, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` short reviews of two classes, ``fresh`` and ``rotten``, each from its own words.

    Every review has four to nine words and ends with its own number, so no review is a single
    word and no two are equal: a text found verbatim in a saved model is a copied record.
    """
    rng = np.random.default_rng(seed)
    words = {"fresh": ["fine", "warm", "moving", "smart", "funny", "great", "bold", "tender"],
             "rotten": ["dull", "flat", "tedious", "weak", "long", "messy", "boring", "thin"]}
    labels = ["fresh" if i % 3 else "rotten" for i in range(n)]
    texts = [" ".join(rng.choice(words[label], size=int(rng.integers(4, 10)))) + f" n{i}"
             for i, label in enumerate(labels)]
    return texts, labels
