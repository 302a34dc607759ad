"""The computing layer: the numbers each notebook shows (toy problems, exact tables, precomputed slider
grids), one module per notebook topic, from the core math. No matplotlib: ``trpo_lite.figures`` draws."""
