"""The advisor's user error."""

from __future__ import annotations

from catalog.errors import UserError


class PlanError(UserError):
    """A plan that cannot be made; the message says why and what would help."""


__all__ = ["PlanError"]
