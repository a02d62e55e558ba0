/* names.c — enum values by name (include/plm/names.h). */
#include <string.h>

#include "plm/names.h"

int plm_name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}
