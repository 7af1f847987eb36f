"""`impasto weights`: list, fetch and verify the networks' weights, and show where they are kept."""
