/* The YAML configuration file and its defaults. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->db, sizeof(c->db), "%s", DEFAULT_DB_PATH);
	c->interval_ms = 10000;
	snprintf(c->proc_root, sizeof(c->proc_root), "/proc");
	snprintf(c->sys_root, sizeof(c->sys_root), "/sys");
	c->log_level = LOG_INFO;
	retention_limits_default(&c->retention);
	bpf_options_default(&c->bpf);
	cgroup_options_default(&c->cgroups);
	acct_options_default(&c->accounting);
	procs_options_default(&c->procs);
	remote_write_options_default(&c->remote_write);
}

void config_apply_env(struct config *c)
{
	const char *v;
	if ((v = getenv("HOST_PROC")) && *v)
		snprintf(c->proc_root, sizeof(c->proc_root), "%s", v);
	if ((v = getenv("HOST_SYS")) && *v)
		snprintf(c->sys_root, sizeof(c->sys_root), "%s", v);
	if ((v = getenv("HOST_ROOT")) && *v)
		snprintf(c->cgroups.runtime_root, sizeof(c->cgroups.runtime_root), "%s", v);
}

int config_validate(const struct config *c, struct err *e)
{
	/* ts is whole seconds, so two ticks in one second would collide. */
	if (c->interval_ms < 1000 || c->interval_ms % 1000)
		return err_set(
		    e, "interval must be a whole number of seconds, at least 1s (got %lld ms)",
		    (long long)c->interval_ms);
	/* The first tick comes one interval after the start, and the finest
	 * rollups are 1 minute and 1 hour: an interval longer than a day is a
	 * typo (100000000d) that would leave the daemon running and never
	 * storing anything. */
	if (c->interval_ms > INTERVAL_MAX_MS)
		return err_set(e, "interval must be at most 1d (got %llds)",
			       (long long)(c->interval_ms / 1000));
	/* The kernel wants a ring buffer of a power-of-two number of pages. */
	if (c->bpf.ring_kb < 4 || (c->bpf.ring_kb & (c->bpf.ring_kb - 1)))
		return err_set(e, "bpf.ring_kb must be a power of two, at least 4 (got %lld)",
			       (long long)c->bpf.ring_kb);
	/* Rows leave a tier only after the next coarser tier holds them, so a
	 * finer tier kept longer than a coarser one would be a contradiction. */
	const int64_t *age = c->retention.max_age_s;
	for (int t = 0; t + 1 < NTIERS; t++)
		if (age[t] && age[t + 1] && age[t] > age[t + 1])
			return err_set(e,
				       "retention: %s (%llds) must not be longer than %s (%llds)",
				       tier_names[t], (long long)age[t], tier_names[t + 1],
				       (long long)age[t + 1]);
	if (c->retention.max_db_bytes && c->retention.max_db_bytes < (1 << 20))
		return err_set(e, "retention: max_db_size must be at least 1MiB (got %lld bytes)",
			       (long long)c->retention.max_db_bytes);
	if (remote_write_options_check(&c->remote_write, e))
		return -1;
	/* process_names in this file make the file itself the rules' file */
	if (c->process_names_inline && strcmp(c->accounting.rules_file, c->file))
		return err_set(e, "%s: give either process_config or process_names, not both",
			       c->file[0] ? c->file : "configuration");
	return 0;
}

/* ---- top-level keys ---- */

static int key_db(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	return yaml_path(w, v, "db", c->db, sizeof(c->db), e);
}

static int key_interval(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	return yaml_duration_ms(w, v, "interval", &c->interval_ms, e);
}

static int key_proc_root(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	return yaml_path(w, v, "proc_root", c->proc_root, sizeof(c->proc_root), e);
}

static int key_sys_root(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	return yaml_path(w, v, "sys_root", c->sys_root, sizeof(c->sys_root), e);
}

static int key_views_dir(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	return yaml_path(w, v, "views_dir", c->views_dir, sizeof(c->views_dir), e);
}

static int key_log_level(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	const char *s = yaml_scalar(w, v, "log_level", e);
	char where[PATH_MAX + 32];
	if (!s)
		return -1;
	if (log_parse_level(s, &c->log_level))
		return err_set(e, "%s: log_level: expected error, warn, info or debug, got '%s'",
			       yaml_where(w, v, where, sizeof(where)), s);
	return 0;
}

