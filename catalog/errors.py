"""The one base class of errors a user can fix.

Every error caused by what a user typed, uploaded or linked (an unknown id, a
number out of range, a file that cannot be read as a model) derives from
:class:`UserError`. Front ends catch this class alone and show its message as
one line; any other exception is a bug and is not hidden.

It lives in the lowest layer (the catalog) so that the catalog, the engine, the
advisor, the report builders and the command line can all raise and catch it.
"""

from __future__ import annotations


class UserError(ValueError):
    """Something the user can change; the message names it and what is allowed."""


__all__ = ["UserError"]
