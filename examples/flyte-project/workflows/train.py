"""Training, in its own image built on the shared base, and a report in a small image of its own."""

from typing import List

from flytekit import ImageSpec, task

from workflows.images import BASE_IMAGE, PIP_INDEX, REGISTRY, base

# A new ImageSpec whose base_image is the base spec: the base is built first, and this image starts FROM it.
train_image = ImageSpec(
    name="flyte-project-train",
    registry=REGISTRY,
    base_image=base,
    pip_index=PIP_INDEX,
    packages=["ispec-demo-a==2.0"],
    env={"STAGE": "train"},
)


@task(container_image=train_image)
def train(features: List[float]) -> float:
    import ispec_demo_a
    import ispec_demo_c

    print(f"training with ispec_demo_a {ispec_demo_a.__version__}, ispec_demo_c {ispec_demo_c.__version__}")
    return sum(features) / max(len(features), 1)


@task(
    container_image=ImageSpec(
        name="flyte-project-report",
        registry=REGISTRY,
        base_image=BASE_IMAGE,
        pip_index=PIP_INDEX,
        packages=["ispec-demo-a==2.0"],
    )
)
def report(score: float) -> str:
    return f"score: {score:.3f}"
