"""The validity suite: independent scenarios with known truth, and a scoreboard.

``icnet.validity.scenarios`` builds organisations with named mechanisms and
confounders, written apart from the detectors and from :mod:`icnet.synth`;
``icnet.validity.scoreboard`` runs every detector on them and scores it
against the truth (recall, precision, false findings per organisation, with
95 % intervals, and the bound each detector issue sets). See docs/validity.md.
"""

from . import scenarios
from .scenarios import SCENARIOS, ScenarioData, generate, scenario_table

__all__ = ["scenarios", "SCENARIOS", "ScenarioData", "generate", "scenario_table"]
