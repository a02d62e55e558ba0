/* cli.c — messages, exit codes, option tables, --shard, progress. */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plm/cli.h"
#include "plm/hash.h"
#include "plm/stream.h"

#ifndef PLM_VERSION
#define PLM_VERSION "0"
#endif

/* Process state: set once by plm_init, read by the message functions and
 * the cleanup of temporary files.  Only cmd/ calls plm_init. */
static const char *tool_name = "plm";
static int saved_argc;
static char **saved_argv;

/* The table and operands of the last plm_parse, so that a usage error the
 * program finds after parsing prints the same usage line; `prog` is the
 * name in that line ("tool", or "tool SUB"). */
static const plm_opt *cur_opts;
/* A progress line stands on the terminal: a message first erases it. */
static int progress_drawn;
static const char *cur_operands;
static char prog[128];

/* Temporary files to remove on a fatal signal or plm_die: a list that
 * only grows (a slot is reused once its file is forgotten), so the signal
 * handler can walk it while the program registers more. */
struct tmp_node {
	char *volatile path;
	struct tmp_node *volatile next;
};
static struct tmp_node *volatile tmp_head;

static void remove_tmp_files(void)
{
	for (struct tmp_node *n = tmp_head; n; n = n->next) {
		char *p = n->path;
		if (p)
			unlink(p);
	}
}

static void on_signal(int sig)
{
	remove_tmp_files();   /* unlink is async-signal-safe */
	signal(sig, SIG_DFL);
	raise(sig);
}

void plm_init(const char *tool, int argc, char **argv)
{
	tool_name = tool;
	saved_argc = argc;
	/* A copy of the pointers: getopt_long permutes argv, and meta.prov
	 * should record the command as it was typed. */
	saved_argv = malloc((argc + 1) * sizeof *saved_argv);
	if (saved_argv)
		memcpy(saved_argv, argv, (argc + 1) * sizeof *saved_argv);
	else
		saved_argv = argv;
	/* A signal the parent ignored stays ignored: under nohup a hangup
	 * must not end the job (and discard its output). */
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		signal(sigs[i], on_signal);
	}
}

const char *plm_tool(void) { return tool_name; }
int plm_argc(void) { return saved_argc; }
char **plm_argv(void) { return saved_argv; }

void plm_tmp_register(const char *path)
{
	char *p = strdup(path);
	if (!p)
		return;         /* the file is then only removed by close/abort */
	for (struct tmp_node *n = tmp_head; n; n = n->next)
		if (!n->path) {
			n->path = p;
			return;
		}
	struct tmp_node *n = malloc(sizeof *n);
	if (!n) {
		free(p);
		return;
	}
	n->path = p;
	n->next = tmp_head;
	tmp_head = n;   /* published last: the handler sees a whole node */
}

void plm_tmp_forget(const char *path)
{
	for (struct tmp_node *n = tmp_head; n; n = n->next)
		if (n->path && strcmp(n->path, path) == 0) {
			char *p = n->path;
			n->path = NULL;
			free(p);
			return;
		}
}

/* The whole line goes out in one write() so that concurrent stages of a
 * pipeline sharing a terminal never interleave mid-line. */
void plm_vmsg(const char *fmt, va_list ap)
{
	char buf[4096];
	int n = snprintf(buf, sizeof buf, "%s: ", tool_name);
	if (progress_drawn) {
		ssize_t e = write(2, "\r\033[K", 4);
		(void)e;
		progress_drawn = 0;
	}
	int m = vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	for (int i = 0; i < n; i++) {
		unsigned char c = buf[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			buf[i] = '?';
	}
	buf[n++] = '\n';
	ssize_t w = write(2, buf, n);
	(void)w;
}

void plm_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	plm_vmsg(fmt, ap);
	va_end(ap);
}

void plm_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	plm_vmsg(fmt, ap);
	va_end(ap);
	remove_tmp_files();
	exit(1);
}

void plm_die_in(const char *where, const char *msg)
{
	if (where)
		plm_die("%s: %s", where, msg);
	plm_die("%s", msg);
}

void plm_usage_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	plm_vmsg(fmt, ap);
	va_end(ap);
	if (cur_opts)
		plm_usage(stderr, cur_opts, cur_operands);
	else
		fprintf(stderr, "Try '%s --help' for more information.\n",
			tool_name);
	remove_tmp_files();
	exit(2);
}

/* ---- options ---------------------------------------------------------- */

static const char *prog_name(void)
{
	return prog[0] ? prog : tool_name;
}

static size_t count_opts(const plm_opt *o)
{
	size_t n = 0;
	while (o[n].kind != PLM_OPT_END)
		n++;
	return n;
}

