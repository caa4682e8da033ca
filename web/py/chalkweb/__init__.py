"""The Python half of chalkgrad's browser site (docs/browser.md), run by Pyodide in a web worker.

``lab`` runs the expression lab's code and draws its last Value; ``playground`` trains an
``nn.MLP`` on a 2-D ``toydata`` set.  Both use only the standard library, ``autograd`` and ``nn``'s
model-building parts (no numpy), so they run the same in CPython, where the tests check them.
"""
