"""Planners (pure): a target + the knowledge base + the user's pins -> a Plan, and its exports."""

from .core import parse_torch_pin, plan_for
from .target import PlanInputError, describe_target, target_from_facts, with_overrides

__all__ = ["PlanInputError", "describe_target", "parse_torch_pin", "plan_for", "target_from_facts", "with_overrides"]
