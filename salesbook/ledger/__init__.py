"""The ledger: a database that remembers every consolidation and every closed period (SPEC §8).

The pipeline, the actions and the CLI call this small interface; `salesbook.core` never imports it.
"""

from .fingerprints import source_fingerprints
from .store import (
    FAULT_ENV,
    HEAD,
    PAUSE_ENV,
    CloseInfo,
    Ledger,
    LedgerError,
    LedgerTooNew,
    PeriodClosed,
    PeriodNotClosed,
    PeriodState,
    RunRecord,
    fault_point,
    open_ledger,
    os_user,
    resolve_url,
    show_time,
)

__all__ = ["FAULT_ENV", "HEAD", "PAUSE_ENV", "CloseInfo", "Ledger", "LedgerError", "LedgerTooNew", "PeriodClosed",
           "PeriodNotClosed", "PeriodState", "RunRecord", "fault_point", "open_ledger", "os_user", "resolve_url",
           "show_time", "source_fingerprints"]
