"""Extract and transform: the base image plus the client library the extract step talks to its source with."""

from typing import List

from flytekit import task

from workflows.images import base

# The base with one more package: the same name, another tag (flytekit's with_packages copies the spec).
etl_image = base.with_packages(["ispec-demo-a==1.0"])


@task(container_image=etl_image)
def extract(rows: int) -> List[int]:
    import ispec_demo_a

    print(f"extracting {rows} rows with ispec_demo_a {ispec_demo_a.__version__}")
    return list(range(rows))


@task(container_image=etl_image)
def transform(values: List[int]) -> List[float]:
    return [v / 10 for v in values]
