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

/* A program's command line is its option table: plm_parse() parses argv
 * against it, and --help, the usage line and usage errors are generated
 * from it.  The program supplies only its operands ("[FILE ...]") and a
 * one-line summary. */
enum plm_opt_kind {
	PLM_OPT_END = 0,
	PLM_OPT_FLAG,   /* int *: set to 1 (repeatable: incremented)           */
	PLM_OPT_STR,    /* const char **                                      */
	PLM_OPT_INT,    /* long long *, range-checked when min < max          */
	PLM_OPT_DBL,    /* double *, range-checked when lo < hi               */
	PLM_OPT_LIST,   /* plm_strlist *: repeatable, each use appended        */
	PLM_OPT_CHOICE, /* int *: index of the value in choices "a|b|c"       */
	PLM_OPT_ALIAS,  /* another spelling of the option whose long name is
			   alias_of; not in the usage line, "same as" in help */
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
	const char *choices;   /* PLM_OPT_CHOICE: "a|b|c", or */
	const char *const *choice_v; /* the names, NULL-terminated */
	double *num;           /* PLM_OPT_CHOICE: where "#" (a number) goes */
	const char *alias_of;  /* PLM_OPT_ALIAS: long name of the option */
	int required;          /* usage line only: shown without brackets */
} plm_opt;

#define PLM_FLAG(s, l, v, h) \
	{ .kind = PLM_OPT_FLAG, .short_name = s, .long_name = l, .value = v, \
	  .help = h }
#define PLM_STR(s, l, v, a, h) \
	{ .kind = PLM_OPT_STR, .short_name = s, .long_name = l, .value = v, \
	  .argname = a, .help = h }
#define PLM_LIST(s, l, v, a, h) \
	{ .kind = PLM_OPT_LIST, .short_name = s, .long_name = l, .value = v, \
	  .argname = a, .help = h }
#define PLM_INT(s, l, v, a, h, mn, mx) \
	{ .kind = PLM_OPT_INT, .short_name = s, .long_name = l, .value = v, \
	  .argname = a, .help = h, .min = mn, .max = mx }
#define PLM_DBL(s, l, v, a, h, lo_, hi_) \
	{ .kind = PLM_OPT_DBL, .short_name = s, .long_name = l, .value = v, \
	  .argname = a, .help = h, .lo = lo_, .hi = hi_ }
/* choices: "a|b|c"; stores the index of the value given (int *, left
 * alone when the option is absent); another value is a usage error that
 * lists the accepted ones. */
#define PLM_CHOICE(s, l, v, a, h, ch) \
	{ .kind = PLM_OPT_CHOICE, .short_name = s, .long_name = l, .value = v, \
	  .argname = a, .help = h, .choices = ch }
/* The same with the names in a NULL-terminated array, so that the
 * program can name the value chosen: names[*v]. */
#define PLM_CHOICE_V(s, l, v, a, h, names) \
	{ .kind = PLM_OPT_CHOICE, .short_name = s, .long_name = l, .value = v, \
	  .argname = a, .help = h, .choice_v = names }
/* The same, where one alternative in ch is "#": any number in [lo, hi]
 * (unchecked when lo >= hi), stored in *d, and its index in *v. */
#define PLM_CHOICE_NUM(s, l, v, d, a, h, ch, lo_, hi_) \
	{ .kind = PLM_OPT_CHOICE, .short_name = s, .long_name = l, .value = v, \
	  .num = d, .argname = a, .help = h, .choices = ch, .lo = lo_, .hi = hi_ }
/* An older or second spelling of the option whose long name is `of`. */
#define PLM_ALIAS(s, l, of) \
	{ .kind = PLM_OPT_ALIAS, .short_name = s, .long_name = l, .alias_of = of }
/* Options the program cannot run without: the usage line shows them
 * without brackets.  (The program still checks that they were given.) */
#define PLM_STR_REQ(s, l, v, a, h) \
	{ .kind = PLM_OPT_STR, .short_name = s, .long_name = l, .value = v, \
	  .argname = a, .help = h, .required = 1 }
#define PLM_LIST_REQ(s, l, v, a, h) \
	{ .kind = PLM_OPT_LIST, .short_name = s, .long_name = l, .value = v, \
	  .argname = a, .help = h, .required = 1 }
#define PLM_INT_REQ(s, l, v, a, h, mn, mx) \
	{ .kind = PLM_OPT_INT, .short_name = s, .long_name = l, .value = v, \
	  .argname = a, .help = h, .min = mn, .max = mx, .required = 1 }
#define PLM_OPT_END_ { .kind = PLM_OPT_END }

/* Options most stream tools share. */
typedef struct plm_common {
	int tsv, typed, msgpack, progress;
	const char *output;    /* -o FILE; NULL = stdout */
	const char *shard;     /* --shard K/N, parse with plm_shard_parse */
} plm_common;

/* -T, -M, -o FILE, --progress */
#define PLM_OPTS_OUTPUT(c) \
	PLM_FLAG('T', "tsv", &(c)->tsv, "write plain TSV (a terminal otherwise gets a table to read)"), \
	PLM_FLAG(0, "typed", &(c)->typed, "write typed TSV (exact: types, provenance)"), \
	PLM_FLAG('M', "msgpack", &(c)->msgpack, "write MessagePack (default otherwise)"), \
	PLM_STR('o', "output", &(c)->output, "FILE", "write to FILE, atomically; *.gz, *.zst compressed"), \
	PLM_FLAG(0, "progress", &(c)->progress, "show progress even when stderr is not a terminal")
