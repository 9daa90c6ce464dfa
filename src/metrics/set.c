/* Series built from rows through the naming table. A row's samples wait in
 * the series as pending until the transaction that wrote the row commits;
 * then counters add them to what they hold since the start and gauges take
 * the new value. A scrape reads committed values only, never SQLite.
 *
 * The daemon taps its connection with sqlite3_preupdate_hook (Debian's
 * SQLite is built with SQLITE_ENABLE_PREUPDATE_HOOK), so every collector's
 * insert is seen as it is written, with no change to the collectors. */
#define SQLITE_ENABLE_PREUPDATE_HOOK 1

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"

#define MAX_KEYS 4

/* A row of a dimension table, as the keys' labels and filters need it. */
struct dim_entry {
	struct dim_entry *next;
	int64_t id;
	uint32_t version; /* bumped when a value changes */
	int seeded;	  /* its counters were made at 0 (seed_counters) */
	int gone;	  /* its row got gone_ts: dropped at this commit */
	char **vals;	  /* the dimension's kept columns; NULL for SQL NULL */
	/* a dimension whose rows end: the series whose labels came from this row */
	struct metric_series **owned;
	size_t nowned, capowned;
};

struct dim_vals {
	struct dim_entry **buckets;
	size_t nbuckets, count;
};

struct value_label {
	const char *name;
	char *value, *pending;
};

struct metric_series {
	struct metric_series *hnext; /* hash chain */
	struct metric_series *fnext; /* its family's list, in order of appearance */
	struct metric_series *dnext; /* the set's list of series with a pending sample */
	int family;
	int has_value, has_pending, dirty;
	char *labels; /* identity: a="x",b="y" */
	char *shown;  /* printed: labels and value labels (== labels when none) */
	struct metric_scale scale, pending_scale;
	double value, pending;
	uint64_t born;	 /* the commit from which it has a value */
	unsigned owners; /* dimension rows that own it (dim_entry.owned) */
	int doomed;	 /* its last owner is gone */
	struct value_label *vl;
	size_t nvl;
};

/* The rows of a table that share key values: their labels and, per
 * mapping, the series they feed. */
struct slot {
	struct slot *next;
	int64_t key[MAX_KEYS];
	struct dim_entry *dent[MAX_KEYS];
	uint32_t dver[MAX_KEYS];
	char keytext[MAX_KEYS][24]; /* a key's own value as a label */
	struct metric_series **series;
	unsigned char *dim_pass; /* per mapping: its filter terms on dimensions hold */
};

struct table_state {
	struct slot **buckets;
	size_t nbuckets, count;
};

struct fam_state {
	struct metric_series *head, *tail;
	size_t nvalued;
	size_t ndoomed; /* of its series, doomed ones waiting for sweep_series */
};

/* A table or dimension name the tap recognises. */
struct name_ref {
	const char *name;
	int table, dim; /* -1: not one */
};

struct metric_set {
	const struct metric_map *map;
	struct dim_vals *dims;
	struct table_state *tables;
	struct fam_state *fams;
	struct metric_series **sbuckets;
	size_t nsbuckets, nseries;
	struct metric_series *dirty;
	uint64_t generation;
	uint64_t commits; /* metric_set_commit calls */
	struct name_ref *names;
	size_t nnames; /* a power of two */
	int oom_logged;
	int live;      /* tapping: rows are this run's */
	int drop_gone; /* tapping: a dimension row gone drops its series */
	struct gone_ref {
		int dim;
		int64_t id;
	} * gone; /* dimension rows gone in the pending transaction */
	size_t ngone, capgone;
	struct expo_out scratch;
};

