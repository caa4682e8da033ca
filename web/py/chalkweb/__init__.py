"""The Python half of chalkgrad's browser site (docs/browser.md), run by Pyodide in a web worker.

``lab`` runs the expression lab's code and draws its last Value; ``playground`` trains an
``nn.MLP`` on one of ``nn.datasets``' sets, ``recording`` keeps its epochs for the timeline, ``explain`` draws a
clicked sample's or neuron's graph and formula, ``export`` writes the run as an ``nn.fit`` script.
All use only the standard library, ``autograd`` and the parts of ``nn`` that need no numpy, so
they run the same in CPython, where the tests check them.
"""
