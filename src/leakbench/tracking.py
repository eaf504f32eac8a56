"""Log a finished study to MLflow: one experiment per study, one run per grid cell.

This is the only module of the library that uses MLflow, and it imports MLflow inside its
functions so that ``import leakbench`` stays fast. It reads metrics records and artifact
files and never writes a result file; the only file it writes is the optional receipt.

Idempotence: every run carries the tags ``leakbench.cell_id`` and
``leakbench.record_sha256`` (the sha256 of the record's canonical JSON). Logging a cell
whose record already has a FINISHED run in the study's experiment logs nothing. A cell
whose record changed (a rerun after a code or config change) gets a new run; its older
runs are left as they were, as history. The receipt names, for every cell, the run that
holds exactly the current record. A run interrupted mid-way is marked FAILED (or stays
RUNNING if the store went away) and is never mistaken for a logged cell.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from leakbench.errors import ConfigError, LeakbenchError
from leakbench.io import to_builtin, write_json
from leakbench.reporting.records import NAME_KEYS, MetricsRecord, RecordError

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

EXPERIMENT_PREFIX = "leakbench-"
TAG_CELL = "leakbench.cell_id"
TAG_RECORD = "leakbench.record_sha256"
TAG_COMMIT = "leakbench.git_commit"
TAG_VERSION = "leakbench.version"
TAG_STUDY = "leakbench.study"
RECORD_ARTIFACT = "record.json"
ARTIFACT_DIR = "mlartifacts"
URI_ENV = "MLFLOW_TRACKING_URI"
_PAGE = 1000

log = logging.getLogger(__name__)


class TrackingError(LeakbenchError):
    """The MLflow tracking store could not be reached, or it refused a request."""


@dataclass(frozen=True)
class LoggedRun:
    """The run that holds a cell's current record.

    Attributes:
        cell_id: ``"<study>/<dataset>/<variant>/<attack>"``.
        run_id: The MLflow run id.
        record_sha256: The sha256 of the record's canonical JSON.
        created: True if this call logged the run, False if it existed already.
    """

    cell_id: str
    run_id: str
    record_sha256: str
    created: bool


def resolve_tracking_uri(*, tracking_uri: str | None, default_uri: str | None) -> str:
    """The tracking URI to use: ``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else the default.

    Args:
        tracking_uri: An explicit URI (wins when given).
        default_uri: The caller's fallback, e.g. ``sqlite:///<repo root>/mlflow.db``.
    """
    for candidate in (tracking_uri, os.environ.get(URI_ENV), default_uri):
        if candidate:
            return candidate
    raise ConfigError(f"tracking_uri: no value; pass tracking_uri or default_uri, or set {URI_ENV}")


def redact_uri(uri: str) -> str:
    """``uri`` with any password replaced by ``***`` (for messages and receipts)."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, or None for any other store."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return None
    return Path(uri.removeprefix(prefix).split("?", 1)[0]).resolve()


def _flatten(value: Any, *, prefix: str, out: dict[str, Any]) -> None:
    """Flatten nested mappings into ``out`` with dotted keys."""
    if isinstance(value, Mapping) and value:
        for key in sorted(value, key=str):
            _flatten(value[key], prefix=f"{prefix}.{key}" if prefix else str(key), out=out)
    elif prefix:
        out[prefix] = value


def run_params(*, record: MetricsRecord) -> dict[str, str]:
    """The run parameters of a record: its names, its grid row and its seeds, as strings.

    Nested grid values are flattened with dotted keys (``attack_params.attack_model``);
    seeds are prefixed ``seeds.``. Strings are kept as they are; every other value is
    written as JSON (``0.001``, ``true``, ``[64, 32]``, ``null``).
    """
    cell = record.cell_id
    flat: dict[str, Any] = {key: getattr(record, key) for key in NAME_KEYS}
    for name, prefix in (("grid", ""), ("seeds", "seeds")):
        part: dict[str, Any] = {}
        _flatten(getattr(record, name), prefix=prefix, out=part)
        for key, value in part.items():
            if key in flat and flat[key] != value:
                raise RecordError(
                    f"{cell}: {name}: parameter {key!r} = {value!r} contradicts {flat[key]!r}"
                )
            flat[key] = value
    return {
        key: value if isinstance(value, str) else json.dumps(to_builtin(value), sort_keys=True)
        for key, value in sorted(flat.items())
    }


def run_metrics(*, record: MetricsRecord) -> dict[str, float]:
    """The numeric metrics of a record, nested ones flattened with dotted keys.

    Values that are not finite numbers (``null``, lists, strings, booleans) are not MLflow
    metrics; they reach MLflow in the run's ``record.json`` artifact, which holds the
    whole record.
    """
    flat: dict[str, Any] = {}
    _flatten(record.metrics, prefix="", out=flat)
    return {
        key: float(value)
        for key, value in sorted(flat.items())
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    }