/* The option an alias stands for (itself for any other). */
static const plm_opt *canonical(const plm_opt *opts, const plm_opt *o)
{
	if (o->kind != PLM_OPT_ALIAS)
		return o;
	for (const plm_opt *p = opts; p->kind != PLM_OPT_END; p++)
		if (p->kind != PLM_OPT_ALIAS && p->long_name &&
		    !strcmp(p->long_name, o->alias_of))
			return p;
	fprintf(stderr, "%s: option table: alias of unknown --%s\n",
		tool_name, o->alias_of);
	abort();
}

/* Appends to a usage line being built in buf; wraps before 80 columns,
 * continuation lines indented to the end of "usage: prog ". */
struct line {
	FILE *fp;
	size_t col, indent;
};

static void put_item(struct line *l, const char *item)
{
	size_t n = strlen(item);
	if (l->col + 1 + n > 79 && l->col > l->indent) {
		fprintf(l->fp, "\n%*s", (int)l->indent, "");
		l->col = l->indent;
	} else {
		fputc(' ', l->fp);
		l->col++;
	}
	fputs(item, l->fp);
	l->col += n;
}

static void usage_line(FILE *fp, const char *lead, const plm_opt *opts,
		       const char *operands)
{
	struct line l = { fp, 0, 0 };
	char item[160], flags[64];
	size_t nf = 0;
	fprintf(fp, "%s%s", lead, prog_name());
	l.col = l.indent = strlen(lead) + strlen(prog_name()) + 1;
	l.col--;
	for (const plm_opt *o = opts; o->kind != PLM_OPT_END; o++)
		if (o->kind == PLM_OPT_FLAG && o->short_name &&
		    nf + 1 < sizeof flags)
			flags[nf++] = (char)o->short_name;
	if (nf) {
		flags[nf] = 0;
		snprintf(item, sizeof item, "[-%s]", flags);
		put_item(&l, item);
	}
	for (const plm_opt *o = opts; o->kind != PLM_OPT_END; o++) {
		if (o->kind == PLM_OPT_ALIAS ||
		    (o->kind == PLM_OPT_FLAG && o->short_name))
			continue;
		const char *open = o->required ? "" : "[";
		const char *close = o->required ? "" : "]";
		char name[64];
		if (o->short_name)
			snprintf(name, sizeof name, "-%c", o->short_name);
		else
			snprintf(name, sizeof name, "--%s", o->long_name);
		if (o->argname)
			snprintf(item, sizeof item, "%s%s %s%s", open, name,
				 o->argname, close);
		else
			snprintf(item, sizeof item, "%s%s%s", open, name, close);
		put_item(&l, item);
	}
	if (operands && *operands)
		put_item(&l, operands);
	fputc('\n', fp);
}

void plm_usage(FILE *fp, const plm_opt *opts, const char *operands)
{
	usage_line(fp, "usage: ", opts, operands);
}

static void opt_label(char *buf, size_t len, const plm_opt *o,
		      const char *argname)
{
	int n = 0;
	if (o->short_name && o->long_name)
		n = snprintf(buf, len, "-%c, --%s", o->short_name, o->long_name);
	else if (o->short_name)
		n = snprintf(buf, len, "-%c", o->short_name);
	else
		n = snprintf(buf, len, "    --%s", o->long_name);
	if (argname && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, o->long_name ? "=%s" : " %s", argname);
}

static void help_item(FILE *fp, const char *label, const char *help)
{
	if (strlen(label) <= 24)
		fprintf(fp, "  %-24s  %s\n", label, help);
	else
		fprintf(fp, "  %s\n  %-24s  %s\n", label, "", help);
}

static void help_opts(FILE *fp, const plm_opt *opts)
{
	for (const plm_opt *o = opts; o->kind != PLM_OPT_END; o++) {
		const plm_opt *c = canonical(opts, o);
		char label[128], same[96];
		opt_label(label, sizeof label, o, c->argname);
		if (o == c) {
			help_item(fp, label, o->help);
			continue;
		}
		snprintf(same, sizeof same, "same as --%s", c->long_name);
		help_item(fp, label, same);
	}
	help_item(fp, "-h, --help", "show this help and exit");
	help_item(fp, "    --version", "show the version and exit");
}

void plm_help(FILE *fp, const plm_opt *opts, const char *operands,
	      const char *summary)
{
	plm_usage(fp, opts, operands);
	fprintf(fp, "\n%s\n\n", summary);
	help_opts(fp, opts);
	fprintf(fp, "\nSee %s(1).\n", tool_name);
}

