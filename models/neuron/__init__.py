"""The striatal medium spiny neuron of Mattioni & Le Novère 2013, rebuilt for NEURON 9."""