static uint64_t hash_str(uint64_t h, const char *s)
{
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Grows a chained hash table's buckets to twice when it is fuller than 1. */
static int rehash(void ***buckets, size_t *nbuckets, size_t count, size_t next_off,
		  uint64_t (*hash)(const void *))
{
	if (count < *nbuckets)
		return 0;
	size_t n = *nbuckets ? *nbuckets * 2 : 16;
	void **b = calloc(n, sizeof(*b));
	if (!b)
		return -1;
	for (size_t i = 0; i < *nbuckets; i++) {
		void *e = (*buckets)[i];
		while (e) {
			void **next = (void **)((char *)e + next_off);
			void *after = *next;
			size_t at = hash(e) & (n - 1);
			*next = b[at];
			b[at] = e;
			e = after;
		}
	}
	free(*buckets);
	*buckets = b;
	*nbuckets = n;
	return 0;
}

/* ---- names the tap recognises ---- */

static struct name_ref *name_slot(const struct metric_set *s, const char *name)
{
	size_t i = hash_str(1469598103934665603ULL, name) & (s->nnames - 1);
	while (s->names[i].name && strcmp(s->names[i].name, name))
		i = (i + 1) & (s->nnames - 1);
	return &s->names[i];
}

static int names_build(struct metric_set *s)
{
	const struct metric_map *m = s->map;
	size_t want = 2 * (m->ntables + m->ndims) + 2;
	s->nnames = 16;
	while (s->nnames < want)
		s->nnames *= 2;
	if (!(s->names = calloc(s->nnames, sizeof(*s->names))))
		return -1;
	for (size_t i = 0; i < m->ntables + m->ndims; i++) {
		int is_table = i < m->ntables;
		const char *name = is_table ? m->tables[i].name : m->dims[i - m->ntables].name;
		struct name_ref *r = name_slot(s, name);
		if (!r->name) {
			r->name = name;
			r->table = r->dim = -1;
		}
		if (is_table)
			r->table = (int)i;
		else
			r->dim = (int)(i - m->ntables);
	}
	return 0;
}

static int seed_counters(struct metric_set *s, int di, struct dim_entry *de);

/* ---- dimensions ---- */

static uint64_t dim_hash(const void *e)
{
	return mix64((uint64_t)((const struct dim_entry *)e)->id);
}

static struct dim_entry *dim_find(const struct dim_vals *d, int64_t id)
{
	if (!d->nbuckets)
		return NULL;
	struct dim_entry *e = d->buckets[mix64((uint64_t)id) & (d->nbuckets - 1)];
	while (e && e->id != id)
		e = e->next;
	return e;
}

static void vals_free(char **vals, int n)
{
	for (int i = 0; vals && i < n; i++)
		free(vals[i]);
	free(vals);
}

static int same_vals(char **a, char **b, int n)
{
	for (int i = 0; i < n; i++)
		if (!a[i] != !b[i] || (a[i] && strcmp(a[i], b[i])))
			return 0;
	return 1;
}

/* Whether a dimension row says the thing is gone (cgroup.gone_ts is set). */
static int row_gone(const struct metric_dim *md, metric_row_fn get, void *row)
{
	if (md->gone_col < 0)
		return 0;
	sqlite3_value *v = get(row, md->gone_col);
	return v && sqlite3_value_type(v) != SQLITE_NULL;
}

/* A known dimension row is gone: its series leave at the commit (not
 * before: the transaction may roll back, and the collector writes the
 * gone_ts again in its next tick). */
int metric_set_dim_gone(struct metric_set *s, int di, int64_t id)
{
	if (!dim_find(&s->dims[di], id))
		return 0;
	if (s->ngone == s->capgone) {
		size_t cap = s->capgone ? s->capgone * 2 : 16;
		struct gone_ref *g = realloc(s->gone, cap * sizeof(*g));
		if (!g)
			return -1;
		s->gone = g;
		s->capgone = cap;
	}
	s->gone[s->ngone++] = (struct gone_ref){di, id};
	return 0;
}

int metric_set_dim_row(struct metric_set *s, int di, metric_row_fn get, void *row)
{
	const struct metric_dim *md = &s->map->dims[di];
	struct dim_vals *d = &s->dims[di];
	sqlite3_value *idv = get(row, md->id_col);
	if (!idv || sqlite3_value_type(idv) == SQLITE_NULL)
		return 0;
	int64_t id = sqlite3_value_int64(idv);
	if (s->drop_gone && row_gone(md, get, row))
		return metric_set_dim_gone(s, di, id);
	char **vals = calloc((size_t)md->ncols + 1, sizeof(*vals));
	if (!vals)
		return -1;
	for (int i = 0; i < md->ncols; i++) {
		sqlite3_value *v = get(row, md->col[i]);
		const unsigned char *t = v ? sqlite3_value_text(v) : NULL;
		if (t && !(vals[i] = strdup((const char *)t))) {
			vals_free(vals, md->ncols);
			return -1;
		}
	}
	struct dim_entry *e = dim_find(d, id);
	if (e) {
		if (same_vals(e->vals, vals, md->ncols)) {
			vals_free(vals, md->ncols);
			return s->live && !e->seeded ? seed_counters(s, di, e) : 0;
		}
		vals_free(e->vals, md->ncols);
		e->vals = vals;
		e->version++;
		return s->live && !e->seeded ? seed_counters(s, di, e) : 0;
	}
	if (rehash((void ***)&d->buckets, &d->nbuckets, d->count, offsetof(struct dim_entry, next),
		   dim_hash) ||
	    !(e = calloc(1, sizeof(*e)))) {
		vals_free(vals, md->ncols);
		return -1;
	}
	e->id = id;
	e->vals = vals;
	size_t at = dim_hash(e) & (d->nbuckets - 1);
	e->next = d->buckets[at];
	d->buckets[at] = e;
	d->count++;
	return s->live ? seed_counters(s, di, e) : 0;
}

/* ---- series ---- */

static uint64_t series_hash_of(int family, const char *labels)
{
	return hash_str(mix64((uint64_t)family + 1), labels);
}

static uint64_t series_hash(const void *e)
{
	const struct metric_series *se = e;
	return series_hash_of(se->family, se->labels);
}

static struct metric_series *series_get(struct metric_set *s, int family, const char *labels,
					const struct metric_scale *scale)
{
	uint64_t h = series_hash_of(family, labels);
	if (s->nsbuckets) {
		for (struct metric_series *se = s->sbuckets[h & (s->nsbuckets - 1)]; se;
		     se = se->hnext)
			if (se->family == family && strcmp(se->labels, labels) == 0)
				return se;
	}
	struct metric_series *se;
	if (rehash((void ***)&s->sbuckets, &s->nsbuckets, s->nseries,
		   offsetof(struct metric_series, hnext), series_hash) ||
	    !(se = calloc(1, sizeof(*se))))
		return NULL;
	if (!(se->labels = strdup(labels))) {
		free(se);
		return NULL;
	}
	se->shown = se->labels;
	se->family = family;
	se->scale = se->pending_scale = *scale;
	se->hnext = s->sbuckets[h & (s->nsbuckets - 1)];
	s->sbuckets[h & (s->nsbuckets - 1)] = se;
	s->nseries++;
	struct fam_state *f = &s->fams[family];
	if (f->tail)
		f->tail->fnext = se;
	else
		f->head = se;
	f->tail = se;
	return se;
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct metric_label *)a)->name,
		      ((const struct metric_label *)b)->name);
}

