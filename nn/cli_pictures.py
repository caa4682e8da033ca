"""What ``python -m nn train`` draws after training: loss.png and decision_boundary.png (matplotlib),
graph.svg (Graphviz only), each written whenever what it needs is installed."""

from __future__ import annotations

import os
from typing import Any, Sequence

from .progress import stage

__all__: list[str] = []  # used by the command line; not part of nn's namespace


def write_pictures(model: Any, X: Any, y: Any, history: Any, loss_fn: Any, out: str, written: list[str],
                   regularizer: Any = None, held_out: str = "validation",
                   classes: Sequence[str] | None = None) -> list[str]:
    """loss.png and decision_boundary.png (2-D data) with matplotlib, graph.svg with Graphviz: each
    written whenever what it needs is installed; a note for each one skipped."""
    notes = []
    plt: Any = None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        notes.append("loss.png and decision_boundary.png skipped: matplotlib is not installed "
                     "(pip install 'chalkgrad[plot]')")
    if plt is not None:
        from . import plot

        with stage("drawing loss.png" + (" and decision_boundary.png" if X.shape[1] == 2 else "")):
            fig = plot.loss_curves(history, held_out=held_out)
            fig.savefig(os.path.join(out, "loss.png"), dpi=100)
            plt.close(fig)
            written.append("loss.png")
            if X.shape[1] == 2:
                fig = plot.decision_boundary(model, X, y)
                fig.savefig(os.path.join(out, "decision_boundary.png"), dpi=100)
                plt.close(fig)
                written.append("decision_boundary.png")
    with stage("drawing graph.svg (one training sample's loss)") as outcome:
        drawn, note = draw_graph(model, X, y, loss_fn, regularizer, os.path.join(out, "graph.svg"), classes)
        outcome += [] if drawn else ["skipped"]
    notes += [note] if note else []
    written += ["graph.svg"] if drawn else []
    return notes


def draw_graph(model: Any, X: Any, y: Any, loss_fn: Any, regularizer: Any, path: str,
               classes: Sequence[str] | None = None) -> tuple[bool, str]:
    """Draw the training loss (with its penalty) of the sample with the largest loss: (written, note)."""
    import graphviz

    from autograd import Value

    from . import loss_graph

    model.eval()
    try:
        i, why = loss_graph.choose_sample(model, X, y, loss_fn)
        x = [Value(float(v), label=f"x[{k}]") for k, v in enumerate(X[i])]
        target = y[i].tolist() if hasattr(y[i], "tolist") else y[i]
        outputs = model(x)
        loss = data_loss = loss_fn(outputs, target)
        data_loss.label = "data loss"
        penalty = regularizer(model.parameters()) if regularizer is not None else None
        if penalty is not None:
            penalty.label = "penalty (all weights)"
            loss = data_loss + penalty
        loss.label = "loss"
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        title = f"training loss of sample {i} ({why}), after backward; grads in red"
        source, note = loss_graph.loss_graph_dot(loss, title, penalty, classes=classes,
                                                 target=_class_of(outputs, target))
        svg = graphviz.Source(source).pipe(format="svg")
    except (graphviz.ExecutableNotFound, graphviz.CalledProcessError) as error:  # Graphviz's 'dot' missing or failing
        return False, f"graph.svg skipped: cannot run graphviz ({type(error).__name__}: {error})"
    finally:
        for p in model.parameters():
            p.grad = 0.0
        model.train()
    with open(path, "wb") as f:
        f.write(svg)
    return True, note and f"graph.svg: {note}"


def _class_of(outputs: Any, target: Any) -> int | None:
    """The class a multi-class target names (an index or a one-hot row); None for one output."""
    if not isinstance(outputs, list) or len(outputs) < 2:
        return None
    return max(range(len(target)), key=target.__getitem__) if isinstance(target, list) else int(target)