/* The `bpf:` section: a mapping of family switches and sizes. */
static int key_bpf(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	static const struct {
		const char *name;
		size_t off;
		int64_t max; /* 0: a boolean */
	} keys[] = {
	    {"enabled", offsetof(struct bpf_options, enabled), 0},
	    {"exec", offsetof(struct bpf_options, exec), 0},
	    {"failed_execs", offsetof(struct bpf_options, failed_execs), 0},
	    {"exits", offsetof(struct bpf_options, exits), 0},
	    {"tasks", offsetof(struct bpf_options, tasks), 0},
	    {"syscalls", offsetof(struct bpf_options, syscalls), 0},
	    {"oom", offsetof(struct bpf_options, oom), 0},
	    {"tcp", offsetof(struct bpf_options, tcp), 0},
	    {"prog_stats", offsetof(struct bpf_options, prog_stats), 0},
	    {"args_bytes", offsetof(struct bpf_options, args_bytes), 4096},
	    {"ring_kb", offsetof(struct bpf_options, ring_kb), 1 << 20},
	    {"buffer_kb", offsetof(struct bpf_options, buffer_kb), 1 << 20},
	};
	char where[PATH_MAX + 32];
	if (!v || v->type != YAML_MAPPING_NODE)
		return err_set(e, "%s: bpf must be a mapping of keys to values",
			       v ? yaml_where(w, v, where, sizeof(where)) : w->file);
	for (yaml_node_pair_t *pair = v->data.mapping.pairs.start; pair < v->data.mapping.pairs.top;
	     pair++) {
		yaml_node_t *kn = yaml_document_get_node(w->doc, pair->key);
		yaml_node_t *vn = yaml_document_get_node(w->doc, pair->value);
		const char *name = yaml_scalar(w, kn, "a key", e);
		size_t i = 0;
		if (!name)
			return -1;
		while (i < ARRAY_LEN(keys) && strcmp(keys[i].name, name))
			i++;
		if (i == ARRAY_LEN(keys))
			return err_set(e, "%s: unknown key 'bpf.%s'",
				       yaml_where(w, kn, where, sizeof(where)), name);
		char what[64];
		snprintf(what, sizeof(what), "bpf.%s", name);
		void *field = (char *)&c->bpf + keys[i].off;
		if (keys[i].max ? yaml_int(w, vn, what, 0, keys[i].max, field, e)
				: yaml_bool(w, vn, what, field, e))
			return -1;
	}
	return 0;
}

/* An age limit in whole seconds; 0 keeps forever. */
static int retention_age(const struct yaml_walk *w, yaml_node_t *v, const char *what, int64_t *out,
			 struct err *e)
{
	int64_t ms;
	if (yaml_duration_ms(w, v, what, &ms, e))
		return -1;
	*out = ms / 1000;
	return 0;
}

static int retention_events(struct retention_limits *l, const struct yaml_walk *w, yaml_node_t *v,
			    struct err *e)
{
	char where[PATH_MAX + 32];
	if (v->type != YAML_MAPPING_NODE)
		return err_set(e, "%s: retention.events must map event tables to ages",
			       yaml_where(w, v, where, sizeof(where)));
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		const char *name = yaml_scalar(w, k, "an event table key", e);
		if (!name)
			return -1;
		if (l->nevents == RETENTION_MAX_EVENTS || strlen(name) >= sizeof(l->events[0].key))
			return err_set(e, "%s: retention.events: too many entries or name too long",
				       yaml_where(w, k, where, sizeof(where)));
		snprintf(l->events[l->nevents].key, sizeof(l->events[0].key), "%s", name);
		if (retention_age(w, yaml_document_get_node(w->doc, p->value), name,
				  &l->events[l->nevents].max_age_s, e))
			return -1;
		l->nevents++;
	}
	return 0;
}