/* Renders sorted labels as a="x",b="y" into the set's scratch buffer. */
static const char *render_labels(struct metric_set *s, struct metric_label *l, size_t n)
{
	struct expo_out *o = &s->scratch;
	qsort(l, n, sizeof(*l), label_cmp);
	o->len = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			expo_out_add(o, ",", 1);
		expo_out_str(o, l[i].name);
		expo_out_add(o, "=\"", 2);
		expo_label_value(o, l[i].value);
		expo_out_add(o, "\"", 1);
	}
	expo_out_add(o, "", 1); /* the terminating NUL */
	return o->failed ? NULL : o->data;
}

/* Records that the series' labels came from a dimension row that can go,
 * once per row. */
static int own_series(struct dim_entry *de, struct metric_series *se)
{
	for (size_t i = 0; i < de->nowned; i++)
		if (de->owned[i] == se)
			return 0;
	if (de->nowned == de->capowned) {
		size_t cap = de->capowned ? de->capowned * 2 : 8;
		struct metric_series **g = realloc(de->owned, cap * sizeof(*g));
		if (!g)
			return -1;
		de->owned = g;
		de->capowned = cap;
	}
	de->owned[de->nowned++] = se;
	se->owners++;
	return 0;
}

/* The series a slot's rows feed through mapping j. */
static struct metric_series *slot_series(struct metric_set *s, const struct metric_table *t,
					 struct slot *sl, size_t j)
{
	const struct metric_mapping *mp = &t->maps[j];
	struct metric_label l[MAX_KEYS * 4 + 16];
	size_t n = 0;
	for (size_t k = 0; k < t->nkeys; k++) {
		const struct metric_key *key = &t->keys[k];
		for (size_t i = 0; i < key->nlabels; i++) {
			const char *v = sl->keytext[k];
			if (key->dim >= 0)
				v = sl->dent[k] ? sl->dent[k]->vals[key->labels[i].dim_col] : NULL;
			l[n].name = key->labels[i].label;
			l[n++].value = (char *)(v ? v : "");
		}
	}
	for (size_t i = 0; i < mp->nlabels && n < ARRAY_LEN(l); i++)
		l[n++] = mp->labels[i];
	const char *labels = render_labels(s, l, n);
	struct metric_series *se = labels ? series_get(s, mp->family, labels, &mp->scale) : NULL;
	for (size_t k = 0; se && k < t->nkeys; k++) {
		int d = t->keys[k].dim;
		if (d >= 0 && s->map->dims[d].gone_col >= 0 && sl->dent[k] &&
		    own_series(sl->dent[k], se))
			return NULL;
	}
	return se;
}

/* Text comparison as SQL's for a text literal; numbers compare as numbers. */
static int term_holds(const struct filter_term *t, sqlite3_value *v, const char *dimtext)
{
	int c;
	if (v && sqlite3_value_type(v) == SQLITE_NULL)
		return 0;
	if (!v && !dimtext)
		return 0;
	if (t->is_text) {
		const char *x = v ? (const char *)sqlite3_value_text(v) : dimtext;
		c = strcmp(x ? x : "", t->text);
	} else {
		double x = v ? sqlite3_value_double(v) : strtod(dimtext, NULL);
		c = x < (double)t->num ? -1 : x > (double)t->num;
	}
	switch (t->op) {
	case OP_EQ:
		return c == 0;
	case OP_NE:
		return c != 0;
	case OP_LT:
		return c < 0;
	case OP_LE:
		return c <= 0;
	case OP_GT:
		return c > 0;
	default:
		return c >= 0;
	}
}

