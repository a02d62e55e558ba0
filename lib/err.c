/* err.c — error messages into a caller's buffer (err.h). */
#include <stdarg.h>
#include <stdio.h>

#include "plm/err.h"

int plm_errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}
