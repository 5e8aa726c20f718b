package dev.isthmus.distributed;

import dev.isthmus.bindings.NativeLibrary;

import java.lang.foreign.MemorySegment;

/**
 * Open MPI's predefined handles. In mpi.h, {@code MPI_COMM_WORLD} is the macro
 * {@code ((MPI_Comm) &ompi_mpi_comm_world)}: a handle is the address of a global in libmpi, which
 * jextract cannot express, so each is looked up by name through the project's locator. Open MPI's
 * ABI has kept these names since 1.x; MPICH's integer handles would need a different class.
 */
public enum MpiHandles {
    /** Open MPI's global {@code ompi_mpi_comm_world}. */
    COMM_WORLD("ompi_mpi_comm_world"),
    /** Open MPI's global {@code ompi_mpi_float}. */
    FLOAT("ompi_mpi_float"),
    /** Open MPI's global {@code ompi_mpi_double}. */
    DOUBLE("ompi_mpi_double"),
    /** Open MPI's global {@code ompi_mpi_int}. */
    INT("ompi_mpi_int"),
    /** Open MPI's global {@code ompi_mpi_long}. */
    LONG("ompi_mpi_long"),
    /** Open MPI's global {@code ompi_mpi_byte}. */
    BYTE("ompi_mpi_byte"),
    /** Open MPI's global {@code ompi_mpi_op_sum}. */
    SUM("ompi_mpi_op_sum"),
    /** Open MPI's global {@code ompi_mpi_op_max}. */
    MAX("ompi_mpi_op_max"),
    /** Open MPI's global {@code ompi_mpi_op_min}. */
    MIN("ompi_mpi_op_min");

    private final String symbol;
    private volatile MemorySegment address;

    MpiHandles(String symbol) {
        this.symbol = symbol;
    }

    /**
     * The Open MPI global this handle points at.
     *
     * @return the symbol
     */
    public String symbol() {
        return symbol;
    }

    /**
     * The handle to pass to MPI functions.
     *
     * @throws dev.isthmus.bindings.NativeLibraryException when libmpi cannot be loaded
     * @throws IllegalStateException when the loaded libmpi lacks the global (not Open MPI)
     * @return the address
     */
    public MemorySegment address() {
        MemorySegment resolved = address;
        if (resolved == null) {
            resolved = NativeLibrary.MPI.symbols().find(symbol).orElseThrow(() -> new IllegalStateException(
                    "MPI handle " + name() + ": " + NativeLibrary.MPI.load().location()
                            + " does not export " + symbol + " (Isthmus needs Open MPI's libmpi.so.40)"));
            address = resolved;
        }
        return resolved;
    }
}