/* Takes the slot's dimension rows as they are now: the terms on them are
 * evaluated and the series found again (their labels may have changed). */
static void slot_resolve(struct metric_set *s, const struct metric_table *t, struct slot *sl)
{
	for (size_t k = 0; k < t->nkeys; k++) {
		int d = t->keys[k].dim;
		if (d < 0)
			continue;
		sl->dent[k] = dim_find(&s->dims[d], sl->key[k]);
		sl->dver[k] = sl->dent[k] ? sl->dent[k]->version : 0;
	}
	for (size_t j = 0; j < t->nmaps; j++) {
		const struct metric_mapping *mp = &t->maps[j];
		int pass = 1;
		for (size_t i = 0; i < mp->nfilter && pass; i++) {
			const struct filter_term *term = &mp->filter[i];
			if (term->key < 0)
				continue;
			const struct dim_entry *de = sl->dent[term->key];
			pass = de && term_holds(term, NULL, de->vals[term->col]);
		}
		sl->dim_pass[j] = (unsigned char)pass;
		sl->series[j] = NULL;
	}
}

/* Whether a dimension row behind the slot appeared or changed. */
static int slot_stale(const struct metric_set *s, const struct metric_table *t,
		      const struct slot *sl)
{
	for (size_t k = 0; k < t->nkeys; k++) {
		int d = t->keys[k].dim;
		if (d < 0)
			continue;
		if (sl->dent[k] ? sl->dent[k]->version != sl->dver[k]
				: dim_find(&s->dims[d], sl->key[k]) != NULL)
			return 1;
	}
	return 0;
}

static uint64_t key_hash_of(const int64_t *key, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < n; i++)
		h = mix64(h ^ (uint64_t)key[i]);
	return h;
}

static uint64_t slot_hash(const void *e)
{
	return key_hash_of(((const struct slot *)e)->key, MAX_KEYS);
}

static struct slot *slot_get(struct metric_set *s, int ti, const int64_t *key)
{
	const struct metric_table *t = &s->map->tables[ti];
	struct table_state *ts = &s->tables[ti];
	uint64_t h = key_hash_of(key, MAX_KEYS);
	if (ts->nbuckets)
		for (struct slot *sl = ts->buckets[h & (ts->nbuckets - 1)]; sl; sl = sl->next)
			if (memcmp(sl->key, key, sizeof(sl->key)) == 0)
				return sl;
	struct slot *sl;
	if (rehash((void ***)&ts->buckets, &ts->nbuckets, ts->count, offsetof(struct slot, next),
		   slot_hash) ||
	    !(sl = calloc(1, sizeof(*sl))))
		return NULL;
	sl->series = calloc(t->nmaps + 1, sizeof(*sl->series));
	sl->dim_pass = calloc(t->nmaps + 1, 1);
	if (!sl->series || !sl->dim_pass) {
		free(sl->series);
		free(sl->dim_pass);
		free(sl);
		return NULL;
	}
	memcpy(sl->key, key, sizeof(sl->key));
	for (size_t k = 0; k < t->nkeys; k++)
		snprintf(sl->keytext[k], sizeof(sl->keytext[k]), "%lld", (long long)key[k]);
	slot_resolve(s, t, sl);
	sl->next = ts->buckets[h & (ts->nbuckets - 1)];
	ts->buckets[h & (ts->nbuckets - 1)] = sl;
	ts->count++;
	return sl;
}

static void mark_dirty(struct metric_set *s, struct metric_series *se)
{
	se->has_pending = 1;
	if (!se->dirty) {
		se->dirty = 1;
		se->dnext = s->dirty;
		s->dirty = se;
	}
}

/* A value label's text becomes pending; the sample itself is 1. */
static int set_value_label(struct metric_set *s, struct metric_series *se, const char *name,
			   const char *text)
{
	struct value_label *vl = NULL;
	for (size_t i = 0; i < se->nvl; i++)
		if (strcmp(se->vl[i].name, name) == 0)
			vl = &se->vl[i];
	if (!vl) {
		struct value_label *g = realloc(se->vl, (se->nvl + 1) * sizeof(*g));
		if (!g)
			return -1;
		se->vl = g;
		vl = &se->vl[se->nvl++];
		memset(vl, 0, sizeof(*vl));
		vl->name = name;
	}
	char *copy = strdup(text);
	if (!copy)
		return -1;
	free(vl->pending);
	vl->pending = copy;
	se->pending = 1;
	se->pending_scale = (struct metric_scale){1, 1, 0};
	mark_dirty(s, se);
	return 0;
}

