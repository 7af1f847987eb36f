"""The engine: a reusable Stylizer that runs jobs and reports plain-data events."""
