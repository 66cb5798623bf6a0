"""Copied into the image by the spec's `copy`; run it with `python -m app.hello`."""

import os

import flytekit
import ispec_demo_a
import ispec_demo_b
import ispec_demo_c

print(os.environ.get("DEMO_GREETING", "(DEMO_GREETING is not set)"))
for module in (ispec_demo_a, ispec_demo_b, ispec_demo_c, flytekit):
    print(f"  {module.__name__} {module.__version__}")
print(f"  image id (_F_IMG_ID): {os.environ.get('_F_IMG_ID')}")
