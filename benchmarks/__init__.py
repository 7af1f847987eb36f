"""impasto's benchmarks: scripts that measure rather than test, run from the checkout's root as
`python3 -m benchmarks.NAME` (speed, time_to_result, quality, evaluation, memory_measures,
video, gpu_check). Each says in its docstring what it measures and how long it takes, and
writes its tables to benchmarks/results/ (`--out` elsewhere). They use impasto's public API;
`common` and `objectives` hold what they share, and `measures` the network-free quality
measures."""
