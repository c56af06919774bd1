"""The benchmark suite behind bench/run.py: WfCommons workflows converted to
.mlx, WDL and Snakefiles, measured side by side, written up as Markdown."""
