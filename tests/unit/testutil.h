/* testutil.h — a scratch directory for the unit tests that write files.
 *
 *   if (tu_mkdir("t-io")) return 1;   creates $TMPDIR/t-io.XXXXXX (/tmp
 *                                      without TMPDIR)
 *   tu_path("a.gz")                    a file in it; the last 4 stay valid
 *   tu_rmdir();                        removes it and everything in it
 *
 * Header-only, like tap.h (included first). */
#ifndef PLM_TESTUTIL_H
#define PLM_TESTUTIL_H

#include "tap.h"

#include <stdio.h>
#include <stdlib.h>

static char tu_dir[512];

static char *tu_path(const char *name) __attribute__((unused));
static char *tu_path(const char *name)
{
	static char buf[4][768];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", tu_dir, name);
	return buf[k];
}

static int tu_mkdir(const char *name) __attribute__((unused));
static int tu_mkdir(const char *name)
{
	const char *t = getenv("TMPDIR");
	snprintf(tu_dir, sizeof tu_dir, "%s/%s.XXXXXX", t && *t ? t : "/tmp",
		 name);
	if (!mkdtemp(tu_dir)) {
		perror(tu_dir);
		return -1;
	}
	return 0;
}

static void tu_rmdir(void) __attribute__((unused));
static void tu_rmdir(void)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tu_dir);
	if (system(cmd))
		diag("could not remove %s", tu_dir);
}

#endif