static int key_retention(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	char where[PATH_MAX + 32];
	struct retention_limits *l = &c->retention;
	if (v->type != YAML_MAPPING_NODE)
		return err_set(e,
			       "%s: retention must be a mapping (raw, 1m, 1h, max_db_size, "
			       "disk_reserve, events)",
			       yaml_where(w, v, where, sizeof(where)));
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(w->doc, p->value);
		const char *name = yaml_scalar(w, k, "a key", e);
		int tier = -1;
		if (!name)
			return -1;
		for (int t = 0; t < NTIERS; t++)
			if (strcmp(name, tier_names[t]) == 0)
				tier = t;
		if (tier >= 0) {
			if (retention_age(w, val, name, &l->max_age_s[tier], e))
				return -1;
		} else if (strcmp(name, "max_db_size") == 0 || strcmp(name, "disk_reserve") == 0) {
			const char *s = yaml_scalar(w, val, name, e);
			struct err inner;
			if (!s)
				return -1;
			if (parse_size_bytes(
				s, name[0] == 'm' ? &l->max_db_bytes : &l->disk_reserve_bytes,
				&inner))
				return err_set(e, "%s: %s: %s",
					       yaml_where(w, val, where, sizeof(where)), name,
					       inner.msg);
		} else if (strcmp(name, "events") == 0) {
			if (retention_events(l, w, val, e))
				return -1;
		} else {
			return err_set(e,
				       "%s: unknown key 'retention.%s' (raw, 1m, 1h, max_db_size, "
				       "disk_reserve, events)",
				       yaml_where(w, k, where, sizeof(where)), name);
		}
	}
	return 0;
}

/* disks: {include_loop: bool, include_ram: bool} (collect/disk.h). */
static int key_disks(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	char where[PATH_MAX + 32];
	if (v->type != YAML_MAPPING_NODE)
		return err_set(e, "%s: disks must be a mapping (include_loop, include_ram)",
			       yaml_where(w, v, where, sizeof(where)));
	for (yaml_node_pair_t *pair = v->data.mapping.pairs.start; pair < v->data.mapping.pairs.top;
	     pair++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
		yaml_node_t *val = yaml_document_get_node(w->doc, pair->value);
		const char *name = yaml_scalar(w, k, "a key", e);
		if (!name)
			return -1;
		if (strcmp(name, "include_loop") == 0) {
			if (yaml_bool(w, val, "disks.include_loop", &c->disk.include_loop, e))
				return -1;
		} else if (strcmp(name, "include_ram") == 0) {
			if (yaml_bool(w, val, "disks.include_ram", &c->disk.include_ram, e))
				return -1;
		} else {
			return err_set(
			    e, "%s: unknown key 'disks.%s' (expected include_loop, include_ram)",
			    yaml_where(w, k, where, sizeof(where)), name);
		}
	}
	return 0;
}

/* cgroups: {enabled, runtime_root, refresh, max_cgroups, max_open_files}
 * (collect/cgroup.h). */
static int key_cgroups(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	char where[PATH_MAX + 32];
	struct cgroup_options *o = &c->cgroups;
	if (v->type != YAML_MAPPING_NODE)
		return err_set(e,
			       "%s: cgroups must be a mapping (enabled, runtime_root, refresh, "
			       "max_cgroups, max_open_files)",
			       yaml_where(w, v, where, sizeof(where)));
	for (yaml_node_pair_t *pair = v->data.mapping.pairs.start; pair < v->data.mapping.pairs.top;
	     pair++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
		yaml_node_t *val = yaml_document_get_node(w->doc, pair->value);
		const char *name = yaml_scalar(w, k, "a key", e);
		int rc;
		if (!name)
			return -1;
		if (strcmp(name, "enabled") == 0)
			rc = yaml_bool(w, val, "cgroups.enabled", &o->enabled, e);
		else if (strcmp(name, "runtime_root") == 0)
			rc = yaml_path(w, val, "cgroups.runtime_root", o->runtime_root,
				       sizeof(o->runtime_root), e);
		else if (strcmp(name, "refresh") == 0)
			rc = yaml_duration_ms(w, val, "cgroups.refresh", &o->refresh_ms, e);
		else if (strcmp(name, "max_cgroups") == 0)
			rc = yaml_int(w, val, "cgroups.max_cgroups", 1, 10000000, &o->max_cgroups,
				      e);
		else if (strcmp(name, "max_open_files") == 0)
			rc = yaml_int(w, val, "cgroups.max_open_files", 0, 1000000,
				      &o->max_open_files, e);
		else
			return err_set(
			    e,
			    "%s: unknown key 'cgroups.%s' (expected enabled, runtime_root, "
			    "refresh, max_cgroups, max_open_files)",
			    yaml_where(w, k, where, sizeof(where)), name);
		if (rc)
			return -1;
	}
	return 0;
}

/* metrics: {listen: "127.0.0.1:9256"} (metrics/metrics.h); no section, or
 * listen "", is no endpoint. */
