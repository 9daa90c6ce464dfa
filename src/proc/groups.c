/* process-exporter's grouping rules: parsing the YAML, matching, naming. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proc/groups.h"

enum seg_kind {
	SEG_TEXT,
	SEG_COMM,
	SEG_EXEBASE,
	SEG_EXEFULL,
	SEG_USER,
	SEG_PID,
	SEG_START,
	SEG_CGROUPS,
	SEG_MATCH
};

struct seg {
	enum seg_kind kind;
	char *text; /* literal, or the capture name for SEG_MATCH */
};

struct regex {
	pcre2_code *code;
	pcre2_match_data *md;
};

struct group_rule {
	struct seg *segs;
	size_t nsegs;
	char **comms;
	size_t ncomms;
	char **exes; /* with a '/': argv[0] exactly; without: its basename */
	size_t nexes;
	struct regex *res;
	size_t nres;
	struct regex *cgres; /* on the paths of /proc/PID/cgroup: one must match each */
	size_t ncgres;
};

static const struct {
	const char *name;
	enum seg_kind kind;
} fields[] = {
    {"Comm", SEG_COMM}, {"ExeBase", SEG_EXEBASE}, {"ExeFull", SEG_EXEFULL}, {"Username", SEG_USER},
    {"PID", SEG_PID},	{"StartTime", SEG_START}, {"Cgroups", SEG_CGROUPS},
};

static int push_seg(struct group_rule *g, enum seg_kind kind, const char *text, size_t len)
{
	struct seg *s = realloc(g->segs, (g->nsegs + 1) * sizeof(*s));
	if (!s)
		return -1;
	g->segs = s;
	s[g->nsegs].kind = kind;
	s[g->nsegs].text = text ? strndup(text, len) : NULL;
	g->nsegs++;
	return 0;
}

/* "{{.Comm}}:{{ .Matches.x }}" into segments; an unknown field is an error. */
static int parse_template(struct group_rule *g, const char *t, const char *where, struct err *e)
{
	while (*t) {
		const char *open = strstr(t, "{{");
		if (!open)
			return push_seg(g, SEG_TEXT, t, strlen(t));
		if (open > t && push_seg(g, SEG_TEXT, t, (size_t)(open - t)))
			return -1;
		const char *close = strstr(open, "}}");
		if (!close)
			return err_set(e, "%s: name: '{{' without '}}'", where);
		const char *f = open + 2, *end = close;
		while (*f == ' ')
			f++;
		while (end > f && end[-1] == ' ')
			end--;
		size_t len = (size_t)(end - f);
		int known = 0;
		if (len > 9 && !strncmp(f, ".Matches.", 9)) {
			if (push_seg(g, SEG_MATCH, f + 9, len - 9))
				return -1;
			known = 1;
		}
		for (size_t i = 0; !known && i < ARRAY_LEN(fields); i++)
			if (f[0] == '.' && len - 1 == strlen(fields[i].name) &&
			    !strncmp(f + 1, fields[i].name, len - 1)) {
				if (push_seg(g, fields[i].kind, NULL, 0))
					return -1;
				known = 1;
			}
		if (!known)
			return err_set(
			    e,
			    "%s: name: unknown template field '%.*s' (known: .Comm .ExeBase "
			    ".ExeFull .Username .PID .StartTime .Cgroups .Matches.NAME)",
			    where, (int)len, f);
		t = close + 2;
	}
	return 0;
}

/* A sequence of scalars (or one scalar) into a string list. */
static int parse_list(const struct yaml_walk *w, yaml_node_t *n, const char *what, char ***out,
		      size_t *count, struct err *e)
{
	char where[PATH_MAX + 32];
	if (*out)
		return err_set(e, "%s: %s given twice in one entry",
			       yaml_where(w, n, where, sizeof(where)), what);
	if (n->type == YAML_SCALAR_NODE) {
		*out = calloc(1, sizeof(char *));
		(*out)[0] = strdup((const char *)n->data.scalar.value);
		*count = 1;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return err_set(e, "%s: %s must be a list of strings",
			       yaml_where(w, n, where, sizeof(where)), what);
	size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	*out = calloc(len ? len : 1, sizeof(char *));
	*count = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		const char *v = yaml_scalar(w, yaml_document_get_node(w->doc, *it), what, e);
		if (!v)
			return -1;
		(*out)[(*count)++] = strdup(v);
	}
	if (!*count)
		return err_set(e, "%s: %s is empty", yaml_where(w, n, where, sizeof(where)), what);
	return 0;
}

