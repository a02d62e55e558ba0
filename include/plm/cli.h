/* cli.h — the conventions every plmkit program shares: messages and exit
 * codes, an option table that drives both parsing and --help, --shard,
 * progress on a terminal, and removal of half-written outputs on failure.
 *
 * Exit codes: 0 success, 1 data or runtime error, 2 usage error.
 * Messages: "tool: where: what" on stderr, one write() per line, control
 * bytes replaced by '?' so hostile input cannot drive the terminal.
 *
 * The tool name and the list of temporary files are process state, set once
 * by plm_init(): cmd/ owns the process; lib/ code returns errors instead of
 * calling plm_die() (the exceptions are documented at their declarations). */
#ifndef PLM_CLI_H
#define PLM_CLI_H

#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

void plm_init(const char *tool, int argc, char **argv);
const char *plm_tool(void);
int plm_argc(void);
char **plm_argv(void);

noreturn void plm_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
noreturn void plm_usage_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* plm_die("WHERE: MSG"), or plm_die("MSG") when where is NULL: for messages
 * that already carry their own "file: record N:" prefix. */
noreturn void plm_die_in(const char *where, const char *msg);
void plm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void plm_vmsg(const char *fmt, va_list ap);

/* Temporary files removed if the process dies (plm_die, SIGINT, SIGTERM,
 * SIGHUP).  io.c registers every atomic output here. */
void plm_tmp_register(const char *path);
void plm_tmp_forget(const char *path);

/* ---- options ---------------------------------------------------------- */

enum plm_opt_kind {
	PLM_OPT_END = 0,
	PLM_OPT_FLAG,   /* int *: set to 1 (repeatable: incremented)           */
	PLM_OPT_STR,    /* const char **                                      */
	PLM_OPT_INT,    /* long long *, range-checked when min < max          */
	PLM_OPT_DBL,    /* double *, range-checked when lo < hi               */
	PLM_OPT_LIST,   /* plm_strlist *: repeatable, each use appended        */
};

typedef struct plm_strlist {
	const char **v;
	size_t n, cap;
} plm_strlist;

typedef struct plm_opt {
	enum plm_opt_kind kind;
	int short_name;        /* 0: long only */
	const char *long_name; /* NULL: short only */
	void *value;
	const char *argname;   /* "N", "FILE"; NULL for flags */
	const char *help;
	long long min, max;    /* PLM_OPT_INT */
	double lo, hi;         /* PLM_OPT_DBL */
} plm_opt;

#define PLM_FLAG(s, l, v, h)        { PLM_OPT_FLAG, s, l, v, NULL, h, 0, 0, 0, 0 }
#define PLM_STR(s, l, v, a, h)      { PLM_OPT_STR, s, l, v, a, h, 0, 0, 0, 0 }
#define PLM_LIST(s, l, v, a, h)     { PLM_OPT_LIST, s, l, v, a, h, 0, 0, 0, 0 }
#define PLM_INT(s, l, v, a, h, mn, mx) { PLM_OPT_INT, s, l, v, a, h, mn, mx, 0, 0 }
#define PLM_DBL(s, l, v, a, h, lo, hi) { PLM_OPT_DBL, s, l, v, a, h, 0, 0, lo, hi }
#define PLM_OPT_END_ { PLM_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0 }

/* Options most stream tools share; put PLM_OPTS_OUTPUT(&c) in the table. */
typedef struct plm_common {
	int tsv, msgpack, progress;
	const char *output;    /* -o FILE; NULL = stdout */
	const char *shard;     /* --shard K/N, parse with plm_shard_parse */
} plm_common;

#define PLM_OPTS_OUTPUT(c) \
	PLM_FLAG('T', "tsv", &(c)->tsv, "write TSV (default on a terminal)"), \
	PLM_FLAG('M', "msgpack", &(c)->msgpack, "write MessagePack (default otherwise)"), \
	PLM_STR('o', "output", &(c)->output, "FILE", "write to FILE, atomically; *.gz, *.zst compressed"), \
	PLM_FLAG(0, "progress", &(c)->progress, "show progress even when stderr is not a terminal")
#define PLM_OPTS_SHARD(c) \
	PLM_STR(0, "shard", &(c)->shard, "K/N", "keep records whose id hash mod N is K (0 <= K < N)")

/* Parse argv against opts.  `usage` is the synopsis without the tool name
 * ("[-T] [-n N] [FILE ...]"), `summary` one line saying what the tool does.
 * Handles --help (stdout, exit 0), --version (exit 0) and usage errors
 * (stderr, exit 2).  Returns the index of the first operand in argv. */
int plm_parse(int argc, char **argv, const plm_opt *opts,
	      const char *usage, const char *summary);
void plm_help(FILE *fp, const plm_opt *opts, const char *usage,
	      const char *summary);

/* Output format from -T/-M: 1 = TSV, 0 = MessagePack, -1 = decide (TSV when
 * the destination is a terminal).  Dies (exit 2) when both are given. */
int plm_common_format(const plm_common *c);

/* ---- sharding --------------------------------------------------------- */

typedef struct plm_shard {
	uint64_t k, n;         /* n == 0: no sharding, everything kept */
} plm_shard;

/* Parses "K/N"; dies with exit 2 on a malformed value.  NULL → n = 0. */
plm_shard plm_shard_parse(const char *spec);
/* Keep the record whose key is key[0..len)?  Uses plm_key_hash (hash.h). */
int plm_shard_keep(const plm_shard *s, const void *key, size_t len);

/* ---- progress with ETA ------------------------------------------------ */

typedef struct plm_progress {
	int on;
	double t0, last;
	uint64_t calls;
	const char *unit;
} plm_progress;

/* on when stderr is a terminal or force != 0.  unit names what `done`
 * counts ("B", "residues", "records"). */
void plm_progress_init(plm_progress *p, int force, const char *unit);
/* Cheap to call per record: redraws at most 4 times a second.  total = 0
 * when unknown (no ETA then). */
void plm_progress_update(plm_progress *p, uint64_t done, uint64_t total,
			 uint64_t records);
void plm_progress_end(plm_progress *p, uint64_t done, uint64_t records);

/* ---- numbers ---------------------------------------------------------- */

/* Strict conversions: whole string, range-checked; 0 on success, -1 not. */
int plm_strtoll(const char *s, long long min, long long max, long long *out);
int plm_strtod(const char *s, double *out);

double plm_now(void);  /* monotonic seconds */

#endif
