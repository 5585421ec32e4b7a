"""Pure types of the field: no I/O, no framework imports."""