/* Compiles the patterns of one selector (cmdline or cgroup) into *out. */
static int compile_regexes(struct regex **out, size_t *nout, char **pats, size_t n,
			   const char *what, const char *where, struct err *e)
{
	struct regex *res = calloc(n ? n : 1, sizeof(*res));
	*out = res;
	if (!res)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int code;
		PCRE2_SIZE off;
		res[i].code =
		    pcre2_compile((PCRE2_SPTR)pats[i], PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
		if (!res[i].code) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(code, msg, sizeof(msg));
			return err_set(e, "%s: %s regex '%s': %s at offset %zu", where, what,
				       pats[i], (char *)msg, (size_t)off);
		}
		(*nout)++;
		res[i].md = pcre2_match_data_create_from_pattern(res[i].code, NULL);
		if (!res[i].md)
			return err_set(e, "out of memory");
	}
	return 0;
}

static void free_regexes(struct regex *res, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		pcre2_match_data_free(res[i].md);
		pcre2_code_free(res[i].code);
	}
	free(res);
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static void rule_free(struct group_rule *g)
{
	for (size_t i = 0; i < g->nsegs; i++)
		free(g->segs[i].text);
	free(g->segs);
	free_list(g->comms, g->ncomms);
	free_list(g->exes, g->nexes);
	free_regexes(g->res, g->nres);
	free_regexes(g->cgres, g->ncgres);
}

/* Warns about {{.Matches.x}} with no capture x: process-exporter prints
 * "<no value>" there, so the file is still accepted. */
static void check_matches(const struct group_rule *g, const char *where)
{
	for (size_t i = 0; i < g->nsegs; i++) {
		if (g->segs[i].kind != SEG_MATCH)
			continue;
		int found = 0;
		for (size_t r = 0; r < g->nres && !found; r++)
			found = pcre2_substring_number_from_name(g->res[r].code,
								 (PCRE2_SPTR)g->segs[i].text) > 0;
		for (size_t r = 0; r < g->ncgres && !found; r++)
			found = pcre2_substring_number_from_name(g->cgres[r].code,
								 (PCRE2_SPTR)g->segs[i].text) > 0;
		if (!found)
			log_warn(
			    "%s: name uses .Matches.%s but no cmdline or cgroup regex captures "
			    "(?P<%s>...)",
			    where, g->segs[i].text, g->segs[i].text);
	}
}

static int parse_rule(struct group_rule *g, const struct yaml_walk *w, yaml_node_t *n,
		      unsigned *needs, struct err *e)
{
	char where[PATH_MAX + 32];
	yaml_where(w, n, where, sizeof(where));
	if (n->type != YAML_MAPPING_NODE)
		return err_set(
		    e, "%s: each process_names entry must be a mapping (name, comm, exe, cmdline)",
		    where);
	const char *name = "{{.ExeBase}}";
	char **cmdlines = NULL, **cgroups = NULL;
	size_t ncmdlines = 0, ncgroups = 0;
	int rc = 0;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top && !rc; p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
		const char *key = yaml_scalar(w, k, "a key", e);
		if (!key)
			rc = -1;
		else if (!strcmp(key, "name"))
			rc = (name = yaml_scalar(w, v, "name", e)) ? 0 : -1;
		else if (!strcmp(key, "comm"))
			rc = parse_list(w, v, "comm", &g->comms, &g->ncomms, e);
		else if (!strcmp(key, "exe"))
			rc = parse_list(w, v, "exe", &g->exes, &g->nexes, e);
		else if (!strcmp(key, "cmdline"))
			rc = parse_list(w, v, "cmdline", &cmdlines, &ncmdlines, e);
		else if (!strcmp(key, "cgroup"))
			rc = parse_list(w, v, "cgroup", &cgroups, &ncgroups, e);
		else
			rc = err_set(e,
				     "%s: unknown key '%s' (expected name, comm, exe, cmdline, "
				     "cgroup)",
				     yaml_where(w, k, where, sizeof(where)), key);
	}
	yaml_where(w, n, where, sizeof(where));
	if (!rc && !g->ncomms && !g->nexes && !ncmdlines && !ncgroups)
		rc = err_set(e, "%s: entry has no selector (comm, exe, cmdline or cgroup)", where);
	if (!rc)
		rc = compile_regexes(&g->res, &g->nres, cmdlines, ncmdlines, "cmdline", where, e);
	if (!rc)
		rc = compile_regexes(&g->cgres, &g->ncgres, cgroups, ncgroups, "cgroup", where, e);
	if (!rc)
		rc = parse_template(g, name, where, e);
	free_list(cmdlines, ncmdlines);
	free_list(cgroups, ncgroups);
	if (rc)
		return -1;
	check_matches(g, where);
	if (g->nexes || g->nres)
		*needs |= GROUP_NEEDS_ARGV;
	if (g->ncgres)
		*needs |= GROUP_NEEDS_CGROUPS;
	for (size_t i = 0; i < g->nsegs; i++) {
		enum seg_kind k = g->segs[i].kind;
		/* captures come from the cmdline regexes, or the cgroup ones */
		if (k == SEG_EXEBASE || k == SEG_EXEFULL || (k == SEG_MATCH && g->nres))
			*needs |= GROUP_NEEDS_ARGV;
		if (k == SEG_CGROUPS)
			*needs |= GROUP_NEEDS_CGROUPS;
	}
	return 0;
}