static void opt_name(char *buf, size_t len, const plm_opt *o)
{
	if (o->long_name)
		snprintf(buf, len, "--%s", o->long_name);
	else
		snprintf(buf, len, "-%c", o->short_name);
}

/* "a|b|c" → the index of arg, or -1; `list` gets "a, b or c".  "#" is
 * any number: its index is returned when arg is one, stored in *d. */
static int choice_index(const plm_opt *o, const char *arg, char *list,
			size_t len)
{
	int idx = -1, k = 0;
	size_t used = 0, alen = strlen(arg);
	list[0] = 0;
	if (o->choice_v) {
		for (; o->choice_v[k]; k++) {
			if (idx < 0 && !strcmp(o->choice_v[k], arg))
				idx = k;
			int w = snprintf(list + used, len - used, "%s%s",
					 !k ? "" : o->choice_v[k + 1] ? ", " :
					 " or ", o->choice_v[k]);
			if (w > 0 && used + (size_t)w < len)
				used += (size_t)w;
		}
		return idx;
	}
	for (const char *p = o->choices; ; k++) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		int num = n == 1 && *p == '#' && o->num;
		double d;
		if (idx >= 0)
			;
		else if (num && !plm_strtod(arg, &d) && !isnan(d) &&
			 (o->lo >= o->hi || (d >= o->lo && d <= o->hi))) {
			*o->num = d;
			idx = k;
		} else if (!num && n == alen && !strncmp(p, arg, n))
			idx = k;
		int w = snprintf(list + used, len - used, "%s%.*s",
				 !k ? "" : bar ? ", " : " or ",
				 num ? 8 : (int)n, num ? "a number" : p);
		if (w > 0 && used + (size_t)w < len)
			used += (size_t)w;
		if (!bar)
			break;
		p = bar + 1;
	}
	return idx;
}

static void opt_store(const plm_opt *o, const char *arg)
{
	char name[64];
	opt_name(name, sizeof name, o);
	switch (o->kind) {
	case PLM_OPT_FLAG:
		(*(int *)o->value)++;
		break;
	case PLM_OPT_STR:
		*(const char **)o->value = arg;
		break;
	case PLM_OPT_LIST: {
		plm_strlist *l = o->value;
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 8;
			l->v = realloc(l->v, l->cap * sizeof *l->v);
			if (!l->v)
				plm_die("out of memory");
		}
		l->v[l->n++] = arg;
		break;
	}
	case PLM_OPT_INT: {
		long long mn = o->min < o->max ? o->min : LLONG_MIN;
		long long mx = o->min < o->max ? o->max : LLONG_MAX;
		if (plm_strtoll(arg, mn, mx, o->value) != 0) {
			if (o->min < o->max)
				plm_usage_die("%s: '%s' is not an integer in [%lld, %lld]",
					      name, arg, mn, mx);
			plm_usage_die("%s: '%s' is not an integer", name, arg);
		}
		break;
	}
	case PLM_OPT_DBL: {
		double d;
		if (plm_strtod(arg, &d) != 0 || isnan(d))
			plm_usage_die("%s: '%s' is not a number", name, arg);
		if (o->lo < o->hi && (d < o->lo || d > o->hi))
			plm_usage_die("%s: '%s' is not in [%g, %g]", name, arg,
				      o->lo, o->hi);
		*(double *)o->value = d;
		break;
	}
	case PLM_OPT_CHOICE: {
		char list[256];
		int k = choice_index(o, arg, list, sizeof list);
		if (k < 0)
			plm_usage_die("%s: '%s' is not %s", name, arg, list);
		*(int *)o->value = k;
		break;
	}
	case PLM_OPT_ALIAS:
	case PLM_OPT_END:
		break;
	}
}

static noreturn void print_exit(void)
{
	fflush(stdout);
	exit(ferror(stdout) ? 1 : 0);
}

