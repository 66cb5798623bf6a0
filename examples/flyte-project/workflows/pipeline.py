"""The workflow: extract, transform, train, report. Each task runs in its own image."""

from flytekit import workflow

from workflows.etl import extract, transform
from workflows.train import report, train


@workflow
def training_pipeline(rows: int = 100) -> str:
    values = extract(rows=rows)
    features = transform(values=values)
    score = train(features=features)
    return report(score=score)
