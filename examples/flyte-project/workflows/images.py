"""The project's shared base image, and the settings every image of the project takes from the environment.

The registry, the base image and the package index come from environment variables, so that CI, a developer's
machine and `pyflyte register` compute the same images: set them the same way wherever the code is registered.
"""

import os

from flytekit import ImageSpec

# Where the images are pushed, e.g. ghcr.io/my-org or 123456789012.dkr.ecr.us-east-1.amazonaws.com/flyte.
REGISTRY = os.environ.get("IMAGE_REGISTRY")
# The image every image of the project starts from.
BASE_IMAGE = os.environ.get("BASE_IMAGE", "python:3.11-slim")
# A private package index, when there is one (None: PyPI, and the field is left out of the tag).
PIP_INDEX = os.environ.get("PIP_INDEX")

base = ImageSpec(
    name="flyte-project-base",
    registry=REGISTRY,
    base_image=BASE_IMAGE,
    pip_index=PIP_INDEX,
    packages=["ispec-demo-c==0.1"],
    requirements="requirements/base.txt",
    env={"PROJECT": "flyte-project"},
)