int plm_parse(int argc, char **argv, const plm_opt *opts,
	      const char *operands, const char *summary)
{
	size_t n = count_opts(opts);
	/* On the stack: usage errors exit from inside the loop, and heap
	 * arrays would then show up as leaks under LeakSanitizer. */
	struct option lo[n + 3];
	char so[3 * n + 4];
	memset(lo, 0, sizeof lo);
	size_t nl = 0, ns = 0;
	cur_opts = opts;
	cur_operands = operands;
	/* GNU order: options may follow operands (`fasta-cat x.fa -o y`,
	 * as seqkit users type it); `--` ends the options. */
	so[ns++] = ':';   /* report a missing argument as ':' */
	for (size_t i = 0; i < n; i++) {
		const plm_opt *o = canonical(opts, &opts[i]);
		int has_arg = o->kind != PLM_OPT_FLAG;
		if (opts[i].long_name) {
			lo[nl].name = opts[i].long_name;
			lo[nl].has_arg = has_arg ? required_argument : no_argument;
			lo[nl].val = 256 + (int)(o - opts);
			nl++;
		}
		if (opts[i].short_name) {
			so[ns++] = (char)opts[i].short_name;
			if (has_arg)
				so[ns++] = ':';
		}
	}
	lo[nl++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[nl++] = (struct option){ "version", no_argument, NULL, 1 };
	so[ns++] = 'h';
	so[ns] = 0;

	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (c == 'h') {
			plm_help(stdout, opts, operands, summary);
			print_exit();
		}
		if (c == 1) {
			printf("%s (plmkit) %s\n", tool_name, PLM_VERSION);
			print_exit();
		}
		if (c == '?' || c == ':') {
			const char *what = c == ':' ? "option needs an argument"
						    : "unknown option";
			if (optopt && optopt < 256)
				plm_usage_die("%s: -%c", what, optopt);
			plm_usage_die("%s: %s", what, argv[optind - 1]);
		}
		const plm_opt *o = NULL;
		if (c >= 256)
			o = &opts[c - 256];
		else
			for (size_t i = 0; i < n; i++)
				if (opts[i].short_name == c)
					o = canonical(opts, &opts[i]);
		if (o)
			opt_store(o, optarg);
	}
	return optind;
}

int plm_start(const char *tool, int argc, char **argv, const plm_opt *opts,
	      const char *operands, const char *summary)
{
	plm_init(tool, argc, argv);
	return plm_parse(argc, argv, opts, operands, summary);
}

/* ---- subcommands ------------------------------------------------------ */

static void sub_help(FILE *fp, const plm_sub *subs, const char *summary)
{
	for (const plm_sub *s = subs; s->name; s++) {
		snprintf(prog, sizeof prog, "%s %s", tool_name, s->name);
		usage_line(fp, s == subs ? "usage: " : "       ", s->opts,
			   s->operands);
	}
	prog[0] = 0;
	fprintf(fp, "\n%s\n\nsubcommands:\n", summary);
	for (const plm_sub *s = subs; s->name; s++)
		help_item(fp, s->name, s->summary);
	fprintf(fp, "\n");
	help_item(fp, "-h, --help", "show this help and exit");
	help_item(fp, "    --version", "show the version and exit");
	fprintf(fp, "\n'%s SUBCOMMAND --help' shows its options.  See %s(1).\n",
		tool_name, tool_name);
}

int plm_start_sub(const char *tool, int argc, char **argv,
		  const plm_sub *subs, const char *summary)
{
	plm_init(tool, argc, argv);
	const char *name = argc > 1 ? argv[1] : NULL;
	if (name && (!strcmp(name, "--help") || !strcmp(name, "-h"))) {
		sub_help(stdout, subs, summary);
		print_exit();
	}
	if (name && !strcmp(name, "--version")) {
		printf("%s (plmkit) %s\n", tool_name, PLM_VERSION);
		print_exit();
	}
	char list[512];
	size_t used = 0;
	for (const plm_sub *s = subs; s->name; s++) {
		if (name && !strcmp(name, s->name)) {
			snprintf(prog, sizeof prog, "%s %s", tool_name, s->name);
			int i = plm_parse(argc - 1, argv + 1, s->opts,
					  s->operands, s->summary);
			return s->run(argc - 1, argv + 1, i);
		}
		int w = snprintf(list + used, sizeof list - used, "%s%s",
				 s == subs ? "" : s[1].name ? ", " : " or ",
				 s->name);
		if (w > 0 && used + (size_t)w < sizeof list)
			used += (size_t)w;
	}
	if (!name)
		plm_usage_die("want a subcommand: %s", list);
	if (name[0] == '-')
		plm_usage_die("want a subcommand (%s) before the options, not '%s'",
			      list, name);
	plm_usage_die("unknown subcommand '%s' (%s)", name, list);
}

int plm_common_format(const plm_common *c)
{
	if (c->tsv && c->msgpack)
		plm_usage_die("-T and -M exclude each other");
	if (c->typed && c->msgpack)
		plm_usage_die("--typed and -M exclude each other");
	return c->typed ? PLM_FMT_TSV_TYPED : c->tsv ? PLM_FMT_TSV :
	       c->msgpack ? PLM_FMT_MSGPACK : PLM_FMT_AUTO;
}

/* ---- sharding --------------------------------------------------------- */