static int key_metrics(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	char where[PATH_MAX + 32];
	if (v->type != YAML_MAPPING_NODE)
		return err_set(e, "%s: metrics must be a mapping (listen)",
			       yaml_where(w, v, where, sizeof(where)));
	for (yaml_node_pair_t *pair = v->data.mapping.pairs.start; pair < v->data.mapping.pairs.top;
	     pair++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
		yaml_node_t *val = yaml_document_get_node(w->doc, pair->value);
		const char *name = yaml_scalar(w, k, "a key", e);
		if (!name)
			return -1;
		if (strcmp(name, "listen"))
			return err_set(e, "%s: unknown key 'metrics.%s' (expected listen)",
				       yaml_where(w, k, where, sizeof(where)), name);
		const char *s = yaml_scalar(w, val, "metrics.listen", e);
		struct sockaddr_storage sa;
		socklen_t len;
		struct err inner;
		if (!s)
			return -1;
		if (strlen(s) >= sizeof(c->metrics.listen) ||
		    (s[0] && metrics_parse_listen(s, &sa, &len, &inner)))
			return err_set(
			    e, "%s: metrics.listen %s", yaml_where(w, val, where, sizeof(where)),
			    strlen(s) >= sizeof(c->metrics.listen) ? "is too long" : inner.msg);
		snprintf(c->metrics.listen, sizeof(c->metrics.listen), "%s", s);
	}
	return 0;
}

/* A scalar copied into a fixed buffer, refused when it does not fit. */
static int scalar_into(const struct yaml_walk *w, yaml_node_t *v, const char *what, char *out,
		       size_t n, struct err *e)
{
	char where[PATH_MAX + 32];
	const char *s = yaml_scalar(w, v, what, e);
	if (!s)
		return -1;
	if (strlen(s) >= n)
		return err_set(e, "%s: %s is too long (at most %zu bytes)",
			       yaml_where(w, v, where, sizeof(where)), what, n - 1);
	snprintf(out, n, "%s", s);
	return 0;
}

/* remote_write.basic_auth: {username, password_file}. */
static int remote_basic_auth(struct remote_write_options *o, const struct yaml_walk *w,
			     yaml_node_t *v, struct err *e)
{
	char where[PATH_MAX + 32];
	if (v->type != YAML_MAPPING_NODE)
		return err_set(e,
			       "%s: remote_write.basic_auth must be a mapping (username, "
			       "password_file)",
			       yaml_where(w, v, where, sizeof(where)));
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(w->doc, p->value);
		const char *name = yaml_scalar(w, k, "a key", e);
		if (!name)
			return -1;
		if (strcmp(name, "username") == 0) {
			if (scalar_into(w, val, "remote_write.basic_auth.username", o->username,
					sizeof(o->username), e))
				return -1;
		} else if (strcmp(name, "password_file") == 0) {
			if (yaml_path(w, val, "remote_write.basic_auth.password_file",
				      o->password_file, sizeof(o->password_file), e))
				return -1;
		} else {
			return err_set(e,
				       "%s: unknown key 'remote_write.basic_auth.%s' (expected "
				       "username, password_file)",
				       yaml_where(w, k, where, sizeof(where)), name);
		}
	}
	return 0;
}

/* remote_write.labels: {name: value, ...}, added to every series. */
static int remote_labels(struct remote_write_options *o, const struct yaml_walk *w, yaml_node_t *v,
			 struct err *e)
{
	char where[PATH_MAX + 32];
	if (v->type != YAML_MAPPING_NODE)
		return err_set(e, "%s: remote_write.labels must map label names to values",
			       yaml_where(w, v, where, sizeof(where)));
	o->nlabels = 0;
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(w->doc, p->value);
		const char *name = yaml_scalar(w, k, "a label name", e);
		if (!name)
			return -1;
		if (o->nlabels == RW_MAX_LABELS)
			return err_set(e, "%s: remote_write.labels: at most %d labels",
				       yaml_where(w, k, where, sizeof(where)), RW_MAX_LABELS);
		if (!metric_name_ok(name, 1) || strlen(name) >= sizeof(o->labels[0].name))
			return err_set(e,
				       "%s: remote_write.labels: '%s' is not a label name "
				       "([a-zA-Z_][a-zA-Z0-9_]*, not __reserved, under 64 bytes)",
				       yaml_where(w, k, where, sizeof(where)), name);
		snprintf(o->labels[o->nlabels].name, sizeof(o->labels[0].name), "%s", name);
		if (scalar_into(w, val, "a label value", o->labels[o->nlabels].value,
				sizeof(o->labels[0].value), e))
			return -1;
		o->nlabels++;
	}
	return 0;
}

