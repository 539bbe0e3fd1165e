"""Reading, not only lending: recommended reading lists and a child's own progress.

`lists.py` holds the librarian's commands on the lists, their pure decisions and the named
queries of the list pages; `progress.py` the one lookup the kiosk's session screen makes. The
tables are written only by `circulation/projections/reading.py`.
"""
