"""The master workbook SalesBook.xlsm: a source-only VBA project writer ([MS-OVBA], [MS-CFB]) and the
workbook builder (`salesbook.xlsm.builder.build_workbook`)."""
