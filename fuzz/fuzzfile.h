/* fuzzfile.h — for targets whose parser reads a path: the input written
 * to a file in one private directory (on /dev/shm when there is one),
 * made once per process and removed at exit. */
#ifndef PLM_FUZZFILE_H
#define PLM_FUZZFILE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[256];

static void fuzz_cleanup(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: cannot remove %s\n", fuzz_dir);
}

/* DIR/name holding data[0..n); returns the path (static storage, one per
 * name slot: the last 4 paths stay valid). */
static const char *fuzz_file(const char *name, const void *data, size_t n)
{
	static char path[4][320];
	static int slot;
	if (!*fuzz_dir) {
		snprintf(fuzz_dir, sizeof fuzz_dir, "%s/plm-fuzz.XXXXXX",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (!mkdtemp(fuzz_dir))
			abort();
		atexit(fuzz_cleanup);
	}
	char *p = path[slot++ & 3];
	snprintf(p, sizeof path[0], "%s/%s", fuzz_dir, name);
	FILE *f = fopen(p, "wb");
	if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f))
		abort();
	return p;
}

#endif
