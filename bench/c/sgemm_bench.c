/*
 * The C side of the SGEMM comparison: calls the same OpenBLAS that Isthmus resolved (loaded with
 * dlopen from the path given, so both sides run identical code) and prints GFLOP/s per size.
 *
 *   sgemm_bench LIBRARY_PATH SECONDS SIZE...
 *
 * Output, one line per size:  c size=512 gflops=123.4 median_ms=2.17 runs=...
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s LIBRARY_PATH SECONDS SIZE...\n", argv[0]);
        return 2;
    }
    void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        fprintf(stderr, "sgemm_bench: %s\n", dlerror());
        return 1;
    }
    sgemm_fn sgemm = (sgemm_fn) dlsym(library, "cblas_sgemm");
    if (!sgemm) {
        fprintf(stderr, "sgemm_bench: no cblas_sgemm in %s\n", argv[1]);
        return 1;
    }
    double seconds = atof(argv[2]);
    for (int arg = 3; arg < argc; arg++) {
        int n = atoi(argv[arg]);
        float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
        for (long i = 0; i < (long) n * n; i++) {
            a[i] = (float) (i % 7) * 0.1f;
            b[i] = (float) (i % 5) * 0.2f;
            c[i] = 0;
        }
        /* Same constants as CBLAS: RowMajor = 101, NoTrans = 111. */
        for (int warm = 0; warm < 3; warm++) sgemm(101, 111, 111, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double times[10000];
        int runs = 0;
        double start = now();
        while ((now() - start < seconds || runs < 5) && runs < 10000) {
            double t = now();
            sgemm(101, 111, 111, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
            times[runs++] = now() - t;
        }
        qsort(times, runs, sizeof(double), compare);
        double median = times[runs / 2];
        printf("c size=%d gflops=%.2f median_ms=%.4f runs=%d\n", n, 2.0 * n * n * n / median * 1e-9, median * 1e3, runs);
        fflush(stdout);
        free(a);
        free(b);
        free(c);
    }
    return 0;
}
