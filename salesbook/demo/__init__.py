"""The demo workspace generator, in modules by what each owns.

`vocabulary` (names, companies, products, teams, plans), `rules` (grades, company names, periods),
`builder` (`TeamBuilder`: ids, people, reps, customers, activities, personal file, targets),
`deals` (opportunities, contracts, orders, collections, complaints, expenses), `defects` (the
deliberate defects), `workbooks` (how rows become .xlsx files) and `generate` (`generate_demo`).
The public surface is re-exported by `salesbook.demo_data`.
"""
