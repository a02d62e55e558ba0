/* names.h — the option values of an enum, as a table of names indexed by
 * the enum (mlp.h, optim.h, mlptrain.h: "relu", "adam", "loss"...). */
#ifndef PLM_NAMES_H
#define PLM_NAMES_H

/* The index of s in names[0..n), or -1 when it is none of them. */
int plm_name_index(const char *const *names, int n, const char *s);

#endif
