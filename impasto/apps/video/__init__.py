"""`impasto video`: temporally consistent stylisation of a video clip."""