plm_shard plm_shard_parse(const char *spec)
{
	plm_shard s = { 0, 0 };
	if (!spec)
		return s;
	const char *slash = strchr(spec, '/');
	long long k, n;
	char kbuf[32];
	if (!slash || (size_t)(slash - spec) >= sizeof kbuf)
		plm_usage_die("--shard: '%s' is not K/N", spec);
	memcpy(kbuf, spec, slash - spec);
	kbuf[slash - spec] = 0;
	if (plm_strtoll(kbuf, 0, LLONG_MAX, &k) || plm_strtoll(slash + 1, 1, LLONG_MAX, &n))
		plm_usage_die("--shard: '%s' is not K/N with integers", spec);
	if (k >= n)
		plm_usage_die("--shard: K must be below N in '%s'", spec);
	s.k = (uint64_t)k;
	s.n = (uint64_t)n;
	return s;
}

int plm_shard_keep(const plm_shard *s, const void *key, size_t len)
{
	if (s->n == 0)
		return 1;
	return plm_key_hash(key, len) % s->n == s->k;
}

/* ---- progress --------------------------------------------------------- */

double plm_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void plm_progress_init(plm_progress *p, int force, const char *unit)
{
	memset(p, 0, sizeof *p);
	p->tty = isatty(2);
	p->on = force || p->tty;
	p->force = force;
	p->t0 = p->last = plm_now();
	p->unit = unit;
}

static void human(char *buf, size_t len, double x)
{
	const char *suf = " kMGT";
	int i = 0;
	while (x >= 1000 && i < 4) {
		x /= 1000;
		i++;
	}
	if (i)
		snprintf(buf, len, "%.1f%c", x, suf[i]);
	else
		snprintf(buf, len, "%.0f", x);
}

static void hms(char *buf, size_t len, double s)
{
	if (s < 0 || s > 1e7)
		s = 0;
	long t = (long)(s + 0.5);
	snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

/* On a terminal the line is redrawn in place ("\r", erase to the end);
 * elsewhere each is a line of its own, plain text. */
static void progress_draw(plm_progress *p, uint64_t done, uint64_t total,
			  uint64_t records, int final)
{
	double el = plm_now() - p->t0;
	double rate = el > 0 ? done / el : 0;
	char d[32], r[32], e[32], line[256];
	human(d, sizeof d, (double)done);
	human(r, sizeof r, rate);
	hms(e, sizeof e, el);
	int n = snprintf(line, sizeof line, "%s%s: %s %s, %llu records, %s %s/s, %s",
			 p->tty ? "\r" : "", tool_name, d, p->unit,
			 (unsigned long long)records, r, p->unit, e);
	if (total && !final && rate > 0 && done <= total) {
		char eta[32];
		hms(eta, sizeof eta, (total - done) / rate);
		n += snprintf(line + n, sizeof line - n, " (%.1f%%, ETA %s)",
			      100.0 * done / total, eta);
	}
	if (p->tty)
		n += snprintf(line + n, sizeof line - n, "\033[K");
	if (final || !p->tty)
		n += snprintf(line + n, sizeof line - n, "\n");
	progress_drawn = p->tty && !final;
	ssize_t w = write(2, line, n);
	(void)w;
}

void plm_progress_poll(plm_progress *p, uint64_t done, uint64_t total,
		       uint64_t records)
{
	if (!p->on)
		return;
	double now = plm_now();
	/* nothing for a second (a quick run shows nothing), then a redraw
	 * 4 times a second on a terminal, a line a second elsewhere */
	if (now - p->t0 < 1.0 || now - p->last < (p->tty ? 0.25 : 1.0))
		return;
	p->last = now;
	p->drawn = 1;
	progress_draw(p, done, total, records, 0);
}

void plm_progress_update(plm_progress *p, uint64_t done, uint64_t total,
			 uint64_t records)
{
	if (p->on && !(++p->calls & 63))
		plm_progress_poll(p, done, total, records);
}

void plm_progress_end(plm_progress *p, uint64_t done, uint64_t records)
{
	if (!p->on)
		return;
	if (!p->tty || (p->force && p->drawn)) {
		progress_draw(p, done, 0, records, 1);
	} else if (p->drawn) {
		ssize_t w = write(2, "\r\033[K", 4);
		(void)w;
		progress_drawn = 0;
	}
}

/* ---- numbers ---------------------------------------------------------- */

int plm_strtoll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int plm_strtod(const char *s, double *out)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || (errno == ERANGE && fabs(v) > 1)) /* underflow is fine */
		return -1;
	*out = v;
	return 0;
}