/* One mapping's sample from a row: summed or replacing, pending. */
static int apply(struct metric_set *s, struct metric_series *se, const struct metric_mapping *mp,
		 sqlite3_value *v)
{
	const struct metric_family *f = &s->map->families[mp->family];
	if (mp->value_label) {
		const char *text = v ? (const char *)sqlite3_value_text(v) : NULL;
		return text ? set_value_label(s, se, mp->value_label, text) : 0;
	}
	double x = v ? sqlite3_value_double(v) : 1;
	if (f->sums) {
		if (!se->has_pending)
			se->pending = 0;
		/* a family fed at two scales sums in the unit of its first */
		se->pending += mp->scale.factor == se->scale.factor
				   ? x
				   : x * mp->scale.factor / se->scale.factor;
	} else {
		se->pending = x;
		se->pending_scale = mp->scale;
	}
	mark_dirty(s, se);
	return 0;
}

/* Whether a mapping's samples come from every row of its slot: no filter
 * on the row's own columns, a counter. */
static int seedable(const struct metric_set *s, const struct metric_mapping *mp)
{
	for (size_t i = 0; i < mp->nfilter; i++)
		if (mp->filter[i].key < 0)
			return 0;
	return s->map->families[mp->family].sums && !mp->value_label;
}

/* A device, mount or group this run has seen (a row named it) shows its
 * counters at 0 until it has something to count: an idle interface writes
 * no row, but node_exporter lists it. Done once per dimension row. */
static int seed_counters(struct metric_set *s, int di, struct dim_entry *de)
{
	const struct metric_map *m = s->map;
	de->seeded = 1;
	for (size_t ti = 0; ti < m->ntables; ti++) {
		const struct metric_table *t = &m->tables[ti];
		if (t->nkeys != 1 || t->keys[0].dim != di)
			continue;
		int64_t key[MAX_KEYS] = {de->id};
		struct slot *sl = slot_get(s, (int)ti, key);
		if (!sl)
			return -1;
		if (slot_stale(s, t, sl))
			slot_resolve(s, t, sl);
		for (size_t j = 0; j < t->nmaps; j++) {
			if (!sl->dim_pass[j] || !seedable(s, &t->maps[j]))
				continue;
			if (!sl->series[j] && !(sl->series[j] = slot_series(s, t, sl, j)))
				return -1;
			struct metric_series *se = sl->series[j];
			if (se->has_value)
				continue;
			se->has_value = 1;
			se->born = s->commits + 1; /* shown from the coming commit */
			se->value = 0;
			s->fams[se->family].nvalued++;
			s->generation++;
		}
	}
	return 0;
}

int metric_set_row(struct metric_set *s, int ti, metric_row_fn get, void *row)
{
	const struct metric_table *t = &s->map->tables[ti];
	int64_t key[MAX_KEYS] = {0};
	for (size_t k = 0; k < t->nkeys; k++) {
		sqlite3_value *v = get(row, t->keys[k].col);
		key[k] =
		    v && sqlite3_value_type(v) != SQLITE_NULL ? sqlite3_value_int64(v) : INT64_MIN;
	}
	struct slot *sl = slot_get(s, ti, key);
	if (!sl)
		return -1;
	if (slot_stale(s, t, sl))
		slot_resolve(s, t, sl);
	for (size_t k = 0; s->live && k < t->nkeys; k++)
		if (sl->dent[k] && !sl->dent[k]->seeded &&
		    seed_counters(s, t->keys[k].dim, sl->dent[k]))
			return -1;
	for (size_t j = 0; j < t->nmaps; j++) {
		const struct metric_mapping *mp = &t->maps[j];
		if (!sl->dim_pass[j])
			continue;
		int pass = 1;
		for (size_t i = 0; i < mp->nfilter && pass; i++)
			if (mp->filter[i].key < 0)
				pass =
				    term_holds(&mp->filter[i], get(row, mp->filter[i].col), NULL);
		if (!pass)
			continue;
		sqlite3_value *v = mp->col >= 0			       ? get(row, mp->col)
				   : s->map->families[mp->family].sums ? get(row, METRIC_ROW_WEIGHT)
								       : NULL;
		if (mp->col >= 0 && (!v || sqlite3_value_type(v) == SQLITE_NULL))
			continue; /* not reported: no sample */
		if (!sl->series[j] && !(sl->series[j] = slot_series(s, t, sl, j)))
			return -1;
		if (apply(s, sl->series[j], mp, v))
			return -1;
	}
	return 0;
}

/* ---- commit ---- */

static int vl_cmp(const void *a, const void *b)
{
	return strcmp(((const struct value_label *)a)->name, ((const struct value_label *)b)->name);
}

