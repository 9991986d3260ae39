"""The understanding pipeline: the configured stages, run in order."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from gateway import extensions, metrics
from gateway.config import ConfigError, UnderstandingConfig, describe
from gateway.understanding.base import Analysis, Stage


class Pipeline:
    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = list(stages)

    @classmethod
    def from_config(cls, config: UnderstandingConfig) -> Pipeline:
        stages = []
        for name in config.stages:
            try:
                stage_class: type[Stage] = extensions.load("gateway.stages", name)
                options = stage_class.Options.model_validate(config.options.get(name, {}))
            except extensions.UnknownExtension as exc:
                raise ConfigError(str(exc)) from exc
            except ValidationError as exc:
                raise ConfigError(f"understanding stage {name!r}: {describe(exc)}") from exc
            stages.append(stage_class(options))
        return cls(stages)

    def run(self, text: str, locale: str = "zh-CN") -> Analysis:
        analysis = Analysis(original=text, text=text, locale=locale)
        for stage in self.stages:
            before = analysis.text
            with metrics.stage(stage.name):
                stage.apply(analysis)
            if analysis.text != before:
                metrics.CORRECTIONS.labels(stage.name).inc()
        return analysis
