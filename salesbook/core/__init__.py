"""Pure business logic: DataFrames and settings in; findings, grades and scores out.

Imports pandas and the standard library only.
"""