/* labels, then the value labels sorted by name. */
static void rebuild_shown(struct metric_set *s, struct metric_series *se)
{
	struct expo_out *o = &s->scratch;
	qsort(se->vl, se->nvl, sizeof(*se->vl), vl_cmp);
	o->len = 0;
	expo_out_str(o, se->labels);
	for (size_t i = 0; i < se->nvl; i++) {
		if (o->len)
			expo_out_add(o, ",", 1);
		expo_out_str(o, se->vl[i].name);
		expo_out_add(o, "=\"", 2);
		expo_label_value(o, se->vl[i].value ? se->vl[i].value : "");
		expo_out_add(o, "\"", 1);
	}
	expo_out_add(o, "", 1);
	char *shown = o->failed ? NULL : strdup(o->data);
	if (!shown)
		return; /* keeps the previous text */
	if (se->shown != se->labels)
		free(se->shown);
	se->shown = shown;
}

static int commit_value_labels(struct metric_series *se)
{
	int changed = 0;
	for (size_t i = 0; i < se->nvl; i++) {
		struct value_label *vl = &se->vl[i];
		if (!vl->pending)
			continue;
		if (!vl->value || strcmp(vl->value, vl->pending)) {
			free(vl->value);
			vl->value = vl->pending;
			changed = 1;
		} else {
			free(vl->pending);
		}
		vl->pending = NULL;
	}
	return changed;
}

static void series_free(struct metric_series *se)
{
	if (se->shown != se->labels)
		free(se->shown);
	free(se->labels);
	for (size_t j = 0; j < se->nvl; j++) {
		free(se->vl[j].value);
		free(se->vl[j].pending);
	}
	free(se->vl);
	free(se);
}

static void dim_entry_free(struct dim_entry *e, int ncols)
{
	vals_free(e->vals, ncols);
	free(e->owned);
	free(e);
}

/* Whether a table has a key whose dimension rows can be gone. */
static int table_can_lose(const struct metric_set *s, const struct metric_table *t)
{
	for (size_t k = 0; k < t->nkeys; k++)
		if (t->keys[k].dim >= 0 && s->map->dims[t->keys[k].dim].gone_col >= 0)
			return 1;
	return 0;
}

/* Slots keyed by a gone dimension row are freed; the others forget their
 * doomed series (a family two tables feed), to find them again if they
 * still count. */
static void sweep_slots(struct metric_set *s)
{
	for (size_t ti = 0; ti < s->map->ntables; ti++) {
		const struct metric_table *t = &s->map->tables[ti];
		struct table_state *ts = &s->tables[ti];
		int can_lose = table_can_lose(s, t);
		for (size_t i = 0; i < ts->nbuckets; i++) {
			struct slot **pp = &ts->buckets[i];
			while (*pp) {
				struct slot *sl = *pp;
				int gone = 0;
				for (size_t k = 0; can_lose && k < t->nkeys; k++)
					gone |= sl->dent[k] && sl->dent[k]->gone;
				if (!gone) {
					for (size_t j = 0; j < t->nmaps; j++)
						if (sl->series[j] && sl->series[j]->doomed)
							sl->series[j] = NULL;
					pp = &sl->next;
					continue;
				}
				*pp = sl->next;
				ts->count--;
				free(sl->series);
				free(sl->dim_pass);
				free(sl);
			}
		}
	}
}

/* The doomed series leave the hash and their family's list. */
static void sweep_series(struct metric_set *s)
{
	for (size_t f = 0; f < s->map->nfamilies; f++) {
		struct fam_state *fs = &s->fams[f];
		if (!fs->ndoomed)
			continue;
		struct metric_series **pp = &fs->head, *last = NULL;
		while (*pp) {
			struct metric_series *se = *pp;
			if (!se->doomed) {
				last = se;
				pp = &se->fnext;
				continue;
			}
			*pp = se->fnext;
			if (se->has_value)
				fs->nvalued--;
			struct metric_series **hp =
			    &s->sbuckets[series_hash(se) & (s->nsbuckets - 1)];
			while (*hp != se)
				hp = &(*hp)->hnext;
			*hp = se->hnext;
			s->nseries--;
			series_free(se);
		}
		fs->tail = last;
		fs->ndoomed = 0;
	}
}

/* The dimension rows gone in the committed transaction take with them the
 * series whose labels came from them (a series another row also gives
 * stays), so a host where containers come and go by the thousands does not
 * keep every series it ever saw. Series of idle things stay: only a row
 * marked gone removes anything. */
