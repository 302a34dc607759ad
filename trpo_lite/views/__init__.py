"""Plain functions behind the notebooks' sliders, one module per notebook topic.

Each takes slider values and returns a figure (or numbers); tests call them
directly over the sliders' ranges, ``trpo_lite.widgets.slider_view`` wires them.
"""
