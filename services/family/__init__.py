"""The family (foyer): the household file, its responsables and children, the choices and labels of its
fields, changes the parents ask for and their review by staff, the pièces justificatives (files checked
in uploads, staff decisions in decisions) and the lists staff manage (settings).
"""