@contextlib.contextmanager
def _exclusive(uri: str) -> Iterator[None]:
    """Hold an exclusive lock on a ``sqlite:///`` store (nothing for other stores).

    SQLite takes one writer at a time and MLflow creates a new database's tables without
    a transaction that covers them all, so two jobs logging at once could fail ("table
    already exists", "database is locked"). A lock file beside the database
    (``<db>.lock``, ``flock``) makes them take turns; a server store serialises itself.
    """
    db = _sqlite_path(uri)
    if db is None:
        yield
        return
    with open(db.with_name(db.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _store_errors(uri: str, action: str) -> Iterator[None]:
    """Turn whatever MLflow or its database layer raises into a :class:`TrackingError`."""
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except (MlflowException, SQLAlchemyError, OSError) as err:
        raise TrackingError(
            f"MLflow tracking store {redact_uri(uri)}: {action} failed: {err}"
        ) from err


@dataclass(frozen=True)
class _Cell:
    """Everything one run will hold, computed before MLflow is contacted."""

    record: MetricsRecord
    sha: str
    params: dict[str, str]
    metrics: dict[str, float]
    files: list[Path]


def _plan(
    *,
    study: str,
    records: Sequence[MetricsRecord],
    artifacts: Mapping[str, Sequence[str | os.PathLike[str]]],
    shared_artifacts: Sequence[str | os.PathLike[str]],
) -> dict[str, _Cell]:
    """Validate every input and build each cell's run content, before MLflow is touched."""
    if not records:
        raise RecordError(f"{study}: no records; expected one per grid cell")
    files: dict[str, list[Path]] = {}
    for record in records:
        cell = record.cell_id
        if record.study != study:
            raise RecordError(f"{cell}: study {record.study!r} is not allowed; allowed: {study!r}")
        if cell in files:
            raise RecordError(f"{cell}: two records for one cell; expected one")
        files[cell] = [Path(p) for p in shared_artifacts]
    unknown = sorted(set(artifacts) - set(files))
    if unknown:
        raise RecordError(
            f"artifacts: unknown cell(s) {', '.join(unknown)}; allowed: {', '.join(sorted(files))}"
        )
    for cell, paths in artifacts.items():
        files[cell] += [Path(p) for p in paths]
    for cell, paths in files.items():
        names = [p.name for p in paths] + [RECORD_ARTIFACT]
        if len(set(names)) != len(names):
            raise RecordError(f"artifacts[{cell!r}]: file names collide: {sorted(names)}")
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise RecordError(f"artifacts[{cell!r}]: no such file(s): {', '.join(missing)}")
    from mlflow.utils.validation import MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH

    plan: dict[str, _Cell] = {}
    for record in records:
        cell = record.cell_id
        params, metrics = run_params(record=record), run_metrics(record=record)
        if len(params) > MAX_PARAMS_TAGS_PER_BATCH or len(metrics) > MAX_METRICS_PER_BATCH:
            raise RecordError(
                f"{cell}: {len(params)} parameters and {len(metrics)} metrics; one MLflow "
                f"batch allows at most {MAX_PARAMS_TAGS_PER_BATCH} and {MAX_METRICS_PER_BATCH}"
            )
        plan[cell] = _Cell(
            record=record,
            sha=record.sha256(),
            params=params,
            metrics=metrics,
            files=files[cell],
        )
    return plan


def _experiment_id(client: MlflowClient, *, name: str, study: str, uri: str) -> str:
    """The id of experiment ``name``, created on first use."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage != "active":
            raise TrackingError(
                f"MLflow tracking store {redact_uri(uri)}: experiment {name!r} is deleted; "
                "restore it (mlflow experiments restore) or purge it (mlflow gc)"
            )
        return experiment.experiment_id
    db = _sqlite_path(uri)
    location = (db.parent / ARTIFACT_DIR / name).as_uri() if db is not None else None
    return client.create_experiment(name, artifact_location=location, tags={TAG_STUDY: study})


def _finished_runs(client: MlflowClient, *, experiment_id: str) -> dict[tuple[str, str], str]:
    """``{(cell id, record sha256): run id}`` of the experiment's finished runs (newest wins)."""
    found: dict[tuple[str, str], str] = {}
    token = None
    while True:
        page = client.search_runs(
            [experiment_id],
            filter_string="attributes.status = 'FINISHED'",
            max_results=_PAGE,
            order_by=["attributes.start_time ASC"],
            page_token=token,
        )
        for run in page:
            tags = run.data.tags
            if TAG_CELL in tags and TAG_RECORD in tags:
                found[(tags[TAG_CELL], tags[TAG_RECORD])] = run.info.run_id
        token = page.token
        if not token:
            return found


def _log_run(client: MlflowClient, *, experiment_id: str, cell: str, content: _Cell) -> str:
    """Create one finished run holding a cell's record; return its id."""
    from mlflow.entities import Metric, Param

    record = content.record
    run = client.create_run(
        experiment_id,
        run_name=cell,
        tags={
            TAG_CELL: cell,
            TAG_RECORD: content.sha,
            TAG_STUDY: record.study,
            TAG_COMMIT: record.git_commit,
            TAG_VERSION: record.leakbench_version,
        },
    )
    run_id = run.info.run_id
    try:
        now = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[Metric(key, value, now, 0) for key, value in content.metrics.items()],
            params=[Param(key, value) for key, value in content.params.items()],
        )
        client.log_text(run_id, record.to_json(), RECORD_ARTIFACT)
        for path in content.files:
            client.log_artifact(run_id, str(path))
    except BaseException:
        with contextlib.suppress(Exception):
            client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FINISHED")
    return run_id


def log_study(
    *,
    study: str,
    records: Sequence[MetricsRecord],
    artifacts: Mapping[str, Sequence[str | os.PathLike[str]]] | None = None,
    shared_artifacts: Sequence[str | os.PathLike[str]] = (),
    tracking_uri: str | None = None,
    default_uri: str | None = None,
    receipt: str | os.PathLike[str] | None = None,
) -> dict[str, LoggedRun]:
    """Log a study's metrics records to MLflow, one run per grid cell, idempotently.

    The experiment is ``leakbench-<study>``. Each run is named by its cell id and holds:
    the tags ``leakbench.cell_id``, ``leakbench.record_sha256``, ``leakbench.study``,
    ``leakbench.git_commit`` and ``leakbench.version`` (the last two from the record, i.e.
    the code that computed it); the parameters of :func:`run_params` and the metrics of
    :func:`run_metrics`, sent in one ``log_batch`` call; and the artifacts ``record.json``
    (the whole record), the cell's files and the shared files. See the module docstring
    for when a run is created and when it is reused.

    With a ``sqlite:///`` store, a new experiment keeps its artifacts in
    ``mlartifacts/<experiment>/`` beside the database file, whatever the working directory.

    Jobs logging to one ``sqlite:///`` store at once take turns (a lock file beside the
    database). Every input is checked before MLflow is contacted. The receipt is written
    only after every cell is logged. It is not deterministic (run ids differ between
    stores), so it must not be a DVC output.

    Args:
        study: The study name; every record must belong to it.
        records: One metrics record per grid cell.
        artifacts: ``{cell id: [files]}`` logged with that cell's run (its ROC CSV).
        shared_artifacts: Files logged with every run (the study's figure).
        tracking_uri: The store; if None, ``$MLFLOW_TRACKING_URI``, else ``default_uri``.
        default_uri: The caller's fallback store, e.g. ``sqlite:///<repo root>/mlflow.db``.
        receipt: Where to write the receipt JSON (study, experiment, run per cell).

    Returns:
        ``{cell id: LoggedRun}`` for every record.

    Raises:
        RecordError: A record or artifact list is malformed.
        TrackingError: The store is unreachable or refused a request; names the URI.
    """
    from mlflow.tracking import MlflowClient

    plan = _plan(
        study=study, records=records, artifacts=artifacts or {}, shared_artifacts=shared_artifacts
    )
    uri = resolve_tracking_uri(tracking_uri=tracking_uri, default_uri=default_uri)
    db = _sqlite_path(uri)
    if db is not None:
        with _store_errors(uri, "creating the database folder"):
            db.parent.mkdir(parents=True, exist_ok=True)
        if db.exists() and not db.is_file():
            raise TrackingError(f"MLflow tracking store {uri}: {db} is not a file")
        if not db.exists() and not os.access(db.parent, os.W_OK):
            raise TrackingError(f"MLflow tracking store {uri}: cannot create {db}")
    name = f"{EXPERIMENT_PREFIX}{study}"
    logged: dict[str, LoggedRun] = {}
    with _exclusive(uri):
        with _store_errors(uri, f"opening experiment {name!r}"):
            client = MlflowClient(tracking_uri=uri)
            experiment_id = _experiment_id(client, name=name, study=study, uri=uri)
            existing = _finished_runs(client, experiment_id=experiment_id)
        for cell, content in plan.items():
            run_id = existing.get((cell, content.sha))
            created = run_id is None
            if run_id is None:
                with _store_errors(uri, f"logging cell {cell}"):
                    run_id = _log_run(
                        client, experiment_id=experiment_id, cell=cell, content=content
                    )
                log.info("%s: logged run %s", cell, run_id)
            else:
                log.info("%s: unchanged, run %s already holds this record", cell, run_id)
            logged[cell] = LoggedRun(
                cell_id=cell, run_id=run_id, record_sha256=content.sha, created=created
            )
    if receipt is not None:
        write_json(
            receipt,
            {
                "study": study,
                "tracking_uri": redact_uri(uri),
                "experiment": {"name": name, "id": experiment_id},
                "runs": {cell: asdict(run) for cell, run in sorted(logged.items())},
            },
        )
    return logged