static void drop_gone(struct metric_set *s)
{
	int any = 0;
	for (size_t i = 0; i < s->ngone; i++) {
		struct dim_entry *e = dim_find(&s->dims[s->gone[i].dim], s->gone[i].id);
		if (!e || e->gone)
			continue;
		e->gone = any = 1;
		for (size_t j = 0; j < e->nowned; j++) {
			struct metric_series *se = e->owned[j];
			ASSERT(se->owners > 0);
			if (--se->owners == 0) {
				se->doomed = 1;
				s->fams[se->family].ndoomed++;
			}
		}
	}
	if (any) {
		sweep_slots(s);
		sweep_series(s);
	}
	for (size_t i = 0; any && i < s->ngone; i++) {
		struct dim_vals *d = &s->dims[s->gone[i].dim];
		struct dim_entry **pp =
		    &d->buckets[mix64((uint64_t)s->gone[i].id) & (d->nbuckets - 1)];
		while (*pp && !((*pp)->id == s->gone[i].id && (*pp)->gone))
			pp = &(*pp)->next;
		if (!*pp)
			continue; /* named twice */
		struct dim_entry *e = *pp;
		*pp = e->next;
		d->count--;
		dim_entry_free(e, s->map->dims[s->gone[i].dim].ncols);
	}
	if (any)
		s->generation++;
	s->ngone = 0;
}

void metric_set_commit(struct metric_set *s)
{
	int changed = 0;
	s->commits++;
	struct metric_series *next;
	for (struct metric_series *se = s->dirty; se; se = next) {
		next = se->dnext;
		se->dnext = NULL;
		se->dirty = 0;
		if (!se->has_pending)
			continue;
		if (s->map->families[se->family].sums) {
			se->value = (se->has_value ? se->value : 0) + se->pending;
		} else {
			se->value = se->pending;
			se->scale = se->pending_scale;
		}
		if (commit_value_labels(se))
			rebuild_shown(s, se);
		if (!se->has_value) {
			s->fams[se->family].nvalued++;
			se->born = s->commits;
		}
		se->has_value = 1;
		se->has_pending = 0;
		changed = 1;
	}
	s->dirty = NULL;
	if (changed)
		s->generation++;
	drop_gone(s);
}

void metric_set_discard(struct metric_set *s)
{
	struct metric_series *next;
	for (struct metric_series *se = s->dirty; se; se = next) {
		next = se->dnext;
		se->dnext = NULL;
		se->dirty = 0;
		se->has_pending = 0;
		for (size_t i = 0; i < se->nvl; i++) {
			free(se->vl[i].pending);
			se->vl[i].pending = NULL;
		}
	}
	s->dirty = NULL;
	s->ngone = 0;
}

/* ---- the set ---- */

struct metric_set *metric_set_new(const struct metric_map *m)
{
	struct metric_set *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->map = m;
	s->dims = calloc(m->ndims + 1, sizeof(*s->dims));
	s->tables = calloc(m->ntables + 1, sizeof(*s->tables));
	s->fams = calloc(m->nfamilies + 1, sizeof(*s->fams));
	if (!s->dims || !s->tables || !s->fams || names_build(s)) {
		metric_set_free(s);
		return NULL;
	}
	return s;
}

void metric_set_free(struct metric_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->sbuckets && i < s->nsbuckets; i++) {
		struct metric_series *next;
		for (struct metric_series *se = s->sbuckets[i]; se; se = next) {
			next = se->hnext;
			series_free(se);
		}
	}
	free(s->sbuckets);
	for (size_t t = 0; s->tables && t < s->map->ntables; t++) {
		struct table_state *ts = &s->tables[t];
		for (size_t i = 0; i < ts->nbuckets; i++) {
			struct slot *next;
			for (struct slot *sl = ts->buckets[i]; sl; sl = next) {
				next = sl->next;
				free(sl->series);
				free(sl->dim_pass);
				free(sl);
			}
		}
		free(ts->buckets);
	}
	free(s->tables);
	for (size_t d = 0; s->dims && d < s->map->ndims; d++) {
		struct dim_vals *dv = &s->dims[d];
		for (size_t i = 0; i < dv->nbuckets; i++) {
			struct dim_entry *next;
			for (struct dim_entry *e = dv->buckets[i]; e; e = next) {
				next = e->next;
				dim_entry_free(e, s->map->dims[d].ncols);
			}
		}
		free(dv->buckets);
	}
	free(s->dims);
	free(s->fams);
	free(s->names);
	free(s->gone);
	expo_out_free(&s->scratch);
	free(s);
}

const struct metric_map *metric_set_map(const struct metric_set *s)
{
	return s->map;
}

uint64_t metric_set_generation(const struct metric_set *s)
{
	return s->generation;
}

size_t metric_set_series_count(const struct metric_set *s)
{
	return s->nseries;
}

size_t metric_set_family_count(const struct metric_set *s, int family)
{
	return s->fams[family].nvalued;
}

void metric_set_visit(const struct metric_set *s, int family, metric_series_fn fn, void *arg)
{
	for (const struct metric_series *se = s->fams[family].head; se; se = se->fnext)
		if (se->has_value)
			fn(arg, se->shown, se->value, &se->scale);
}

uint64_t metric_set_commits(const struct metric_set *s)
{
	return s->commits;
}

