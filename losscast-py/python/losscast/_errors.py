"""The exceptions and warnings losscast raises, with the command line's messages."""

from ._native import BadInput, FitFailed


class LosscastWarning(UserWarning):
    """What the command line prints as `losscast: warning:` or `note:` (an extrapolation, a
    log's hygiene, a fit without intervals)."""


class UntrustworthyFit(LosscastWarning):
    """The fit did not converge, hit a bound, or left a parameter unidentified: its record
    says why. The fit is still returned, as the CLI still writes it."""


__all__ = ["BadInput", "FitFailed", "LosscastWarning", "UntrustworthyFit"]
