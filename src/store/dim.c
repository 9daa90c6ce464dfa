/* Dimension tables: names stored once, referenced by integer id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

struct dim_entry {
	char *name; /* NULL: empty slot */
	int64_t id;
};

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

int dim_init(struct dim *d, struct store *s, const char *table, struct err *e)
{
	char sql[256];
	memset(d, 0, sizeof(*d));
	d->store = s;
	d->rollbacks_seen = s->rollbacks;
	snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE name=?1", table);
	if (!(d->select = store_prepare(s, sql, e)))
		return -1;
	snprintf(sql, sizeof(sql), "INSERT INTO %s(name) VALUES (?1)", table);
	if (!(d->insert = store_prepare(s, sql, e)))
		return -1;
	d->nslots = 64;
	d->slots = calloc(d->nslots, sizeof(*d->slots));
	return d->slots ? 0 : err_set(e, "out of memory");
}

static struct dim_entry *dim_slot(struct dim_entry *slots, size_t nslots, const char *name)
{
	size_t i = hash_name(name) & (nslots - 1);
	while (slots[i].name && strcmp(slots[i].name, name) != 0)
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static int dim_grow(struct dim *d)
{
	size_t n = d->nslots * 2;
	struct dim_entry *slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < d->nslots; i++)
		if (d->slots[i].name)
			*dim_slot(slots, n, d->slots[i].name) = d->slots[i];
	free(d->slots);
	d->slots = slots;
	d->nslots = n;
	return 0;
}

/* Looks the name up in the table, inserting it when new. Runs inside the
 * caller's transaction; a rolled-back insert is found again by the SELECT. */
static int64_t dim_fetch(struct dim *d, const char *name, struct err *e)
{
	int64_t id = -1;
	sqlite3_bind_text(d->select, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(d->select) == SQLITE_ROW)
		id = sqlite3_column_int64(d->select, 0);
	sqlite3_reset(d->select);
	if (id >= 0)
		return id;
	sqlite3_bind_text(d->insert, 1, name, -1, SQLITE_STATIC);
	if (store_exec_stmt(d->store, d->insert, e))
		return -1;
	return sqlite3_last_insert_rowid(d->store->db);
}

static void dim_clear(struct dim *d)
{
	for (size_t i = 0; i < d->nslots; i++) {
		free(d->slots[i].name);
		d->slots[i].name = NULL;
	}
	d->count = 0;
}

int64_t dim_id(struct dim *d, const char *name, struct err *e)
{
	/* An id inserted by a transaction that was rolled back no longer exists. */
	if (d->rollbacks_seen != d->store->rollbacks) {
		dim_clear(d);
		d->rollbacks_seen = d->store->rollbacks;
	}
	struct dim_entry *slot = dim_slot(d->slots, d->nslots, name);
	if (slot->name)
		return slot->id;
	int64_t id = dim_fetch(d, name, e);
	if (id < 0)
		return -1;
	if ((d->count + 1) * 2 > d->nslots) {
		if (dim_grow(d))
			return id;
		slot = dim_slot(d->slots, d->nslots, name);
	}
	slot->name = strdup(name);
	slot->id = id;
	d->count++;
	return id;
}

void dim_free(struct dim *d)
{
	if (d->slots)
		dim_clear(d);
	free(d->slots);
	d->slots = NULL;
	d->nslots = d->count = 0;
}
