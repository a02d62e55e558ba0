#ifndef PLM_ISA_H
#define PLM_ISA_H
/* isa.h — which of plmkit's own kernels this CPU may run.
 *
 * An instruction set is named by the string its kernels are listed
 * under: "base" (portable C), "avx2" (AVX2 + FMA), "avx512" (AVX-512 F,
 * DQ, BW, VL with AVX2 + FMA), "avx512bf16" (AVX-512 F + BF16).  Each
 * belongs to a level: base 0, avx2 1, the avx512 ones 2; the environment
 * variable PLM_ISA (base, avx2 or avx512) caps the level plmkit uses.
 *
 * Kernel tables are arrays of structs, ascending, "base" first, whose
 * member `name` is the set.  The entry in use is kept in an atomic_long
 * starting at -1: PLM_ISA_CURRENT gives its index, on first use the last
 * entry the build, the CPU and PLM_ISA allow; PLM_ISA_FORCE sets it to
 * the entry named isa if the build and the CPU have it (PLM_ISA does not
 * apply: a forced choice) and returns 0, else leaves it and returns -1. */
#include <stdatomic.h>
#include <stddef.h>

/* Whether the build and the CPU have isa (unknown names: no). */
int plm_cpu_has(const char *isa);

/* Whether PLM_ISA allows isa's level (all unless it names a lower one). */
int plm_isa_allowed(const char *isa);

/* Over n names at stride bytes apart from *first. */
size_t plm_isa_current(atomic_long *sel, const char *const *first, size_t n,
		       size_t stride);
int plm_isa_force(atomic_long *sel, const char *const *first, size_t n,
		  size_t stride, const char *isa);

#define PLM_ISA_CURRENT(sel, tab) \
	plm_isa_current((sel), &(tab)[0].name, sizeof(tab) / sizeof *(tab), \
			sizeof *(tab))
#define PLM_ISA_FORCE(sel, tab, isa) \
	plm_isa_force((sel), &(tab)[0].name, sizeof(tab) / sizeof *(tab), \
		      sizeof *(tab), (isa))

#endif