/* --shard K/N */
#define PLM_OPTS_SHARD(c) \
	PLM_STR(0, "shard", &(c)->shard, "K/N", "keep records whose id hash mod N is K (0 <= K < N)")
/* The end of a streaming tool's table: output options, --shard, the end
 * mark. */
#define PLM_OPTS_STREAM(c) \
	PLM_OPTS_OUTPUT(c), PLM_OPTS_SHARD(c), PLM_OPT_END_
/* --progress, --shard and --shard-key FIELD (stored in *key), and the end
 * mark: the end of the table of a tool that reads records and writes
 * something else (FASTA, arrays). */
#define PLM_OPTS_READ_KEY(c, key) \
	PLM_FLAG(0, "progress", &(c)->progress, "show progress even when stderr is not a terminal"), \
	PLM_OPTS_SHARD(c), \
	PLM_STR(0, "shard-key", key, "FIELD", "hash FIELD for --shard (default id)"), \
	PLM_OPT_END_
/* The same with --shard-key FIELD (stored in *key) after --shard. */
#define PLM_OPTS_STREAM_KEY(c, key) \
	PLM_FLAG('T', "tsv", &(c)->tsv, "write plain TSV (a terminal otherwise gets a table to read)"), \
	PLM_FLAG(0, "typed", &(c)->typed, "write typed TSV (exact: types, provenance)"), \
	PLM_FLAG('M', "msgpack", &(c)->msgpack, "write MessagePack (default otherwise)"), \
	PLM_STR('o', "output", &(c)->output, "FILE", "write to FILE, atomically; *.gz, *.zst compressed"), \
	PLM_OPTS_READ_KEY(c, key)

/* Parse argv against opts.  `operands` is what follows the options in the
 * usage line ("[FILE ...]"; "" for none), `summary` one line saying what
 * the tool does.  Handles --help (stdout, exit 0), --version (exit 0) and
 * usage errors (message and usage line on stderr, exit 2; later
 * plm_usage_die calls print the same usage line).  Options may follow
 * operands; "--" ends them.  Returns the index of the first operand. */
int plm_parse(int argc, char **argv, const plm_opt *opts,
	      const char *operands, const char *summary);
/* plm_init and plm_parse in one: the start of every main(). */
int plm_start(const char *tool, int argc, char **argv, const plm_opt *opts,
	      const char *operands, const char *summary);
/* The usage line ("usage: TOOL [-TM] [-o FILE] ... OPERANDS", wrapped) and
 * the whole --help text. */
void plm_usage(FILE *fp, const plm_opt *opts, const char *operands);
void plm_help(FILE *fp, const plm_opt *opts, const char *operands,
	      const char *summary);

/* ---- subcommands ------------------------------------------------------ */

/* A program made of subcommands (`tool SUB [options] operands`): each has
 * its own option table, operands and summary, and is run with argv[0]
 * the subcommand and the index of its first operand. */
typedef struct plm_sub {
	const char *name;
	int (*run)(int argc, char **argv, int i);
	const char *summary;
	const plm_opt *opts;
	const char *operands;
} plm_sub;

/* plm_init, then: `tool --help` lists the subcommands, `tool --version`,
 * `tool SUB --help` is SUB's help (usage "tool SUB ..."); an unknown or
 * missing subcommand is a usage error.  Parses SUB's options and returns
 * what SUB's run function returns. */
int plm_start_sub(const char *tool, int argc, char **argv,
		  const plm_sub *subs, const char *summary);

/* Output format (enum plm_fmt, stream.h) from -T/--typed/-M:
 * PLM_FMT_TSV, PLM_FMT_TSV_TYPED, PLM_FMT_MSGPACK, or PLM_FMT_AUTO when
 * none is given.  Dies (exit 2) when -M is given with either TSV flag. */
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
	int on, tty, force, drawn;
	double t0, last;
	uint64_t calls;
	const char *unit;
} plm_progress;

/* on when stderr is a terminal or force != 0 (--progress).  unit names
 * what `done` counts ("B", "residues", "records").  On a terminal a line
 * appears after a second of work, is redrawn in place and is erased at
 * the end (--progress keeps the last one); elsewhere (--progress) it is
 * plain lines, at most one a second, and a last line at the end. */
void plm_progress_init(plm_progress *p, int force, const char *unit);
/* Cheap to call per record.  total = 0 when unknown (no ETA then). */
void plm_progress_update(plm_progress *p, uint64_t done, uint64_t total,
			 uint64_t records);
/* The same without the per-call gate (the time rules still apply): for
 * callers that call it a few times a second or less. */
void plm_progress_poll(plm_progress *p, uint64_t done, uint64_t total,
		       uint64_t records);
void plm_progress_end(plm_progress *p, uint64_t done, uint64_t records);

/* ---- numbers ---------------------------------------------------------- */

/* Strict conversions: whole string, range-checked; 0 on success, -1 not. */
int plm_strtoll(const char *s, long long min, long long max, long long *out);
int plm_strtod(const char *s, double *out);

double plm_now(void);  /* monotonic seconds */

#endif