void metric_set_visit_born(const struct metric_set *s, int family, metric_born_fn fn, void *arg)
{
	for (const struct metric_series *se = s->fams[family].head; se; se = se->fnext)
		if (se->has_value)
			fn(arg, se->shown, se->value, &se->scale, se->born);
}

int metric_set_value(const struct metric_set *s, const char *family, const char *labels,
		     double *out)
{
	int f = metric_map_family(s->map, family);
	if (f < 0)
		return -1;
	for (const struct metric_series *se = s->fams[f].head; se; se = se->fnext)
		if (se->has_value && strcmp(se->shown, labels) == 0) {
			*out = se->value * se->scale.factor;
			return 0;
		}
	return -1;
}

/* ---- reading the database: dimensions and state tables ---- */

static sqlite3_value *stmt_get(void *row, int col)
{
	sqlite3_stmt *st = row;
	return col >= 0 && col < sqlite3_column_count(st) ? sqlite3_column_value(st, col) : NULL;
}

/* "SELECT * FROM t ORDER BY <its primary key>": the newest state last. */
static int select_all(sqlite3 *db, const char *table, sqlite3_stmt **st, struct err *e)
{
	char sql[512], order[256] = "";
	sqlite3_stmt *pk;
	if (sqlite3_prepare_v2(db,
			       "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
			       -1, &pk, NULL))
		return err_set(e, "metrics: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(pk, 1, table, -1, SQLITE_STATIC);
	size_t len = 0;
	while (sqlite3_step(pk) == SQLITE_ROW && len < sizeof(order) - 70)
		len += (size_t)snprintf(order + len, sizeof(order) - len, "%s\"%s\"",
					len ? ", " : "", (const char *)sqlite3_column_text(pk, 0));
	sqlite3_finalize(pk);
	snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\"%s%s", table, len ? " ORDER BY " : "",
		 order);
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL))
		return err_set(e, "metrics: reading %s: %s", table, sqlite3_errmsg(db));
	return 0;
}

int metric_set_load(struct metric_set *s, sqlite3 *db, struct err *e)
{
	const struct metric_map *m = s->map;
	for (size_t i = 0; i < m->ndims + m->ntables; i++) {
		int is_dim = i < m->ndims;
		const char *name = is_dim ? m->dims[i].name : m->tables[i - m->ndims].name;
		sqlite3_stmt *st;
		if (!is_dim && !m->tables[i - m->ndims].state)
			continue;
		if (select_all(db, name, &st, e))
			return -1;
		int rc = 0;
		while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
			if (!is_dim || !row_gone(&m->dims[i], stmt_get, st)) /* gone: no state */
				rc = is_dim ? metric_set_dim_row(s, (int)i, stmt_get, st)
					    : metric_set_row(s, (int)(i - m->ndims), stmt_get, st);
		sqlite3_finalize(st);
		if (rc)
			return err_set(e, "metrics: out of memory reading %s", name);
	}
	metric_set_commit(s);
	return 0;
}

void metric_set_follow(struct metric_set *s)
{
	s->live = 1;
}

void metric_set_zero_counters(struct metric_set *s)
{
	for (size_t f = 0; f < s->map->nfamilies; f++)
		if (s->map->families[f].sums)
			for (struct metric_series *se = s->fams[f].head; se; se = se->fnext)
				se->value = 0;
	s->generation++;
}

/* ---- the tap ---- */

static sqlite3_value *preupdate_get(void *row, int col)
{
	sqlite3_value *v = NULL;
	return col >= 0 && sqlite3_preupdate_new(row, col, &v) == SQLITE_OK ? v : NULL;
}

/* Every insert (and a dimension's update) in a mapped table of the main
 * database. Runs inside the statement, so it only reads the new row. */
static void on_preupdate(void *arg, sqlite3 *db, int op, const char *zdb, const char *table,
			 sqlite3_int64 key1, sqlite3_int64 key2)
{
	struct metric_set *s = arg;
	if (op == SQLITE_DELETE || strcmp(zdb, "main"))
		return;
	const struct name_ref *r = name_slot(s, table);
	int rc = 0;
	if (!r->name)
		return;
	if (r->dim >= 0)
		rc = metric_set_dim_row(s, r->dim, preupdate_get, db);
	if (rc == 0 && r->table >= 0 && op == SQLITE_INSERT)
		rc = metric_set_row(s, r->table, preupdate_get, db);
	if (rc && !s->oom_logged) {
		log_error("metrics: out of memory; some samples are missing from /metrics");
		s->oom_logged = 1;
	}
}

void metric_set_tap(struct metric_set *s, sqlite3 *db)
{
	if (s) {
		s->live = 1;
		s->drop_gone = 1;
		sqlite3_preupdate_hook(db, on_preupdate, s);
	} else
		sqlite3_preupdate_hook(db, NULL, NULL);
}
