Attribute VB_Name = "SalesBook"
' SalesBook master workbook: one Sub per button on the Start sheet.
' Each Sub hands over to Python through xlwings' RunPython (open-source xlwings only);
' the work happens in salesbook.excel, which reads this workbook with Book.caller().
' Keep this file ASCII only: the VBA project is stored with code page 1252.
Option Explicit

' Check the team workbooks and list the findings.
Public Sub Validate()
    RunPython "import salesbook.excel as x; x.validate()"
End Sub

' Consolidate the team workbooks, grade customers and score the reps.
Public Sub ConsolidateScore()
    RunPython "import salesbook.excel as x; x.consolidate()"
End Sub

' Write the contract documents.
Public Sub Contracts()
    RunPython "import salesbook.excel as x; x.contracts()"
End Sub

' Write the sales reports.
Public Sub Reports()
    RunPython "import salesbook.excel as x; x.reports()"
End Sub

' Export the period's scorecards for HR.
Public Sub ExportHR()
    RunPython "import salesbook.excel as x; x.export_hr()"
End Sub

' Write each rep's appraisal statement for signing.
Public Sub Statements()
    RunPython "import salesbook.excel as x; x.statements()"
End Sub

' Close the period: consolidate, export for HR and keep those figures as paid.
Public Sub ClosePeriod()
    RunPython "import salesbook.excel as x; x.close_period()"
End Sub
