/* err.h — error messages into a caller's buffer.
 *
 * Library functions that can fail take (char *err, size_t errlen) and, on
 * failure, leave a NUL-terminated message there ("where: what", cut to
 * errlen - 1 bytes); the caller owns the buffer.  err may be NULL or
 * errlen 0 when the caller does not want the text. */
#ifndef PLM_ERR_H
#define PLM_ERR_H

#include <stddef.h>

/* printf into err[errlen]; returns -1, so that "return plm_errf(...)"
 * reports a failure. */
int plm_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
