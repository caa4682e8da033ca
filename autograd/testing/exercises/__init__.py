"""Checks for the exercise notebooks (notebooks/exercises/): one function per exercise.

    from autograd.testing.exercises import check_tanh, check
    check_tanh(my_tanh)               # prints "✓ tanh: ..." and returns True
    check_tanh(my_tanh, hidden=True)  # the hidden tests: other numbers, drawn from the course seed
    check("tanh", my_tanh)            # the same check, by name (quiet=True: no pass line)

A check calls the student's function on the lecture's numbers (and on drawn inputs) and compares
with chalkgrad's own answer; ``hidden=True`` runs it on numbers drawn from the course seed (the
``CHALKGRAD_COURSE_SEED`` environment variable), so a hard-coded answer fails.  Exercises that ask
for the work by hand run the student's code with the engine's differentiation switched off
(:func:`autograd.modes.own_work`), and chalkgrad's own ops and rules are refused as answers.
On a mistake a check raises :class:`ExerciseFailed`, an ``AssertionError`` whose message is one
line: the input, what was expected, what came back and, where a common mistake explains the
difference, which one.  Checks are plain Python, so pytest and nbgrader call them as they are.
"""

from .batchnorm import check_batchnorm_backward, check_batchnorm_forward
from .core import CHECKS, SEED_VARIABLE, ExerciseFailed, check, needs
from .derivatives import check_sigmoid, check_softplus, check_tanh
from .examples import check_and_example, check_imperial_example, check_one_hidden_unit
from .graphs import check_backward, check_central_difference, check_topological_sort
from .loops import (
           check_bias_trick,
           check_early_stopping,
           check_minibatches,
           check_perceptron_update,
           check_training_loop,
)
from .matrices import check_loss_gradient, check_matrix_backprop, check_permute_hidden, check_softmax_cross_entropy
from .networks import check_layer, check_mlp, check_neuron, check_xor
from .training import (
           check_dropout_scale,
           check_init_variance,
           check_inverse_time,
           check_l2_gradient,
           check_momentum_step,
)

__all__ = ["ExerciseFailed", "CHECKS", "SEED_VARIABLE", "check", "needs", "check_tanh", "check_sigmoid",
           "check_softplus", "check_topological_sort", "check_backward", "check_central_difference",
           "check_one_hidden_unit", "check_imperial_example", "check_and_example", "check_neuron", "check_layer",
           "check_mlp", "check_xor", "check_momentum_step", "check_inverse_time", "check_l2_gradient",
           "check_dropout_scale", "check_init_variance", "check_loss_gradient", "check_softmax_cross_entropy",
           "check_matrix_backprop", "check_permute_hidden", "check_bias_trick", "check_perceptron_update",
           "check_minibatches", "check_training_loop", "check_early_stopping", "check_batchnorm_forward",
           "check_batchnorm_backward"]
