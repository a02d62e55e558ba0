/* taxdump.h — NCBI taxonomy dump (nodes.dmp, names.dmp, merged.dmp,
 * delnodes.dmp) reduced to what dataset tools ask of it: the superkingdom
 * and kingdom of a taxid.
 *
 * Lines look like "taxid\t|\tparent\t|\trank\t|\t...\t|".  The superkingdom
 * of a taxid is the scientific name of its nearest ancestor (itself
 * included) of rank "superkingdom" or "domain" (NCBI renamed the rank in
 * 2025) or "acellular root" (the 2025 rank of Viruses, formerly a
 * superkingdom); the kingdom is that of the nearest ancestor of rank
 * "kingdom".  Either may be absent.  Virus realms ("realm") are below
 * Viruses and are not a superkingdom.
 *
 * Memory: 13 bytes per taxid up to the largest one (dense arrays; NCBI's
 * ids are below 4 million: about 50 MB), plus the names of the ranked
 * nodes only. */
#ifndef PLM_TAXDUMP_H
#define PLM_TAXDUMP_H

#include <stddef.h>
#include <stdint.h>

typedef struct plm_taxdump plm_taxdump;

/* Reads DIR/nodes.dmp and DIR/names.dmp (required), DIR/merged.dmp and
 * DIR/delnodes.dmp (when present); each may be gzip/zstd compressed under
 * the same name.  NULL + err ("DIR/nodes.dmp:LINE: what") on failure. */
plm_taxdump *plm_taxdump_load(const char *dir, char *err, size_t errlen);
void plm_taxdump_free(plm_taxdump *t);

enum plm_tax_status {
	PLM_TAX_OK = 0,
	PLM_TAX_MERGED,         /* found after following merged.dmp */
	PLM_TAX_UNKNOWN,        /* not in nodes.dmp nor merged.dmp */
	PLM_TAX_DELETED,        /* listed in delnodes.dmp */
};

/* Superkingdom and kingdom names of taxid (NULL when none or when not
 * found).  Returns a plm_tax_status, or -1 + err when the taxonomy is
 * broken on the way to the root (a parent cycle, a parent that is not a
 * node).  *to gets the taxid after merging (if to is not NULL). */
int plm_taxdump_kingdom(plm_taxdump *t, int64_t taxid, const char **superkingdom,
			const char **kingdom, int64_t *to, char *err, size_t errlen);
size_t plm_taxdump_nodes(const plm_taxdump *t);
int plm_taxdump_has_delnodes(const plm_taxdump *t);

#endif
