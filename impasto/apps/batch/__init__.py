"""`impasto batch`: every photo of a folder in every style of another, locally or on a Ray cluster."""
