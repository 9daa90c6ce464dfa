/* Pure parsers for /proc/PID/{stat,status,io,limits,schedstat}. */
#include <string.h>

#include "proc/procfs.h"

/* The whitespace-delimited token at p, for error messages. */
static const char *bad_token(const char *p, char *out, size_t n)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '\n')
		return token_preview(p, out, n);
	const char *q = p;
	scan_token(&q, out, n);
	return out;
}

/* A signed decimal that is the whole whitespace-delimited field. */
static int field_i64(const char **p, int64_t *out)
{
	const char *s = *p;
	if (scan_i64(&s, out) || (*s && *s != ' ' && *s != '\n'))
		return -1;
	*p = s;
	return 0;
}

int pid_stat_parse(const char *text, struct pid_stat *out, struct err *e)
{
	if (check_complete(text, "stat", e))
		return -1;
	const char *open = strchr(text, '(');
	const char *close = strrchr(text, ')');
	if (!open || !close || close < open)
		return err_set(e, "stat: no '(comm)' field");
	size_t n = (size_t)(close - open - 1);
	if (n >= sizeof(out->comm))
		n = sizeof(out->comm) - 1;
	memcpy(out->comm, open + 1, n);
	out->comm[n] = '\0';
	const char *p = close + 1;
	while (*p == ' ')
		p++;
	if (!*p || *p == '\n')
		return err_set(e, "stat: nothing after comm");
	out->state = *p++;
	/* Fields 4..24 as numbers; 16..19 (cutime..nice) are signed. */
	int64_t f[25];
	for (int i = 4; i <= 24; i++) {
		if (field_i64(&p, &f[i])) {
			char tok[32];
			return err_set(e, "stat field %d: bad number '%s'", i,
				       bad_token(p, tok, sizeof(tok)));
		}
	}
	out->ppid = (int32_t)f[4];
	out->flags = (uint32_t)f[9];
	out->minflt = (uint64_t)f[10];
	out->majflt = (uint64_t)f[12];
	out->utime = (uint64_t)f[14];
	out->stime = (uint64_t)f[15];
	out->cutime = f[16] > 0 ? (uint64_t)f[16] : 0;
	out->cstime = f[17] > 0 ? (uint64_t)f[17] : 0;
	out->num_threads = f[20];
	out->starttime = (uint64_t)f[22];
	out->vsize = (uint64_t)f[23];
	out->rss_pages = f[24] > 0 ? (uint64_t)f[24] : 0;
	return 0;
}

/* The value after "Key:" on the line starting at p, as one number. */
static int status_value(const char *p, const char *key, uint64_t *out, struct err *e)
{
	if (scan_u64(&p, out)) {
		char tok[32];
		return err_set(e, "status %s: bad number '%s'", key,
			       bad_token(p, tok, sizeof(tok)));
	}
	return 0;
}

int pid_status_parse(const char *text, struct pid_status *out, struct err *e)
{
	if (check_complete(text, "status", e))
		return -1;
	memset(out, 0, sizeof(*out));
	int have = 0;
	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (colon) {
			size_t klen = (size_t)(colon - p);
			const char *v = colon + 1;
			uint64_t a, b;
			if (klen == 3 && !memcmp(p, "Uid", 3)) {
				/* real, effective, saved, filesystem */
				if (scan_u64(&v, &a) || scan_u64(&v, &b)) {
					char tok[32];
					return err_set(e, "status Uid: bad id '%s'",
						       bad_token(v, tok, sizeof(tok)));
				}
				out->ruid = (uint32_t)a;
				out->euid = (uint32_t)b;
				have |= 1;
			} else if (klen == 6 && !memcmp(p, "VmSwap", 6)) {
				if (status_value(v, "VmSwap", &out->swap_kb, e))
					return -1;
			} else if (klen == 23 && !memcmp(p, "voluntary_ctxt_switches", 23)) {
				if (status_value(v, "voluntary_ctxt_switches",
						 &out->voluntary_ctxsw, e))
					return -1;
				have |= 2;
			} else if (klen == 26 && !memcmp(p, "nonvoluntary_ctxt_switches", 26)) {
				if (status_value(v, "nonvoluntary_ctxt_switches",
						 &out->nonvoluntary_ctxsw, e))
					return -1;
				have |= 4;
			}
		}
		p = eol + 1;
	}
	if (have != 7)
		return err_set(e, "status: missing %s",
			       !(have & 1)   ? "Uid"
			       : !(have & 2) ? "voluntary_ctxt_switches"
					     : "nonvoluntary_ctxt_switches");
	return 0;
}

int pid_io_parse(const char *text, struct pid_io *out, struct err *e)
{
	if (check_complete(text, "io", e))
		return -1;
	int have = 0;
	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		uint64_t *dst = NULL;
		const char *key = NULL;
		if (!strncmp(p, "read_bytes:", 11))
			dst = &out->read_bytes, key = "read_bytes", have |= 1;
		else if (!strncmp(p, "write_bytes:", 12))
			dst = &out->write_bytes, key = "write_bytes", have |= 2;
		if (dst) {
			const char *v = strchr(p, ':') + 1;
			if (scan_field_u64(&v, dst)) {
				char tok[32];
				return err_set(e, "io %s: bad number '%s'", key,
					       bad_token(v, tok, sizeof(tok)));
			}
		}
		p = eol + 1;
	}
	if (have != 3)
		return err_set(e, "io: missing %s", (have & 1) ? "write_bytes" : "read_bytes");
	return 0;
}

int pid_limits_nofile(const char *text, uint64_t *soft, struct err *e)
{
	if (check_complete(text, "limits", e))
		return -1;
	const char *p = strstr(text, "\nMax open files");
	if (!p)
		return err_set(e, "limits: no 'Max open files' line");
	p += strlen("\nMax open files");
	while (*p == ' ')
		p++;
	if (!strncmp(p, "unlimited", 9)) {
		*soft = UINT64_MAX;
		return 0;
	}
	if (scan_field_u64(&p, soft)) {
		char tok[32];
		return err_set(e, "limits Max open files: bad number '%s'",
			       bad_token(p, tok, sizeof(tok)));
	}
	return 0;
}

int pid_smaps_pss(const char *text, uint64_t *pss_kb, struct err *e)
{
	if (check_complete(text, "smaps_rollup", e))
		return -1;
	const char *p = strstr(text, "\nPss:");
	if (!p)
		return err_set(e, "smaps_rollup: no 'Pss:' line");
	p += 5;
	if (scan_u64(&p, pss_kb)) {
		char tok[32];
		return err_set(e, "smaps_rollup Pss: bad number '%s'",
			       bad_token(p, tok, sizeof(tok)));
	}
	return 0;
}

int pid_schedstat_parse(const char *text, struct pid_schedstat *out, struct err *e)
{
	if (check_complete(text, "schedstat", e))
		return -1;
	const char *p = text;
	if (scan_field_u64(&p, &out->run_ns) || scan_field_u64(&p, &out->wait_ns) ||
	    scan_field_u64(&p, &out->timeslices)) {
		char tok[32];
		return err_set(e, "schedstat: bad number '%s'", bad_token(p, tok, sizeof(tok)));
	}
	return 0;
}