/* remote_write: {url, basic_auth, bearer_token_file, ca_file, batch_ticks,
 * timeout, max_backoff, labels} (metrics/remote.h); no section, or url "",
 * is no remote write. */
static int key_remote_write(struct config *c, const struct yaml_walk *w, yaml_node_t *v,
			    struct err *e)
{
	static const char expected[] = "url, basic_auth, bearer_token_file, ca_file, batch_ticks, "
				       "timeout, max_backoff, labels";
	struct remote_write_options *o = &c->remote_write;
	char where[PATH_MAX + 32];
	if (v->type != YAML_MAPPING_NODE)
		return err_set(e, "%s: remote_write must be a mapping (%s)",
			       yaml_where(w, v, where, sizeof(where)), expected);
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(w->doc, p->value);
		const char *name = yaml_scalar(w, k, "a key", e);
		int rc;
		if (!name)
			return -1;
		if (strcmp(name, "url") == 0)
			rc = scalar_into(w, val, "remote_write.url", o->url, sizeof(o->url), e);
		else if (strcmp(name, "basic_auth") == 0)
			rc = remote_basic_auth(o, w, val, e);
		else if (strcmp(name, "bearer_token_file") == 0)
			rc = yaml_path(w, val, "remote_write.bearer_token_file",
				       o->bearer_token_file, sizeof(o->bearer_token_file), e);
		else if (strcmp(name, "ca_file") == 0)
			rc = yaml_path(w, val, "remote_write.ca_file", o->ca_file,
				       sizeof(o->ca_file), e);
		else if (strcmp(name, "batch_ticks") == 0)
			rc = yaml_int(w, val, "remote_write.batch_ticks", 1, 1000, &o->batch_ticks,
				      e);
		else if (strcmp(name, "timeout") == 0 || strcmp(name, "max_backoff") == 0) {
			int64_t *out = name[0] == 't' ? &o->timeout_ms : &o->max_backoff_ms;
			rc = yaml_duration_ms(w, val,
					      name[0] == 't' ? "remote_write.timeout"
							     : "remote_write.max_backoff",
					      out, e);
			if (rc == 0 && (*out < 100 || *out > 3600000))
				return err_set(e, "%s: remote_write.%s must be from 100ms to 1h",
					       yaml_where(w, val, where, sizeof(where)), name);
		} else if (strcmp(name, "labels") == 0)
			rc = remote_labels(o, w, val, e);
		else
			return err_set(e, "%s: unknown key 'remote_write.%s' (expected %s)",
				       yaml_where(w, k, where, sizeof(where)), name, expected);
		if (rc)
			return -1;
	}
	return 0;
}

/* A process-exporter `process_names` list: checked now (errors name
 * file:line), compiled again from the file when the collector opens. */
static int key_process_names(struct config *c, const struct yaml_walk *w, yaml_node_t *v,
			     struct err *e)
{
	struct group_rules r;
	if (group_rules_parse(&r, w, v, e))
		return -1;
	group_rules_free(&r);
	c->process_names_inline = 1;
	return 0;
}

static int key_process_config(struct config *c, const struct yaml_walk *w, yaml_node_t *v,
			      struct err *e)
{
	struct group_rules r;
	char *path = c->accounting.rules_file;
	if (yaml_path(w, v, "process_config", path, sizeof(c->accounting.rules_file), e) ||
	    group_rules_load(&r, path, e))
		return -1;
	group_rules_free(&r);
	return 0;
}

static int key_children(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	return yaml_bool(w, v, "children", &c->accounting.children, e);
}

static int key_recheck(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	return yaml_duration_ms(w, v, "recheck_with_time_limit", &c->accounting.recheck_ms, e);
}

static int key_top_processes(struct config *c, const struct yaml_walk *w, yaml_node_t *v,
			     struct err *e)
{
	return yaml_int(w, v, "top_processes", 0, PROCS_TOP_MAX, &c->procs.top_processes, e);
}

