"""salesbook: a sales operating manual made enforceable in Excel workbooks."""

__version__ = "0.1.0"
