TITLE VecStim: an artificial cell that emits one event at each time of a Vector

COMMENT
Written for this project (NEURON 9 has no built-in VecStim). Usage from Python:
    stim = h.VecStim(); stim.play(h.Vector(times_ms))
The times must be sorted ascending. play() without argument detaches the vector.
The vector is referenced (kept alive) while attached. Times before t at initialization
are emitted immediately, as NEURON delivers any event with a time in the past.
ENDCOMMENT

NEURON {
    THREADSAFE
    ARTIFICIAL_CELL VecStim
    POINTER ptr
    RANGE next_index
}

ASSIGNED {
    next_index
    next_time (ms)
    ptr
}

INITIAL {
    next_index = 0
    advance()
    if (next_index > 0) {
        net_send(next_time - t, 1)
    }
}

NET_RECEIVE (w) {
    if (flag == 1) {
        net_event(t)
        advance()
        if (next_index > 0) {
            net_send(next_time - t, 1)
        }
    }
}

DESTRUCTOR {
VERBATIM
    {
        IvocVect* times = (IvocVect*) _p_ptr;
        if (times) {
            hoc_obj_unref(*vector_pobj(times));
        }
    }
ENDVERBATIM
}

PROCEDURE advance() {
    : load the next time into next_time; next_index = -1 once the vector is exhausted
VERBATIM
    {
        IvocVect* times = (IvocVect*) _p_ptr;
        int k = (int) next_index;
        if (k < 0 || !times || k >= vector_capacity(times)) {
            next_index = -1.;
        } else {
            next_time = vector_vec(times)[k];
            next_index = k + 1.;
        }
    }
ENDVERBATIM
}

PROCEDURE play() {
VERBATIM
    {
        IvocVect* times = NULL;
        IvocVect* previous = (IvocVect*) _p_ptr;
        if (ifarg(1)) {
            times = vector_arg(1);
            hoc_obj_ref(*vector_pobj(times));
        }
        if (previous) {
            hoc_obj_unref(*vector_pobj(previous));
        }
        _p_ptr = (double*) times;
    }
ENDVERBATIM
}