static int key_cmdline_max(struct config *c, const struct yaml_walk *w, yaml_node_t *v,
			   struct err *e)
{
	return yaml_int(w, v, "cmdline_max_bytes", 0, 8191, &c->procs.cmdline_max_bytes, e);
}

static int key_procs_refresh(struct config *c, const struct yaml_walk *w, yaml_node_t *v,
			     struct err *e)
{
	return yaml_duration_ms(w, v, "procs_refresh", &c->accounting.refresh_ms, e);
}

static int key_procs_pss(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e)
{
	return yaml_bool(w, v, "procs_pss", &c->accounting.pss, e);
}

/* A list of literal patterns; an empty list turns redaction off. */
static int key_cmdline_redact(struct config *c, const struct yaml_walk *w, yaml_node_t *v,
			      struct err *e)
{
	char where[PATH_MAX + 32];
	if (v->type != YAML_SEQUENCE_NODE)
		return err_set(e, "%s: cmdline_redact must be a list of patterns",
			       yaml_where(w, v, where, sizeof(where)));
	size_t len = 0;
	c->procs.cmdline_redact[0] = '\0';
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		const char *p = yaml_scalar(w, yaml_document_get_node(w->doc, *it), "a pattern", e);
		if (!p)
			return -1;
		if (!*p || strchr(p, '\n') || len + strlen(p) + 2 > sizeof(c->procs.cmdline_redact))
			return err_set(e,
				       "%s: cmdline_redact: pattern empty, multi-line or too many",
				       yaml_where(w, v, where, sizeof(where)));
		len += (size_t)snprintf(c->procs.cmdline_redact + len,
					sizeof(c->procs.cmdline_redact) - len, "%s%s",
					len ? "\n" : "", p);
	}
	return 0;
}

static const struct config_key {
	const char *name;
	int (*parse)(struct config *c, const struct yaml_walk *w, yaml_node_t *v, struct err *e);
} config_keys[] = {
    {"db", key_db},
    {"interval", key_interval},
    {"proc_root", key_proc_root},
    {"sys_root", key_sys_root},
    {"views_dir", key_views_dir},
    {"log_level", key_log_level},
    {"bpf", key_bpf},
    {"retention", key_retention},
    {"disks", key_disks},
    {"cgroups", key_cgroups},
    {"metrics", key_metrics},
    {"remote_write", key_remote_write},
    {"process_names", key_process_names},
    {"process_config", key_process_config},
    {"children", key_children},
    {"recheck_with_time_limit", key_recheck},
    {"top_processes", key_top_processes},
    {"cmdline_max_bytes", key_cmdline_max},
    {"cmdline_redact", key_cmdline_redact},
    {"procs_refresh", key_procs_refresh},
    {"procs_pss", key_procs_pss},
};

static int config_walk(struct config *c, const struct yaml_walk *w, struct err *e)
{
	yaml_node_t *root = yaml_document_get_root_node(w->doc);
	char where[PATH_MAX + 32];
	if (!root)
		return 0; /* an empty file keeps the defaults */
	if (root->type != YAML_MAPPING_NODE)
		return err_set(e, "%s: the configuration must be a mapping of keys to values",
			       yaml_where(w, root, where, sizeof(where)));
	for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
	     pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(w->doc, pair->value);
		const char *name = yaml_scalar(w, k, "a key", e);
		if (!name)
			return -1;
		const struct config_key *ck = NULL;
		for (size_t i = 0; i < ARRAY_LEN(config_keys); i++)
			if (strcmp(config_keys[i].name, name) == 0)
				ck = &config_keys[i];
		if (!ck)
			return err_set(e, "%s: unknown key '%s'",
				       yaml_where(w, k, where, sizeof(where)), name);
		if (ck->parse(c, w, v, e))
			return -1;
	}
	return 0;
}

int config_load_file(struct config *c, const char *path, struct err *e)
{
	yaml_document_t doc;
	if (yaml_load_file(&doc, path, e))
		return -1;
	struct config next = *c;
	struct yaml_walk w = {&doc, path};
	int rc = config_walk(&next, &w, e);
	if (rc == 0) {
		snprintf(next.file, sizeof(next.file), "%s", path);
		/* inline rules are read from this file when the accounting opens */
		if (next.process_names_inline && !next.accounting.rules_file[0])
			snprintf(next.accounting.rules_file, sizeof(next.accounting.rules_file),
				 "%s", path);
		*c = next;
	}
	yaml_document_delete(&doc);
	return rc;
}
