TITLE catotal: total free calcium cai + cali of a segment, as one watchable RANGE variable

COMMENT
Written by this project (not part of the study's model). The coupling reads the spine
head's calcium as the sum of the ca and cal pools; `total` holds that sum, recomputed
after every solve so that a NetCon threshold watch or a pointer gather can sit on it.
It writes no current and no concentration.
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX catotal
    USEION ca READ cai
    USEION cal READ cali VALENCE 2
    RANGE total
}

UNITS {
    (mM) = (milli/liter)
}

ASSIGNED {
    cai (mM)
    cali (mM)
    total (mM)
}

INITIAL {
    total = cai + cali
}

AFTER SOLVE {
    total = cai + cali
}
