/* esm_blas.c — make OpenBLAS use the kernels the CPU can run.
 *
 * Debian 12's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not recognise some
 * recent Xeons and falls back to "Prescott" kernels (SSE3, ~4x slower
 * sgemm).  OpenBLAS reads OPENBLAS_CORETYPE once, when the library is
 * loaded, so the only reliable fix from inside the program is to set the
 * variable and re-execute it. */
#include "plm/esm.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char *plm_blas_core(void)
{
	const char *s = openblas_get_corename();
	return s ? s : "unknown";
}

/* Cores OpenBLAS falls back to on unrecognised x86-64 CPUs; all of them
 * are slower than the AVX2/AVX-512 kernels on a CPU that has those. */
static int generic_core(const char *core)
{
	static const char *const weak[] = {
		"prescott", "core2", "penryn", "dunnington", "nehalem",
		"atom", "sandybridge", "katmai", "coppermine", "northwood",
		"banias", "athlon", "opteron", "barcelona", "generic",
		"unknown",
	};
	for (size_t i = 0; i < sizeof weak / sizeof *weak; i++)
		if (!strcasecmp(core, weak[i]))
			return 1;
	return 0;
}

static const char *best_core(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512vl"))
		return "SkylakeX";
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return "Haswell";
#endif
	return NULL;
}

void plm_blas_tune(int argc, char **argv, int verbose)
{
	const char *prog = argc > 0 && argv[0] ? argv[0] : "plm";
	const char *slash = strrchr(prog, '/');
	const char *env = getenv("OPENBLAS_CORETYPE");
	const char *core = plm_blas_core();
	if (slash)
		prog = slash + 1;
	if (env && *env) {
		if (verbose)
			fprintf(stderr, "%s: OpenBLAS core %s "
				"(OPENBLAS_CORETYPE=%s)\n", prog, core, env);
		return;
	}
	const char *want = best_core();
	if (!want || !generic_core(core) || argc < 1 || !argv[0]) {
		if (verbose)
			fprintf(stderr, "%s: OpenBLAS core %s (detected)\n",
				prog, core);
		return;
	}
	if (verbose)
		fprintf(stderr, "%s: OpenBLAS detected core %s; the CPU "
			"supports %s kernels: restarting with "
			"OPENBLAS_CORETYPE=%s\n", prog, core, want, want);
	fflush(NULL);
	if (setenv("OPENBLAS_CORETYPE", want, 1) == 0) {
		execv("/proc/self/exe", argv);
		execvp(argv[0], argv);
	}
	/* Still here: run with what we have. */
	unsetenv("OPENBLAS_CORETYPE");
	if (verbose)
		fprintf(stderr, "%s: re-exec failed; OpenBLAS core %s\n", prog,
			core);
}
