package dev.isthmus.distributed;

import java.util.Map;
import java.util.Optional;

/**
 * How this process was started: by an MPI launcher (mpirun/mpiexec/srun) with a rank among
 * {@code size} processes, or alone. Read from the environment the launcher sets, so that
 * {@code mpirun -np 2 isthmus train ...} needs no extra flag.
 *
 * @param rank      this process's index, 0 ≤ rank &lt; size
 * @param size      the number of processes
 * @param localRank the index among the processes on this host (chooses the GPU), or rank when unknown
 * @param launcher  which variables said so, for messages
 */
public record Launch(int rank, int size, int localRank, String launcher) {
    /**
     * Checks the components.
     *
     * @param rank the rank
     * @param size the size on every axis
     * @param localRank the local rank
     * @param launcher the launcher
     */
    public Launch {
        if (size < 1 || rank < 0 || rank >= size || localRank < 0) {
            throw new IllegalArgumentException("launch: " + launcher + " gave rank " + rank + " of " + size
                    + " (local rank " + localRank + "): the rank must be in [0, size)");
        }
    }

    /**
     * One process, no launcher.
     *
     * @return the single
     */
    public static Launch single() {
        return new Launch(0, 1, 0, "none");
    }

    /**
     * Whether more than one process trains together.
     *
     * @return whether distributed
     */
    public boolean distributed() {
        return size > 1;
    }

    /**
     * The launch this process's environment describes.
     *
     * @return the from environment
     */
    public static Launch fromEnvironment() {
        return detect(System.getenv()).orElseGet(Launch::single);
    }

    /**
     * Reads Open MPI's (OMPI_COMM_WORLD_*), PMIx's (PMIX_RANK with OMPI's size), MPICH/Hydra's
     * (PMI_RANK, PMI_SIZE) or Slurm's (SLURM_PROCID, SLURM_NTASKS) variables, in that order.
     *
     * @param environment the environment
     * @throws IllegalArgumentException when a variable is present but not a number, or the rank is out of range
     * @return the detect
     */
    public static Optional<Launch> detect(Map<String, String> environment) {
        if (environment.containsKey("OMPI_COMM_WORLD_SIZE")) {
            int size = number(environment, "OMPI_COMM_WORLD_SIZE");
            int rank = environment.containsKey("OMPI_COMM_WORLD_RANK")
                    ? number(environment, "OMPI_COMM_WORLD_RANK") : number(environment, "PMIX_RANK");
            int local = environment.containsKey("OMPI_COMM_WORLD_LOCAL_RANK")
                    ? number(environment, "OMPI_COMM_WORLD_LOCAL_RANK") : rank;
            return Optional.of(new Launch(rank, size, local, "Open MPI (OMPI_COMM_WORLD_*)"));
        }
        if (environment.containsKey("PMI_SIZE") && environment.containsKey("PMI_RANK")) {
            int rank = number(environment, "PMI_RANK");
            int local = environment.containsKey("MPI_LOCALRANKID") ? number(environment, "MPI_LOCALRANKID") : rank;
            return Optional.of(new Launch(rank, number(environment, "PMI_SIZE"), local, "MPICH/Hydra (PMI_*)"));
        }
        if (environment.containsKey("SLURM_NTASKS") && environment.containsKey("SLURM_PROCID")) {
            int rank = number(environment, "SLURM_PROCID");
            int local = environment.containsKey("SLURM_LOCALID") ? number(environment, "SLURM_LOCALID") : rank;
            return Optional.of(new Launch(rank, number(environment, "SLURM_NTASKS"), local, "Slurm (SLURM_*)"));
        }
        return Optional.empty();
    }

    private static int number(Map<String, String> environment, String name) {
        String value = environment.get(name);
        if (value == null) {
            throw new IllegalArgumentException("launch: " + name + " is not set but other launcher variables are");
        }
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException notNumber) {
            throw new IllegalArgumentException("launch: " + name + "=" + value + " is not a whole number");
        }
    }
}
