"""The family (foyer): the household file, its responsables and children, the fields and their checks,
changes the parents ask for and their review by staff, and the pièces justificatives.
"""
