"""Feature networks: architectures, weights, devices, precision and calibration."""