int group_rules_parse(struct group_rules *r, const struct yaml_walk *w, yaml_node_t *seq,
		      struct err *e)
{
	char where[PATH_MAX + 32];
	memset(r, 0, sizeof(*r));
	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return err_set(e, "%s: process_names must be a list of entries",
			       seq ? yaml_where(w, seq, where, sizeof(where)) : w->file);
	size_t len = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	r->rules = calloc(len ? len : 1, sizeof(*r->rules));
	if (!r->rules)
		return err_set(e, "out of memory");
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		r->n++;
		if (parse_rule(&r->rules[r->n - 1], w, yaml_document_get_node(w->doc, *it),
			       &r->needs, e)) {
			group_rules_free(r);
			return -1;
		}
	}
	return 0;
}

int group_rules_load(struct group_rules *r, const char *path, struct err *e)
{
	yaml_document_t doc;
	group_rules_default(r);
	if (yaml_load_file(&doc, path, e))
		return -1;
	struct yaml_walk w = {&doc, path};
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	int rc = 0;
	/* Other keys are process-exporter's or hindsight's own; keys are unique. */
	if (root && root->type == YAML_MAPPING_NODE)
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		     p < root->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(&doc, p->key);
			if (k->type == YAML_SCALAR_NODE &&
			    !strcmp((char *)k->data.scalar.value, "process_names"))
				rc = group_rules_parse(r, &w,
						       yaml_document_get_node(&doc, p->value), e);
		}
	yaml_document_delete(&doc);
	return rc;
}

void group_rules_default(struct group_rules *r)
{
	memset(r, 0, sizeof(*r));
}

void group_rules_free(struct group_rules *r)
{
	for (size_t i = 0; i < r->n; i++)
		rule_free(&r->rules[i]);
	free(r->rules);
	memset(r, 0, sizeof(*r));
}

/* ---- matching and naming ---- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int match_exe(const struct group_rule *g, const struct proc_ident *id)
{
	if (!id->argv_len)
		return 0;
	const char *argv0 = id->argv, *base = base_name(argv0);
	for (size_t i = 0; i < g->nexes; i++) {
		const char *x = g->exes[i];
		if (strchr(x, '/') ? !strcmp(x, argv0) : !strcmp(x, base))
			return 1;
	}
	return 0;
}

/* Whether re matches the path of one of the lines of /proc/PID/cgroup
 * ("0::/system.slice/nginx.service"); its match data keeps the captures. */
static int match_cgroup_path(const struct regex *re, const char *text)
{
	for (const char *p = text ? text : ""; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *c1 = memchr(p, ':', len);
		const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - p)) : NULL;
		if (c2 && pcre2_match(re->code, (PCRE2_SPTR)(c2 + 1), len - (size_t)(c2 + 1 - p), 0,
				      0, re->md, NULL) >= 0)
			return 1;
		p += len + (eol ? 1 : 0);
	}
	return 0;
}

static int match_rule(const struct group_rule *g, const struct proc_ident *id, const char *cmdline)
{
	if (g->ncomms) {
		int ok = 0;
		for (size_t i = 0; i < g->ncomms && !ok; i++)
			ok = !strcmp(g->comms[i], id->comm);
		if (!ok)
			return 0;
	}
	if (g->nexes && !match_exe(g, id))
		return 0;
	for (size_t i = 0; i < g->nres; i++)
		if (pcre2_match(g->res[i].code, (PCRE2_SPTR)cmdline, strlen(cmdline), 0, 0,
				g->res[i].md, NULL) < 0)
			return 0;
	for (size_t i = 0; i < g->ncgres; i++)
		if (!match_cgroup_path(&g->cgres[i], id->cgroups))
			return 0;
	return 1;
}

/* The user name of a uid, cached (the password database is slow to ask). */
const char *proc_user_name(uint32_t uid)
{
	static struct {
		uint32_t uid;
		char name[64];
	} cache[64];
	static size_t n;
	for (size_t i = 0; i < n; i++)
		if (cache[i].uid == uid)
			return cache[i].name;
	size_t i = n < ARRAY_LEN(cache) ? n++ : uid % ARRAY_LEN(cache);
	struct passwd pw, *res = NULL;
	char buf[1024];
	cache[i].uid = uid;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(cache[i].name, sizeof(cache[i].name), "%s", pw.pw_name);
	else
		snprintf(cache[i].name, sizeof(cache[i].name), "%u", uid);
	return cache[i].name;
}

