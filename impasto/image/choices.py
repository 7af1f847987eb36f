"""The image choices a run's settings name, as plain data that imports no PyTorch."""

INITS = ("content", "palette", "gaussian", "uniform", "blend")
"""Starting images (see `image.initial`)."""
PRESERVE_COLOR = ("none", "luminance", "histogram")
"""Ways of keeping the content's colours (see `image.color`)."""
