"""The default pipeline, taught the bundled sample knowledge base, built once for these tests."""

from __future__ import annotations

import pytest

from gateway.config import Settings
from gateway.understanding.base import Analysis
from gateway.understanding.pipeline import Pipeline, pipeline_for


@pytest.fixture(scope="session")
def pipeline() -> Pipeline:
    return pipeline_for(Settings())


@pytest.fixture(scope="session")
def understand(pipeline: Pipeline):
    def run(text: str, locale: str = "zh-CN", correct: bool = True) -> Analysis:
        return pipeline.run(text, locale, correct=correct)

    return run


@pytest.fixture(scope="session")
def stage(pipeline: Pipeline):
    def find(name: str):
        return next(stage for stage in pipeline.stages if stage.name == name)

    return find
