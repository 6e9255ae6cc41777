"""Models shipped with timescales: the MSN (NEURON) and spine networks (SBML)."""
