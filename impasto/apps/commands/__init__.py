"""The commands of `impasto`, one class each: the single-image command (`stylize`) and the
subcommands listed in `registry`; `base` runs any of them. Each module is light to import: a
command's machinery (PyTorch, the web server, Ray) loads when it runs."""
