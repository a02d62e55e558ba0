/* sample.h — seeded sampling of records: reservoirs (a fixed number of
 * rows, every subset equally likely) and quota tables (a reservoir per
 * stratum).
 *
 * Reservoirs use Algorithm R: row i (0-based) is kept outright while the
 * reservoir has room, else it replaces slot j = plm_rng_below(i + 1) when
 * j < k.  One generator call per row once full; the result depends only
 * on the seed and the order rows are offered in.  Each kept row remembers
 * its input position so output can be put back in input order.
 * Memory: the k kept rows (rows.h) + 8 bytes each. */
#ifndef PLM_SAMPLE_H
#define PLM_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "plm/map.h"
#include "plm/rng.h"
#include "plm/rows.h"
#include "plm/stream.h"

typedef struct plm_reservoir {
	uint64_t k;             /* capacity */
	uint64_t seen;          /* rows offered */
	plm_rows rows;          /* min(k, seen) rows */
	uint64_t *pos;          /* input position of each kept row */
	size_t pos_cap;
} plm_reservoir;

int plm_reservoir_init(plm_reservoir *rs, const plm_schema *s, uint64_t k);
void plm_reservoir_free(plm_reservoir *rs);
/* Offer row (input position pos).  0, or -1 when memory ran out. */
int plm_reservoir_offer(plm_reservoir *rs, plm_rng *rng, const plm_val *row,
			uint64_t pos);

/* A kept row: which reservoir, which slot, its input position. */
typedef struct plm_pick {
	uint64_t pos;
	uint32_t res, slot;
} plm_pick;

/* Every row kept by rs[0..nres), sorted by input position: *out is
 * malloc'd (free it), *n its length.  0 or -1 (no memory). */
int plm_reservoir_order(const plm_reservoir *rs, size_t nres,
			plm_pick **out, size_t *n);

/* ---- quota tables ----------------------------------------------------- */

/* A record stream whose fields are the stratum fields (str, int or bool)
 * plus an int field "quota".  Each row is one stratum; a stratum listed
 * twice, a missing or negative quota is an error. */
typedef struct plm_quota {
	size_t nf;              /* stratum fields */
	char **name;
	enum plm_type *type;
	plm_strmap *map;        /* encoded stratum (rows.h) → stratum index */
	uint64_t *quota;        /* per stratum */
	size_t n;               /* strata */
	uint64_t total;         /* sum of quotas */
} plm_quota;

int plm_quota_load(plm_quota *q, const char *path, char *err, size_t errlen);
void plm_quota_free(plm_quota *q);
/* Resolve the stratum fields in the input schema: idx[0..q->nf) get their
 * indices.  Errors: a field missing from the input, or typed differently
 * there. */
int plm_quota_bind(const plm_quota *q, const plm_schema *in, int *idx,
		   char *err, size_t errlen);
/* Stratum of row (fields at idx), or -1 when it is not in the table.
 * kb is scratch space.  -2 when memory ran out. */
long plm_quota_find(const plm_quota *q, const int *idx, const plm_val *row,
		    plm_keybuf *kb);
/* "kingdom=Viruses,bin=3" into buf (truncated to len); returns buf. */
const char *plm_quota_label(const plm_quota *q, size_t stratum, char *buf,
			    size_t len);

#endif
