"""File-level step of the scorecard: published numbers beside leakbench's values."""

from __future__ import annotations

from leakbench.errors import UnknownNameError
from leakbench.io import read_json
from leakbench.reporting.published import read_published
from leakbench.reporting.scorecard import score, scorecard_table, summary_record
from leakbench.reporting.tables import write_table_csv, write_table_md
from leakbench.steps.context import Files, Job
from leakbench.studies.specs import STUDIES


def aggregate(*, job: Job, files: Files) -> None:
    """The scorecard table (outputs ``csv``, ``md``) and its summary record (``summary``)
    from the published numbers (input ``published``; setting ``published``, its path as
    the config names it) and the summary metrics file of every configured study (the input
    named after the study; a study the config leaves out has none, and its rows are not
    run).

    Raises:
        UnknownNameError: if a row reads a study that is not registered (a misspelt study
            would otherwise read as not run).
    """
    rows = read_published(files.input("published"))
    for row in rows:
        if row.metric.study not in STUDIES:
            raise UnknownNameError(f"{row.id}.metric.study", row.metric.study, STUDIES)
    summaries = {name: read_json(files.input(name)) for name in STUDIES if files.input_list(name)}
    scored = score(rows=rows, summaries=summaries)
    table = scorecard_table(scored=scored)
    write_table_csv(table=table, path=files.output("csv"))
    write_table_md(table=table, path=files.output("md"))
    summary_record(scored=scored, published=job.setting("published")).write(files.output("summary"))
