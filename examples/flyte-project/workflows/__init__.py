"""A small Flyte project: an ETL step and a training step, each in the image its task family needs."""