struct out {
	char *p;
	size_t n, len;
};

static void put(struct out *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len && o->len + 1 < o->n; i++)
		o->p[o->len++] = s[i];
	o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Go's time.Time String(), as process-exporter's template prints it. */
static void put_start(struct out *o, const struct proc_ident *id)
{
	long hz = clock_ticks_per_s();
	time_t t = (time_t)(id->boot_s + (int64_t)(id->start_ticks / (uint64_t)hz));
	unsigned frac = (unsigned)((id->start_ticks % (uint64_t)hz) * 1000000000ull / (uint64_t)hz);
	struct tm tm;
	char s[96], f[16] = "";
	localtime_r(&t, &tm);
	if (frac) {
		snprintf(f, sizeof(f), ".%09u", frac);
		for (size_t l = strlen(f); f[l - 1] == '0'; l--)
			f[l - 1] = '\0';
	}
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm);
	puts_(o, s);
	puts_(o, f);
	strftime(s, sizeof(s), " %z %Z", &tm);
	puts_(o, s);
}

/* Go prints a []string as "[a b]": the paths of /proc/PID/cgroup lines. */
static void put_cgroups(struct out *o, const char *text)
{
	puts_(o, "[");
	int first = 1;
	for (const char *p = text ? text : ""; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *c1 = memchr(p, ':', len);
		const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - p)) : NULL;
		if (c2) {
			if (!first)
				puts_(o, " ");
			put(o, c2 + 1, len - (size_t)(c2 + 1 - p));
			first = 0;
		}
		p += len + (eol ? 1 : 0);
	}
	puts_(o, "]");
}

static void put_match(struct out *o, const struct group_rule *g, const char *name)
{
	for (size_t i = 0; i < g->nres + g->ncgres; i++) {
		const struct regex *re = i < g->nres ? &g->res[i] : &g->cgres[i - g->nres];
		PCRE2_SIZE len;
		PCRE2_UCHAR *v;
		if (pcre2_substring_get_byname(re->md, (PCRE2_SPTR)name, &v, &len) == 0) {
			put(o, (const char *)v, len);
			pcre2_substring_free(v);
			return;
		}
	}
	puts_(o, "<no value>");
}

static void render(const struct group_rule *g, const struct proc_ident *id, char *buf, size_t n)
{
	struct out o = {buf, n, 0};
	const char *exefull = id->argv_len ? id->argv : id->comm;
	char num[32];
	buf[0] = '\0';
	for (size_t i = 0; i < g->nsegs; i++) {
		const struct seg *s = &g->segs[i];
		switch (s->kind) {
		case SEG_TEXT:
			puts_(&o, s->text);
			break;
		case SEG_COMM:
			puts_(&o, id->comm);
			break;
		case SEG_EXEBASE:
			puts_(&o, base_name(exefull));
			break;
		case SEG_EXEFULL:
			puts_(&o, exefull);
			break;
		case SEG_USER:
			puts_(&o, proc_user_name(id->uid));
			break;
		case SEG_PID:
			snprintf(num, sizeof(num), "%d", id->pid);
			puts_(&o, num);
			break;
		case SEG_START:
			put_start(&o, id);
			break;
		case SEG_CGROUPS:
			put_cgroups(&o, id->cgroups);
			break;
		case SEG_MATCH:
			put_match(&o, g, s->text);
			break;
		}
	}
}

int group_rules_match(const struct group_rules *r, const struct proc_ident *id, char *out, size_t n)
{
	if (!r->n) {
		/* per-CPU and worker kernel threads: one group per kind */
		size_t len = id->kthread ? strcspn(id->comm, "/") : strlen(id->comm);
		snprintf(out, n, "%.*s", (int)len, id->comm);
		return 1;
	}
	/* process-exporter matches cmdline regexes against argv joined by spaces;
	 * long Java class paths need room (the daemon is single-threaded) */
	static char cmdline[GROUP_ARGV_MAX];
	size_t len = id->argv_len < sizeof(cmdline) ? id->argv_len : sizeof(cmdline) - 1;
	memcpy(cmdline, id->argv ? id->argv : "", len);
	while (len && cmdline[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (cmdline[i] == '\0')
			cmdline[i] = ' ';
	cmdline[len] = '\0';
	for (size_t i = 0; i < r->n; i++)
		if (match_rule(&r->rules[i], id, cmdline)) {
			render(&r->rules[i], id, out, n);
			return 1;
		}
	return 0;
}
