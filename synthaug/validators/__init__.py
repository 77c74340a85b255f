"""Validators score synthetic data for fidelity, bias and privacy (contract in ``base``)."""

from synthaug.validators.base import BaseValidator, Score, get_validator, list_validators

__all__ = ["BaseValidator", "Score", "get_validator", "list_validators"]
