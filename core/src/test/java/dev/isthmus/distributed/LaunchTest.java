package dev.isthmus.distributed;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LaunchTest {
    @Test
    void noLauncherVariablesMeansOneProcess() {
        assertTrue(Launch.detect(Map.of("HOME", "/root")).isEmpty());
        assertEquals(1, Launch.single().size());
    }

    @Test
    void openMpiVariablesGiveRankSizeAndLocalRank() {
        Launch launch = Launch.detect(Map.of("OMPI_COMM_WORLD_SIZE", "4", "OMPI_COMM_WORLD_RANK", "3",
                "OMPI_COMM_WORLD_LOCAL_RANK", "1")).orElseThrow();
        assertEquals(new Launch(3, 4, 1, "Open MPI (OMPI_COMM_WORLD_*)"), launch);
        assertTrue(launch.distributed());
    }

    @Test
    void pmixRankStandsInForOpenMpiRank() {
        Launch launch = Launch.detect(Map.of("OMPI_COMM_WORLD_SIZE", "2", "PMIX_RANK", "1")).orElseThrow();
        assertEquals(1, launch.rank());
        assertEquals(1, launch.localRank());
    }

    @Test
    void mpichAndSlurmVariablesAreRead() {
        assertEquals(2, Launch.detect(Map.of("PMI_SIZE", "3", "PMI_RANK", "2")).orElseThrow().rank());
        Launch slurm = Launch.detect(Map.of("SLURM_NTASKS", "8", "SLURM_PROCID", "5", "SLURM_LOCALID", "1"))
                .orElseThrow();
        assertEquals(new Launch(5, 8, 1, "Slurm (SLURM_*)"), slurm);
    }

    @Test
    void badValuesAreRefusedNamingTheVariable() {
        IllegalArgumentException notNumber = assertThrows(IllegalArgumentException.class,
                () -> Launch.detect(Map.of("OMPI_COMM_WORLD_SIZE", "two", "OMPI_COMM_WORLD_RANK", "0")));
        assertTrue(notNumber.getMessage().contains("OMPI_COMM_WORLD_SIZE=two"), notNumber.getMessage());
        IllegalArgumentException outOfRange = assertThrows(IllegalArgumentException.class,
                () -> Launch.detect(Map.of("OMPI_COMM_WORLD_SIZE", "2", "OMPI_COMM_WORLD_RANK", "2")));
        assertTrue(outOfRange.getMessage().contains("rank 2 of 2"), outOfRange.getMessage());
        IllegalArgumentException noRank = assertThrows(IllegalArgumentException.class,
                () -> Launch.detect(Map.of("OMPI_COMM_WORLD_SIZE", "2")));
        assertTrue(noRank.getMessage().contains("PMIX_RANK"), noRank.getMessage());
    }
}
