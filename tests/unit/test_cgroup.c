/* Control groups: the parsers of the cgroup files (kernel formats, cut and
 * garbage input), naming from paths, the runtimes' files, and the cgroups
 * collector on fixture trees of a systemd host, a Docker host, Kubernetes
 * nodes (systemd and cgroupfs drivers) and a v1 host, down to 10,000
 * cgroups removed while it reads. */
#include "rig.h"

#include <pthread.h>
#include <sys/stat.h>

#include "collect/cgroup.h"
#include "collect/psi.h"
#include "store/tiers.h"
#include "util/json.h"

#define DID  "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708"
#define KID  "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b"
#define UID  "1f5c7d0e-2b7a-4c1e-9a57-1d2f3e4a5b6c"
#define UIDS "1f5c7d0e_2b7a_4c1e_9a57_1d2f3e4a5b6c"

/* ---- parsers ---- */

static void keyed_files(void **state)
{
	static const char *const keys[] = {"usage_usec", "system_usec", "nr_throttled", "absent"};
	uint64_t v[4], found;
	struct err e;
	char *t =
	    fixture_text("cgroup/v2-systemd/sys/fs/cgroup/system.slice/nginx.service/cpu.stat");
	assert_int_equal(cg_parse_keyed(t, "cpu.stat", keys, 4, v, &found, &e), 0);
	assert_int_equal(found, 7);
	assert_int_equal(v[0], 60000000);
	assert_int_equal(v[1], 15000000);
	assert_int_equal(v[2], 0);
	free(t);
	assert_int_equal(cg_parse_keyed("", "cgroup.stat", keys, 4, v, &found, &e), 0);
	assert_int_equal(found, 0);
	expect_error(cg_parse_keyed("usage_usec 12x\n", "cpu.stat", keys, 4, v, &found, &e), &e,
		     "cpu.stat line 1 (usage_usec): expected a number, got '12x'");
	expect_error(cg_parse_keyed("usage_usec 12", "cpu.stat", keys, 4, v, &found, &e), &e,
		     "truncated");
	expect_error(cg_parse_keyed("usage_usec\n", "cpu.stat", keys, 4, v, &found, &e), &e,
		     "expected a number, got 'end of line'");
	expect_error(cg_parse_keyed(" 5\n", "cpu.stat", keys, 4, v, &found, &e), &e,
		     "cpu.stat line 1: expected 'key value'");
}

static void value_files(void **state)
{
	uint64_t v, p;
	struct err e;
	assert_int_equal(cg_parse_value("536870912\n", "memory.max", &v, &e), 0);
	assert_int_equal(v, 536870912);
	assert_int_equal(cg_parse_value("max\n", "memory.max", &v, &e), 0);
	assert_true(v == CG_NO_LIMIT);
	assert_int_equal(cg_parse_value("-1\n", "cpu.cfs_quota_us", &v, &e), 0);
	assert_true(v == CG_NO_LIMIT);
	expect_error(cg_parse_value("12 34\n", "pids.max", &v, &e), &e,
		     "pids.max: expected a number or 'max', got '12 34'");
	expect_error(cg_parse_value("", "pids.current", &v, &e), &e, "pids.current: empty");
	assert_int_equal(cg_parse_cpu_max("max 100000\n", "cpu.max", &v, &p, &e), 0);
	assert_true(v == CG_NO_LIMIT);
	assert_int_equal(p, 100000);
	assert_int_equal(cg_parse_cpu_max("50000 100000\n", "cpu.max", &v, &p, &e), 0);
	assert_int_equal(v, 50000);
	expect_error(cg_parse_cpu_max("50000\n", "cpu.max", &v, &p, &e), &e,
		     "cpu.max: expected a period after the quota");
}

static void io_files(void **state)
{
	struct cg_io io[4];
	size_t n;
	struct err e;
	char *t =
	    fixture_text("cgroup/v2-systemd/sys/fs/cgroup/system.slice/nginx.service/io.stat");
	assert_int_equal(cg_parse_io_stat(t, "io.stat", io, 4, &n, &e), 0);
	free(t);
	assert_int_equal(n, 2);
	assert_int_equal(io[0].major, 8);
	assert_int_equal(io[0].v[CG_IO_RBYTES], 1048576);
	assert_int_equal(io[0].v[CG_IO_WIOS], 1);
	assert_int_equal(io[0].known, 0x3f);
	assert_int_equal(io[1].major, 253);
	/* io.cost and io.latency add keys of their own; a device past the cap is left out */
	assert_int_equal(cg_parse_io_stat("8:16 rbytes=5 wbytes=6 cost.vrate=100.00 "
					  "cost.usage=12 rios=1\n9:0 rbytes=1\n",
					  "io.stat", io, 1, &n, &e),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(io[0].minor, 16);
	assert_int_equal(io[0].v[CG_IO_RIOS], 1);
	assert_int_equal(io[0].known, 0x07);
	assert_int_equal(cg_parse_io_stat("", "io.stat", io, 4, &n, &e), 0);
	assert_int_equal(n, 0);
	expect_error(cg_parse_io_stat("8:0 rbytes\n", "io.stat", io, 4, &n, &e), &e,
		     "io.stat line 1: expected key=value");
	expect_error(cg_parse_io_stat("sda rbytes=1\n", "io.stat", io, 4, &n, &e), &e,
		     "io.stat line 1: expected MAJ:MIN, got 'sda rbytes=1'");
	expect_error(cg_parse_io_stat("8:0 rbytes=-1\n", "io.stat", io, 4, &n, &e), &e,
		     "rbytes: expected a number");

	t = fixture_text("cgroup/v1/sys/fs/cgroup/blkio/docker/blkio.throttle.io_service_bytes_"
			 "recursive");
	n = 0;
	assert_int_equal(cg_parse_blkio(t, "blkio", 0, io, 4, &n, &e), 0);
	free(t);
	t = fixture_text("cgroup/v1/sys/fs/cgroup/blkio/docker/blkio.throttle.io_serviced_"
			 "recursive");
	assert_int_equal(cg_parse_blkio(t, "blkio", 1, io, 4, &n, &e), 0);
	free(t);
	assert_int_equal(n, 1);
	assert_int_equal(io[0].v[CG_IO_RBYTES], 1048576);
	assert_int_equal(io[0].v[CG_IO_WBYTES], 4096);
	assert_int_equal(io[0].v[CG_IO_RIOS], 256);
	assert_int_equal(io[0].v[CG_IO_WIOS], 1);
	assert_int_equal(io[0].known, 0x3f);
	expect_error(cg_parse_blkio("8:0 Read x\n", "blkio", 0, io, 4, &n, &e), &e,
		     "blkio line 1: expected '<op> <number>'");
}

static void proc_cgroup_lines(void **state)
{
	struct cg_proc_line l[CG_PROC_LINES_MAX];
	size_t n;
	struct err e;
	char *t = fixture_text("proc/pid/cgroup.hybrid");
	assert_int_equal(cg_parse_proc_cgroup(t, l, CG_PROC_LINES_MAX, &n, &e), 0);
	assert_int_equal(n, 7);
	assert_int_equal(l[1].hier_id, 11);
	assert_int_equal(l[1].clen, 6);
	assert_memory_equal(l[1].path, "/process_api/e3c6", 17);
	assert_int_equal(l[6].hier_id, 0);
	assert_int_equal(l[6].clen, 0);
	assert_int_equal(l[6].plen, 1);
	free(t);
	expect_error(cg_parse_proc_cgroup("0:/\n", l, 4, &n, &e), &e,
		     "/proc/PID/cgroup line 1: expected ID:CONTROLLERS:/PATH, got '0:/'");
	expect_error(cg_parse_proc_cgroup("x::/\n", l, 4, &n, &e), &e, "got 'x::/'");
}

static void json_strings(void **state)
{
	char out[64];
	const char *const img[] = {"Config", "Image"}, *const name[] = {"Name"};
	const char *const deep[] = {"a", "b", "c"};
	const char doc[] = "{\"Config\": {\"Env\": [\"A=1\", {\"x\": null}], \"Image\": "
			   "\"ng\\\"inx\\u0041\\u00e9\"}, \"Name\": \"/web\", \"n\": -1.5e3}";
	assert_int_equal(json_get_string(doc, strlen(doc), img, 2, out, sizeof(out)), 0);
	assert_string_equal(out, "ng\"inxA?");
	assert_int_equal(json_get_string(doc, strlen(doc), name, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "/web");
	assert_int_equal(json_get_string(doc, strlen(doc), deep, 3, out, sizeof(out)), 1);
	assert_int_equal(json_get_string(doc, 20, img, 2, out, sizeof(out)), -1);
	assert_int_equal(json_get_string("[1,2]", 5, name, 1, out, sizeof(out)), 1);
	assert_int_equal(json_get_string("{\"Name\": 5}", 11, name, 1, out, sizeof(out)), 1);
	assert_int_equal(json_get_string("{\"Name\" 5}", 10, name, 1, out, sizeof(out)), -1);
	assert_int_equal(json_get_string("{\"Name\": \"a\\q\"}", 15, name, 1, out, sizeof(out)),
			 -1);
	assert_int_equal(json_get_string("{\"Name\": \"abcdef\"}", 18, name, 1, out, 4), 0);
	assert_string_equal(out, "abc");
	/* nesting past the limit is refused, not recursed into */
	char deepdoc[400];
	size_t k = 0;
	deepdoc[k++] = '{';
	memcpy(deepdoc + k, "\"x\":", 4);
	k += 4;
	for (int i = 0; i < 100; i++)
		deepdoc[k++] = '[';
	assert_int_equal(json_get_string(deepdoc, k, name, 1, out, sizeof(out)), -1);
}

static int parse_keyed_fn(char *text, size_t len, struct err *e)
{
	static const char *const keys[] = {"anon", "file", "pgfault", "usage_usec"};
	uint64_t v[4], found;
	return cg_parse_keyed(text, "f", keys, 4, v, &found, e);
}

static int parse_io_fn(char *text, size_t len, struct err *e)
{
	struct cg_io io[8];
	size_t n = 0;
	return cg_parse_io_stat(text, "io.stat", io, 8, &n, e);
}

static int parse_blkio_fn(char *text, size_t len, struct err *e)
{
	struct cg_io io[8];
	size_t n = 0;
	return cg_parse_blkio(text, "blkio", 0, io, 8, &n, e);
}

static int parse_value_fn(char *text, size_t len, struct err *e)
{
	uint64_t v, p;
	return cg_parse_value(text, "v", &v, e) && cg_parse_cpu_max(text, "cpu.max", &v, &p, e) ? -1
												: 0;
}

static int parse_proc_fn(char *text, size_t len, struct err *e)
{
	struct cg_proc_line l[CG_PROC_LINES_MAX];
	size_t n;
	return cg_parse_proc_cgroup(text, l, CG_PROC_LINES_MAX, &n, e);
}

static int parse_psi_fn(char *text, size_t len, struct err *e)
{
	struct psi p;
	return psi_parse(text, "cpu.pressure", &p, e);
}

static int parse_json_fn(char *text, size_t len, struct err *e)
{
	struct cg_meta m;
	memset(&m, 0, sizeof(m));
	char out[CG_TEXT_MAX];
	const char *const keys[] = {"annotations", "io.kubernetes.cri.container-name"};
	cg_meta_docker(text, len, &m);
	cg_meta_oci(text, len, &m);
	return json_get_string(text, len, keys, 2, out, sizeof(out)) < 0 ? err_set(e, "bad json")
									 : 0;
}

static void parsers_survive_cuts_and_garbage(void **state)
{
	const char *v2 = "cgroup/v2-systemd/sys/fs/cgroup/system.slice/nginx.service/";
	char path[256];
	snprintf(path, sizeof(path), "%scpu.stat", v2);
	parser_survives_cuts_and_garbage(parse_keyed_fn, path);
	snprintf(path, sizeof(path), "%smemory.stat", v2);
	parser_survives_cuts_and_garbage(parse_keyed_fn, path);
	snprintf(path, sizeof(path), "%sio.stat", v2);
	parser_survives_cuts_and_garbage(parse_io_fn, path);
	snprintf(path, sizeof(path), "%scpu.pressure", v2);
	parser_survives_cuts_and_garbage(parse_psi_fn, path);
	snprintf(path, sizeof(path), "%scpu.max", v2);
	parser_survives_cuts_and_garbage(parse_value_fn, path);
	snprintf(path, sizeof(path), "%smemory.max", v2);
	parser_survives_cuts_and_garbage(parse_value_fn, path);
	parser_survives_cuts_and_garbage(
	    parse_blkio_fn,
	    "cgroup/v1/sys/fs/cgroup/blkio/docker/blkio.throttle.io_service_bytes_recursive");
	parser_survives_cuts_and_garbage(parse_keyed_fn,
					 "cgroup/v1/sys/fs/cgroup/memory/docker/memory.stat");
	parser_survives_cuts_and_garbage(parse_proc_fn, "proc/pid/cgroup.hybrid");
	parser_survives_cuts_and_garbage(
	    parse_json_fn, "cgroup/docker/root/var/lib/docker/containers/" DID "/config.v2.json");
	parser_survives_cuts_and_garbage(parse_json_fn, "cgroup/k8s-systemd/root/run/containerd/"
							"io.containerd.runtime.v2.task/k8s.io/" KID
							"/config.json");
}

/* ---- names ---- */

struct name_case {
	const char *path;
	enum cg_kind kind;
	const char *name, *unit, *runtime, *container_id, *pod_uid, *qos;
};

static void names_from_paths(void **state)
{
	static const struct name_case cases[] = {
	    {"/", CG_KIND_ROOT, "/", "", "", "", "", ""},
	    {"/init.scope", CG_KIND_SCOPE, "init.scope", "init.scope", "", "", "", ""},
	    {"/system.slice", CG_KIND_SLICE, "system.slice", "system.slice", "", "", "", ""},
	    {"/system.slice/nginx.service", CG_KIND_SERVICE, "nginx.service", "nginx.service", "",
	     "", "", ""},
	    {"/system.slice/system-getty.slice/getty@tty1.service", CG_KIND_SERVICE,
	     "getty@tty1.service", "getty@tty1.service", "", "", "", ""},
	    {"/user.slice/user-1000.slice/user@1000.service", CG_KIND_SERVICE, "user@1000.service",
	     "user@1000.service", "", "", "", ""},
	    {"/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.socket", CG_KIND_UNIT,
	     "dbus.socket", "dbus.socket", "", "", "", ""},
	    {"/user.slice/user-1000.slice/session-3.scope", CG_KIND_SCOPE, "session-3.scope",
	     "session-3.scope", "", "", "", ""},
	    {"/system.slice/nginx.service/worker", CG_KIND_CGROUP, "worker", "nginx.service", "",
	     "", "", ""},
	    /* Docker: systemd and cgroupfs drivers, and cgroups inside a container */
	    {"/system.slice/docker-" DID ".scope", CG_KIND_CONTAINER, "docker:3f2a1b4c5d6e",
	     "docker-" DID ".scope", "docker", DID, "", ""},
	    {"/docker/" DID, CG_KIND_CONTAINER, "docker:3f2a1b4c5d6e", "", "docker", DID, "", ""},
	    {"/docker/" DID "/init.scope", CG_KIND_CGROUP, "init.scope", "", "docker", DID, "", ""},
	    {"/system.slice/docker.service", CG_KIND_SERVICE, "docker.service", "docker.service",
	     "", "", "", ""},
	    /* Kubernetes, systemd driver */
	    {"/kubepods.slice", CG_KIND_SLICE, "kubepods.slice", "kubepods.slice", "", "", "", ""},
	    {"/kubepods.slice/kubepods-burstable.slice", CG_KIND_SLICE, "kubepods-burstable.slice",
	     "kubepods-burstable.slice", "", "", "", "burstable"},
	    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDS ".slice",
	     CG_KIND_POD, "pod:" UID, "kubepods-burstable-pod" UIDS ".slice", "", "", UID,
	     "burstable"},
	    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDS
	     ".slice/cri-containerd-" KID ".scope",
	     CG_KIND_CONTAINER, "containerd:9c8b7a6f5e4d", "cri-containerd-" KID ".scope",
	     "containerd", KID, UID, "burstable"},
	    {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDS
	     ".slice/crio-" KID ".scope",
	     CG_KIND_CONTAINER, "cri-o:9c8b7a6f5e4d", "crio-" KID ".scope", "cri-o", KID, UID,
	     "besteffort"},
	    {"/kubepods.slice/kubepods-pod" UIDS ".slice", CG_KIND_POD, "pod:" UID,
	     "kubepods-pod" UIDS ".slice", "", "", UID, "guaranteed"},
	    {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDS
	     ".slice/crio-conmon-" KID ".scope",
	     CG_KIND_SCOPE, "crio-conmon-" KID ".scope", "crio-conmon-" KID ".scope", "", "", UID,
	     "besteffort"},
	    /* Kubernetes, cgroupfs driver */
	    {"/kubepods", CG_KIND_CGROUP, "kubepods", "", "", "", "", ""},
	    {"/kubepods/burstable", CG_KIND_CGROUP, "burstable", "", "", "", "", "burstable"},
	    {"/kubepods/burstable/pod" UID, CG_KIND_POD, "pod:" UID, "", "", "", UID, "burstable"},
	    {"/kubepods/burstable/pod" UID "/" KID, CG_KIND_CONTAINER, "container:9c8b7a6f5e4d", "",
	     "", KID, UID, "burstable"},
	    {"/kubepods/pod" UID, CG_KIND_POD, "pod:" UID, "", "", "", UID, "guaranteed"},
	    {"/kubepods/besteffort/pod" UID "/crio-" KID, CG_KIND_CONTAINER, "cri-o:9c8b7a6f5e4d",
	     "", "cri-o", KID, UID, "besteffort"},
	    /* Podman, LXC, and what is no container */
	    {"/machine.slice/libpod-" KID ".scope", CG_KIND_CONTAINER, "podman:9c8b7a6f5e4d",
	     "libpod-" KID ".scope", "podman", KID, "", ""},
	    {"/machine.slice/libpod-conmon-" KID ".scope", CG_KIND_SCOPE,
	     "libpod-conmon-" KID ".scope", "libpod-conmon-" KID ".scope", "", "", "", ""},
	    {"/lxc.payload.web1", CG_KIND_CONTAINER, "lxc:web1", "", "lxc", "web1", "", ""},
	    {"/lxc/db", CG_KIND_CONTAINER, "lxc:db", "", "lxc", "db", "", ""},
	    {"/process_api/e3c65a921b09ad2b0bc9e8cfd34b390a", CG_KIND_CGROUP,
	     "e3c65a921b09ad2b0bc9e8cfd34b390a", "", "", "", "", ""},
	    {"/" KID "x", CG_KIND_CGROUP, KID "x", "", "", "", "", ""},
	    {"/.service", CG_KIND_CGROUP, ".service", "", "", "", "", ""},
	    {"/kubepods.slice/kubepods-burstable-podnot-a-uid.slice", CG_KIND_SLICE,
	     "kubepods-burstable-podnot-a-uid.slice", "kubepods-burstable-podnot-a-uid.slice", "",
	     "", "", "burstable"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct name_case *c = &cases[i];
		struct cg_label l;
		cgroup_label(c->path, &l);
		if (l.kind != c->kind || strcmp(l.name, c->name) || strcmp(l.unit, c->unit) ||
		    strcmp(l.runtime, c->runtime) || strcmp(l.container_id, c->container_id) ||
		    strcmp(l.pod_uid, c->pod_uid) || strcmp(l.qos, c->qos))
			fail_msg("%s: got %s '%s' unit '%s' runtime '%s' id '%s' pod '%s' qos '%s'",
				 c->path, cg_kind_name(l.kind), l.name, l.unit, l.runtime,
				 l.container_id, l.pod_uid, l.qos);
	}
}

static void runtime_files(void **state)
{
	struct cg_meta m;
	memset(&m, 0, sizeof(m));
	char *t =
	    fixture_text("cgroup/docker/root/var/lib/docker/containers/" DID "/config.v2.json");
	cg_meta_docker(t, strlen(t), &m);
	free(t);
	assert_string_equal(m.container_name, "web");
	assert_string_equal(m.image, "nginx:1.25");
	memset(&m, 0, sizeof(m));
	t = fixture_text("cgroup/k8s-systemd/root/run/containerd/io.containerd.runtime.v2.task/"
			 "k8s.io/" KID "/config.json");
	cg_meta_oci(t, strlen(t), &m);
	free(t);
	assert_string_equal(m.container_name, "nginx");
	assert_string_equal(m.image, "docker.io/library/nginx:1.25");
	assert_string_equal(m.pod_name, "default/web-7f9c");
	char out[64];
	assert_int_equal(cg_pod_log_dir("default_web-7f9c_" UID, UID, out, sizeof(out)), 1);
	assert_string_equal(out, "default/web-7f9c");
	assert_int_equal(
	    cg_pod_log_dir("kube-system_coredns-5d78c9869d-x2x4l_" UID, UID, out, sizeof(out)), 1);
	assert_string_equal(out, "kube-system/coredns-5d78c9869d-x2x4l");
	assert_int_equal(cg_pod_log_dir("default_web_" KID, UID, out, sizeof(out)), 0);
	assert_int_equal(cg_pod_log_dir("_" UID, UID, out, sizeof(out)), 0);
	assert_int_equal(cg_pod_log_dir(UID, UID, out, sizeof(out)), 0);
}

/* ---- the collector on fixture trees ---- */

struct cgrig {
	struct rig r;
	struct cgroup_options opt;
	char cg[1200]; /* <sys>/fs/cgroup */
};

/* A rig whose sys root is a copy of tests/fixtures/cgroup/<host>/sys, the
 * runtime root that host's root/ (read only). */
static void cg_rig(struct cgrig *g, const char *host)
{
	char cmd[4400];
	const char *fx = getenv("FIXTURES") ? getenv("FIXTURES") : "tests/fixtures";
	rig_init(&g->r);
	snprintf(cmd, sizeof(cmd), "cp -a '%s/cgroup/%s/sys/.' '%s/'", fx, host, g->r.sys);
	assert_int_equal(system(cmd), 0);
	cgroup_options_default(&g->opt);
	g->opt.refresh_ms = 86400000; /* no refresh reads unless a test asks */
	snprintf(g->opt.runtime_root, sizeof(g->opt.runtime_root), "%s/cgroup/%s/root", fx, host);
	snprintf(g->cg, sizeof(g->cg), "%s/fs/cgroup", g->r.sys);
}

static void cg_put(struct cgrig *g, const char *rel, const char *text)
{
	put(g->cg, rel, text);
}

static void cpu_stat(struct cgrig *g, const char *dir, uint64_t usage_us)
{
	char rel[1024], text[256];
	snprintf(rel, sizeof(rel), "%s%scpu.stat", dir, *dir ? "/" : "");
	snprintf(text, sizeof(text),
		 "usage_usec %llu\nuser_usec %llu\nsystem_usec %llu\nnr_periods 0\n"
		 "nr_throttled 0\nthrottled_usec 0\n",
		 (unsigned long long)usage_us, (unsigned long long)(usage_us * 3 / 4),
		 (unsigned long long)(usage_us - usage_us * 3 / 4));
	cg_put(g, rel, text);
}

static int64_t qi(struct cgrig *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t qi(struct cgrig *g, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return q(&g->r, sql);
}

static char *qtext(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	static char out[1024];
	out[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static char *qs(struct cgrig *g, const char *sql)
{
	return qtext(g->r.st.db, sql);
}

#define NGINX "/system.slice/nginx.service"

static void systemd_host_rows(void **state)
{
	struct cgrig g;
	cg_rig(&g, "v2-systemd");
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	int64_t t1 = g.r.ts;
	assert_int_equal(q(&g.r, "SELECT count(*) FROM cgroup"), 14);
	assert_string_equal(qs(&g, "SELECT kind || ' ' || cgroup || ' ' || parent FROM cgroup_tree "
				   "WHERE path = '" NGINX "'"),
			    "service nginx.service system.slice");
	assert_string_equal(qs(&g, "SELECT group_concat(name, ',') FROM (SELECT name FROM cgroup "
				   "WHERE kind IN ('service', 'scope', 'unit') ORDER BY name)"),
			    "cron.service,dbus.socket,getty@tty1.service,init.scope,nginx.service,"
			    "session-3.scope,sshd.service,user@1000.service");
	assert_int_equal(q(&g.r, "SELECT inode FROM cgroup WHERE path = '/'"), (int64_t)({
				 struct stat st;
				 assert_int_equal(stat(g.cg, &st), 0);
				 st.st_ino;
			 }));
	/* limits other than "max", once */
	assert_string_equal(qs(&g, "SELECT memory_max_bytes || ' ' || memory_high_bytes || ' ' || "
				   "cpu_quota_us || '/' || cpu_period_us || ' ' || pids_max_count "
				   "FROM cgroup_tree WHERE path = '" NGINX "'"),
			    "536870912 402653184 50000/100000 512");
	assert_int_equal(q(&g.r, "SELECT count(*) FROM cgroup_limit"), 1);
	/* the first tick stores every gauge; the counters start from the baseline */
	assert_int_equal(qi(&g,
			    "SELECT current_bytes FROM cgroup_memory WHERE ts = %lld AND "
			    "cgroup = 'nginx.service'",
			    (long long)t1),
			 104857600);
	assert_int_equal(qi(&g,
			    "SELECT working_set_bytes FROM cgroup_memory WHERE ts = %lld "
			    "AND cgroup = 'nginx.service'",
			    (long long)t1),
			 104857600 - 104857600 / 8);
	assert_int_equal(qi(&g, "SELECT coalesce(sum(usage_ms), 0) FROM cgroup_cpu WHERE ts = %lld",
			    (long long)t1),
			 0);

	/* nothing changes: nothing is written, and idle subtrees are not read */
	rig_tick(&g.r);
	int64_t t2 = g.r.ts;
	assert_int_equal(qi(&g,
			    "SELECT (SELECT count(*) FROM cgroup_cpu_stat WHERE ts = %lld) + "
			    "(SELECT count(*) FROM cgroup_memory_stat WHERE ts = %lld) + "
			    "(SELECT count(*) FROM cgroup_io_stat WHERE ts = %lld) + "
			    "(SELECT count(*) FROM cgroup_pressure_stat WHERE ts = %lld)",
			    (long long)t2, (long long)t2, (long long)t2, (long long)t2),
			 0);
	assert_int_equal(
	    qi(&g, "SELECT read_count FROM cgroup_scan WHERE ts = %lld", (long long)t2),
	    1); /* the root's cpu.stat */

	/* nginx runs for a second: it and its ancestors move, nothing else */
	cpu_stat(&g, "", 987654321 + 1000000);
	cpu_stat(&g, "system.slice", 90000000 + 1000000);
	cpu_stat(&g, NGINX + 1, 60000000 + 1000000);
	cg_put(&g, NGINX "/memory.current", "110000000\n");
	cg_put(&g, NGINX "/io.stat",
	       "8:0 rbytes=2097152 wbytes=4096 rios=300 wios=1 dbytes=0 dios=0\n"
	       "253:0 rbytes=524288 wbytes=0 rios=128 wios=0 dbytes=0 dios=0\n");
	cg_put(&g, NGINX "/memory.max", "268435456\n");
	cg_put(&g, "io.stat",
	       "8:0 rbytes=105906176 wbytes=52428800 rios=25644 wios=12800 "
	       "dbytes=0 dios=0\n");
	cg_put(&g, "system.slice/io.stat",
	       "8:0 rbytes=2097152 wbytes=4096 rios=300 wios=1 dbytes=0 dios=0\n"
	       "253:0 rbytes=524288 wbytes=0 rios=128 wios=0 dbytes=0 dios=0\n");
	rig_tick(&g.r);
	int64_t t3 = g.r.ts;
	assert_string_equal(qs(&g, "SELECT group_concat(cgroup || '=' || usage_ms, ',') FROM "
				   "cgroup_cpu WHERE ts = (SELECT max(ts) FROM cgroup_cpu)"),
			    "/=1000.0,system.slice=1000.0,nginx.service=1000.0");
	assert_int_equal(qi(&g,
			    "SELECT user_ms FROM cgroup_cpu WHERE ts = %lld AND path = '" NGINX "'",
			    (long long)t3),
			 750);
	assert_int_equal(qi(&g,
			    "SELECT current_bytes FROM cgroup_memory WHERE ts = %lld AND path "
			    "= '" NGINX "'",
			    (long long)t3),
			 110000000);
	assert_string_equal(qs(&g, "SELECT group_concat(device || ' ' || read_bytes || ' ' || "
				   "reads_count, ',') FROM cgroup_io WHERE path = '" NGINX "'"),
			    "8:0 1048576 44");
	assert_int_equal(
	    qi(&g, "SELECT memory_max_bytes FROM cgroup_limit WHERE ts = %lld", (long long)t3),
	    268435456);
	/* sshd (under system.slice) was read and had not moved; user.slice's
	 * subtree was not read at all */
	assert_int_equal(
	    qi(&g, "SELECT count(*) FROM cgroup_cpu_stat WHERE ts = %lld", (long long)t3), 3);
	assert_in_range(qi(&g, "SELECT read_count FROM cgroup_scan WHERE ts = %lld", (long long)t3),
			10, 30);

	/* nginx runs again: its growth is all of system.slice's, which is all
	 * of the root's, so their other children are not read (the busy ones
	 * come first). Read: the root's cpu.stat and io.stat, system.slice's
	 * and nginx's cpu.stat and memory.current. */
	cpu_stat(&g, "", 987654321 + 2000000);
	cpu_stat(&g, "system.slice", 90000000 + 2000000);
	cpu_stat(&g, NGINX + 1, 60000000 + 2000000);
	rig_tick(&g.r);
	assert_int_equal(
	    qi(&g, "SELECT read_count FROM cgroup_scan WHERE ts = %lld", (long long)g.r.ts), 6);
	assert_string_equal(qs(&g, "SELECT group_concat(cgroup || '=' || usage_ms, ',') FROM "
				   "cgroup_cpu WHERE ts = (SELECT max(ts) FROM cgroup_cpu)"),
			    "/=1000.0,system.slice=1000.0,nginx.service=1000.0");
	/* what to rank: the service, not the slice and the root that add it up */
	assert_string_equal(qs(&g, "SELECT group_concat(cgroup || '=' || is_workload, ',') FROM "
				   "cgroup_cpu WHERE ts = (SELECT max(ts) FROM cgroup_cpu)"),
			    "/=0,system.slice=0,nginx.service=1");
	rig_free(&g.r);
}

/* Pressure is read once a refresh period, for cgroups that ran: its rows
 * span the time since the last reading. */
static void pressure_once_a_refresh(void **state)
{
	struct cgrig g;
	cg_rig(&g, "v2-systemd");
	g.opt.refresh_ms = 30000;
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	for (int i = 1; i <= 9; i++) {
		char text[256];
		cpu_stat(&g, "", 987654321 + (uint64_t)i * 1000);
		cpu_stat(&g, "system.slice", 90000000 + (uint64_t)i * 1000);
		cpu_stat(&g, NGINX + 1, 60000000 + (uint64_t)i * 1000);
		/* its stalls are its ancestors' too */
		static const char *const dirs[] = {"", "system.slice/", NGINX + 1};
		static const int base[] = {5000000, 900000, 600000};
		for (int d = 0; d < 3; d++) {
			char rel[256];
			snprintf(text, sizeof(text),
				 "some avg10=1.00 avg60=0.00 avg300=0.00 total=%d\n"
				 "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
				 base[d] + i * 100000);
			snprintf(rel, sizeof(rel), "%s%scpu.pressure", dirs[d], d == 2 ? "/" : "");
			cg_put(&g, rel, text);
		}
		rig_tick(&g.r);
	}
	/* nginx's refresh falls 40 s after its first reading, then every 30 s:
	 * two rows over 70 s with all the stall time of those 70 s */
	assert_string_equal(qs(&g, "SELECT count(*) || ' ' || min(dur_ms) || ' ' || max(dur_ms) || "
				   "' ' || sum(cpu_some_ms) FROM cgroup_pressure WHERE cgroup = "
				   "'nginx.service'"),
			    "2 30000 40000 700.0");
	assert_int_equal(q(&g.r, "SELECT max(cpu_some_pct) FROM cgroup_pressure WHERE cgroup = "
				 "'nginx.service'"),
			 1);
	rig_free(&g.r);
}

static void empty_cgroup_final_row_then_silence(void **state)
{
	struct cgrig g;
	cg_rig(&g, "v2-systemd");
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	/* its last task exits after running 0.5 s: one final row */
	cpu_stat(&g, "", 987654321 + 500000);
	cpu_stat(&g, "system.slice", 90000000 + 500000);
	cpu_stat(&g, NGINX + 1, 60000000 + 500000);
	cg_put(&g, NGINX "/cgroup.events", "populated 0\nfrozen 0\n");
	rig_tick(&g.r);
	assert_int_equal(q(&g.r, "SELECT sum(usage_ms) FROM cgroup_cpu WHERE path = '" NGINX "'"),
			 500);
	/* empty: not read, even though its file moved (it cannot, really) */
	cpu_stat(&g, "", 987654321 + 700000);
	cpu_stat(&g, "system.slice", 90000000 + 700000);
	cpu_stat(&g, NGINX + 1, 60000000 + 700000);
	rig_tick(&g.r);
	assert_int_equal(q(&g.r, "SELECT count(*) FROM cgroup_cpu WHERE path = '" NGINX "' AND "
				 "usage_ms > 0"),
			 1);
	assert_int_equal(q(&g.r, "SELECT skipped_count >= 1 FROM cgroup_scan ORDER BY ts DESC"), 1);
	/* a task again: the growth since its last reading, none lost */
	cg_put(&g, NGINX "/cgroup.events", "populated 1\nfrozen 0\n");
	rig_tick(&g.r);
	assert_int_equal(q(&g.r, "SELECT sum(usage_ms) FROM cgroup_cpu WHERE path = '" NGINX "'"),
			 700);
	rig_free(&g.r);
}

static void new_and_removed_cgroups(void **state)
{
	struct cgrig g;
	cg_rig(&g, "v2-systemd");
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	/* a unit starts: its counters began at 0, so all of them count */
	cg_put(&g, "system.slice/new.service/cgroup.events", "populated 1\nfrozen 0\n");
	cpu_stat(&g, "system.slice/new.service", 4000);
	cg_put(&g, "system.slice/new.service/memory.current", "4096\n");
	rig_tick(&g.r);
	assert_string_equal(qs(&g, "SELECT kind || ' ' || name FROM cgroup WHERE path = "
				   "'/system.slice/new.service'"),
			    "service new.service");
	assert_int_equal(q(&g.r, "SELECT usage_ms * 1000 FROM cgroup_cpu WHERE cgroup = "
				 "'new.service'"),
			 4000);
	assert_int_equal(q(&g.r, "SELECT new_count FROM cgroup_scan ORDER BY ts DESC"), 1);
	/* a unit stops and its cgroup goes */
	assert_int_equal(system(({
				 static char cmd[1400];
				 snprintf(cmd, sizeof(cmd), "rm -rf '%s/system.slice/sshd.service'",
					  g.cg);
				 cmd;
			 })),
			 0);
	rig_tick(&g.r);
	assert_int_equal(q(&g.r, "SELECT gone_ts FROM cgroup WHERE path = "
				 "'/system.slice/sshd.service'"),
			 g.r.ts);
	assert_int_equal(q(&g.r, "SELECT gone_count FROM cgroup_scan ORDER BY ts DESC"), 1);
	assert_int_equal(q(&g.r, "SELECT cgroups_count FROM cgroup_scan ORDER BY ts DESC"), 14);
	rig_free(&g.r);
}

/* A unit restarted between two ticks: its cgroup is removed and made again
 * under the same path, with a new id and counters from 0. It is a new
 * cgroup: the old row ends, a new one starts, and the new counters count
 * whole (not as a drop against the old cgroup's). */
static void remade_cgroup_is_a_new_one(void **state)
{
	struct cgrig g;
	char cmd[8192];
	cg_rig(&g, "v2-systemd");
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	int64_t old_inode = q(&g.r, "SELECT inode FROM cgroup WHERE path = "
				    "'/system.slice/sshd.service'");
	/* the old directory is moved out of the tree (so its inode cannot be
	 * reused) and a fresh one made in its place */
	snprintf(cmd, sizeof(cmd),
		 "mv '%s/system.slice/sshd.service' '%s/sshd-old' && "
		 "cp -a '%s/sshd-old' '%s/system.slice/sshd.service'",
		 g.cg, g.r.sys, g.r.sys, g.cg);
	assert_int_equal(system(cmd), 0);
	cpu_stat(&g, "", 987654321 + 3000);
	cpu_stat(&g, "system.slice", 90000000 + 3000);
	cpu_stat(&g, "system.slice/sshd.service", 3000);
	rig_tick(&g.r);
	assert_int_equal(q(&g.r, "SELECT count(*) FROM cgroup WHERE path = "
				 "'/system.slice/sshd.service'"),
			 2);
	assert_int_equal(
	    qi(&g, "SELECT gone_ts FROM cgroup WHERE inode = %lld", (long long)old_inode), g.r.ts);
	assert_int_equal(qi(&g,
			    "SELECT count(*) FROM cgroup WHERE path = "
			    "'/system.slice/sshd.service' AND inode <> %lld AND gone_ts IS NULL",
			    (long long)old_inode),
			 1);
	assert_int_equal(qi(&g,
			    "SELECT sum(s.usage_us) FROM cgroup_cpu_stat s JOIN cgroup c ON "
			    "c.id = s.cgroup_id WHERE c.path = '/system.slice/sshd.service' "
			    "AND c.inode <> %lld",
			    (long long)old_inode),
			 3000);
	assert_int_equal(q(&g.r, "SELECT error_count FROM cgroup_scan ORDER BY ts DESC"), 0);
	rig_free(&g.r);
}

static void restart_and_rollback_keep_rows(void **state)
{
	struct cgrig g;
	struct err e;
	cg_rig(&g, "v2-systemd");
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	int64_t rows = q(&g.r, "SELECT count(*) FROM cgroup");
	/* a tick that is rolled back: its deltas are counted by the next one */
	cpu_stat(&g, "", 987654321 + 1000000);
	cpu_stat(&g, "system.slice", 90000000 + 1000000);
	cpu_stat(&g, NGINX + 1, 60000000 + 1000000);
	struct tick_errors te = {0};
	struct tick t = {.ts = g.r.ts += 10, .dur_ms = 10000, .store = &g.r.st, .errors = &te};
	assert_int_equal(store_begin(&g.r.st, &e), 0);
	assert_int_equal(collector_cgroup.sample(g.r.state, &t, &e), 0);
	store_rollback(&g.r.st);
	cpu_stat(&g, "", 987654321 + 2000000);
	cpu_stat(&g, "system.slice", 90000000 + 2000000);
	cpu_stat(&g, NGINX + 1, 60000000 + 2000000);
	rig_tick(&g.r);
	assert_int_equal(q(&g.r, "SELECT sum(usage_ms) FROM cgroup_cpu WHERE path = '" NGINX "'"),
			 2000);
	assert_int_equal(q(&g.r, "SELECT count(*) FROM cgroup"), rows);
	/* the daemon restarts while one cgroup goes: the others keep their rows */
	rig_close(&g.r);
	assert_int_equal(system(({
				 static char cmd[1400];
				 snprintf(cmd, sizeof(cmd), "rm -rf '%s/init.scope'", g.cg);
				 cmd;
			 })),
			 0);
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	assert_int_equal(q(&g.r, "SELECT count(*) FROM cgroup"), rows);
	assert_int_equal(q(&g.r, "SELECT count(*) FROM cgroup WHERE gone_ts IS NOT NULL"), 1);
	assert_int_equal(q(&g.r, "SELECT gone_ts FROM cgroup WHERE path = '/init.scope'"), g.r.ts);
	/* rows left open by an earlier boot end at this boot */
	assert_int_equal(store_exec(&g.r.st,
				    "INSERT INTO cgroup(inode, path, kind, name, first_seen_ts) "
				    "VALUES (99, '/old', 'cgroup', 'old', 5)",
				    &e),
			 0);
	rig_close(&g.r);
	put(g.r.proc, "stat", "cpu 1 2 3 4\nbtime 1000\n");
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	assert_int_equal(q(&g.r, "SELECT gone_ts FROM cgroup WHERE path = '/old'"), 1000);
	rig_free(&g.r);
}

static void v1_host(void **state)
{
	struct cgrig g;
	cg_rig(&g, "v1");
	struct cg_hiers hs;
	struct err e;
	assert_int_equal(cg_hiers_open(&hs, g.r.env.sys_fd, &e), 0);
	assert_int_equal(hs.n, 4); /* cpu,cpuacct memory blkio pids: not systemd, not the links */
	assert_int_equal(hs.v2, -1);
	assert_string_equal(hs.h[0].name, "cpu,cpuacct");
	assert_string_equal(hs.h[1].name, "memory");
	assert_string_equal(hs.h[2].name, "blkio");
	assert_string_equal(hs.h[3].name, "pids");
	cg_hiers_close(&hs);

	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	assert_int_equal(q(&g.r, "SELECT count(*) FROM cgroup"), 5);
	struct stat st;
	char dir[1400];
	snprintf(dir, sizeof(dir), "%s/cpu,cpuacct/docker/" DID, g.cg);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(q(&g.r, "SELECT inode FROM cgroup WHERE path = '/docker/" DID "'"),
			 CG_V1_ID(1, st.st_ino));
	assert_string_equal(qs(&g, "SELECT name || ' ' || runtime || ' ' || image || ' ' || kind "
				   "FROM cgroup WHERE path = '/docker/" DID "'"),
			    "cache docker redis:7 container");
	assert_string_equal(qs(&g, "SELECT cpu_quota_us || '/' || cpu_period_us FROM cgroup_tree "
				   "WHERE container = '3f2a1b4c5d6e'"),
			    "50000/100000");
	assert_int_equal(q(&g.r, "SELECT count(*) FROM cgroup_limit"), 1);
	/* the container runs 2 s and is throttled */
	static const char *const dirs[] = {"", "docker", "docker/" DID};
	for (size_t i = 0; i < 3; i++) {
		char rel[256];
		uint64_t base[] = {987654321000ULL, 30000000000ULL, 30000000000ULL};
		snprintf(rel, sizeof(rel), "cpu,cpuacct/%s%scpuacct.usage", dirs[i], i ? "/" : "");
		char text[64];
		snprintf(text, sizeof(text), "%llu\n",
			 (unsigned long long)(base[i] + 2000000000ULL));
		cg_put(&g, rel, text);
	}
	cg_put(&g, "cpu,cpuacct/docker/" DID "/cpuacct.stat", "user 2400\nsystem 900\n");
	cg_put(&g, "cpu,cpuacct/docker/" DID "/cpu.stat",
	       "nr_periods 60\nnr_throttled 8\nthrottled_time 400000000\n");
	cg_put(&g, "memory/docker/" DID "/memory.usage_in_bytes", "160000000\n");
	for (size_t i = 0; i < 3; i++) { /* its I/O is its ancestors' too */
		char rel[256];
		snprintf(rel, sizeof(rel), "blkio/%s%sblkio.throttle.io_service_bytes_recursive",
			 dirs[i], i ? "/" : "");
		cg_put(&g, rel,
		       "8:0 Read 2097152\n8:0 Write 4096\n8:0 Total 2101248\nTotal 2101248\n");
	}
	rig_tick(&g.r);
	assert_string_equal(qs(&g,
			       "SELECT usage_ms || ' ' || user_ms || ' ' || system_ms || ' ' || "
			       "periods_count || ' ' || throttled_count || ' ' || throttled_ms "
			       "FROM cgroup_cpu WHERE cgroup = 'cache' ORDER BY ts DESC"),
			    "2000.0 1500.0 1500.0 20 5 250.0");
	assert_int_equal(q(&g.r, "SELECT current_bytes FROM cgroup_memory WHERE cgroup = 'cache' "
				 "ORDER BY ts DESC"),
			 160000000);
	assert_string_equal(qs(&g, "SELECT read_bytes || ' ' || write_bytes FROM cgroup_io WHERE "
				   "cgroup = 'cache'"),
			    "1048576 0");
	rig_free(&g.r);
}

static void containers_and_pods_named(void **state)
{
	struct cgrig g;
	cg_rig(&g, "docker");
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	assert_string_equal(qs(&g, "SELECT cgroup || ' ' || kind || ' ' || runtime || ' ' || "
				   "container || ' ' || image || ' ' || memory_max_bytes FROM "
				   "cgroup_tree WHERE kind = 'container'"),
			    "web container docker 3f2a1b4c5d6e nginx:1.25 268435456");
	rig_free(&g.r);

	cg_rig(&g, "k8s-systemd");
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	assert_string_equal(
	    qs(&g, "SELECT group_concat(line, ' | ') FROM (SELECT kind || ' ' || cgroup || ' ' || "
		   "coalesce(qos, '-') || ' ' || coalesce(image, '-') || ' ' || "
		   "coalesce(pod_name, '-') AS line FROM cgroup_tree WHERE kind IN ('pod', "
		   "'container') ORDER BY path)"),
	    "pod pod:aaaabbbb-cccc-dddd-eeee-ffff00001111 besteffort - - | "
	    "pod default/web-7f9c burstable - default/web-7f9c | "
	    "container containerd:222222222222 burstable - default/web-7f9c | "
	    "container nginx burstable docker.io/library/nginx:1.25 default/web-7f9c | "
	    "pod kube-system/coredns-5d78c9869d-x2x4l guaranteed - "
	    "kube-system/coredns-5d78c9869d-x2x4l | "
	    "container containerd:111111111111 guaranteed - kube-system/coredns-5d78c9869d-x2x4l");
	rig_free(&g.r);

	cg_rig(&g, "k8s-cgroupfs");
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	assert_string_equal(
	    qs(&g, "SELECT group_concat(kind || ' ' || cgroup || ' ' || qos, ' | ') FROM (SELECT * "
		   "FROM cgroup_tree WHERE kind IN ('pod', 'container') ORDER BY path)"),
	    "pod pod:aaaabbbb-cccc-dddd-eeee-ffff00001111 besteffort | "
	    "pod pod:" UID " burstable | container container:9c8b7a6f5e4d burstable | "
	    "pod pod:12345678-90ab-cdef-1234-567890abcdef guaranteed | "
	    "container container:111111111111 guaranteed");
	/* the workloads are the pods and containers, not the cgroups that
	 * group them (kubepods, its QoS classes) */
	struct err e;
	assert_int_equal(store_exec(&g.r.st,
				    "INSERT INTO cgroup_cpu_stat(ts, cgroup_id, dur_ms, usage_us) "
				    "SELECT first_seen_ts + 1, id, 10000, 1000 FROM cgroup",
				    &e),
			 0);
	assert_string_equal(qs(&g, "SELECT group_concat(kind || '=' || is_workload, ',') FROM "
				   "(SELECT kind, max(is_workload) AS is_workload FROM cgroup_cpu "
				   "GROUP BY kind ORDER BY kind)"),
			    "cgroup=0,container=1,pod=1,root=0");
	rig_free(&g.r);
}

static void malformed_files_are_counted(void **state)
{
	struct cgrig g;
	cg_rig(&g, "v2-systemd");
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	cpu_stat(&g, "", 987654321 + 1000000);
	cpu_stat(&g, "system.slice", 90000000 + 1000000);
	cpu_stat(&g, "system.slice/sshd.service", 2000000 + 1000000);
	cg_put(&g, "io.stat", "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n");
	cg_put(&g, "system.slice/io.stat", "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n");
	cg_put(&g, NGINX "/cpu.stat", "usage_usec 12x\n");
	cg_put(&g, "system.slice/sshd.service/memory.current", "9000000\n");
	cg_put(&g, "system.slice/sshd.service/memory.stat", "anon 5\nfile");
	cg_put(&g, "system.slice/sshd.service/io.stat", "garbage\n");
	char fifo[1400];
	snprintf(fifo, sizeof(fifo), "%s/system.slice/sshd.service/pids.current", g.cg);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	rig_tick(&g.r);
	/* nginx's cpu.stat, sshd's memory.stat, io.stat and pids.current (a FIFO) */
	assert_int_equal(q(&g.r, "SELECT error_count FROM cgroup_scan ORDER BY ts DESC"), 4);
	/* what could be read is stored */
	assert_int_equal(
	    q(&g.r, "SELECT sum(usage_ms) FROM cgroup_cpu WHERE cgroup = 'sshd.service'"), 1000);
	assert_int_equal(
	    q(&g.r, "SELECT sum(usage_ms) FROM cgroup_cpu WHERE cgroup = 'system.slice'"), 1000);
	rig_free(&g.r);
}

static void process_cgroup_ids(void **state)
{
	struct cgrig g;
	struct cg_hiers hs;
	struct err e;
	struct stat st;
	char dir[1400];
	cg_rig(&g, "v2-systemd");
	assert_int_equal(cg_hiers_open(&hs, g.r.env.sys_fd, &e), 0);
	snprintf(dir, sizeof(dir), "%s" NGINX, g.cg);
	assert_int_equal(stat(dir, &st), 0);
	char *t = fixture_text("proc/pid/cgroup.v2");
	assert_int_equal(cg_proc_cgroup_id(&hs, t), (int64_t)st.st_ino);
	free(t);
	assert_int_equal(cg_proc_cgroup_id(&hs, "0::/no/such/cgroup\n"), 0);
	assert_int_equal(cg_proc_cgroup_id(&hs, "garbage"), 0);
	cg_hiers_close(&hs);
	rig_free(&g.r);

	cg_rig(&g, "v1");
	assert_int_equal(cg_hiers_open(&hs, g.r.env.sys_fd, &e), 0);
	snprintf(dir, sizeof(dir), "%s/cpu,cpuacct/docker/" DID, g.cg);
	assert_int_equal(stat(dir, &st), 0);
	t = fixture_text("proc/pid/cgroup.v1");
	assert_int_equal(cg_proc_cgroup_id(&hs, t), CG_V1_ID(1, st.st_ino));
	free(t);
	cg_hiers_close(&hs);
	rig_free(&g.r);
}

/* ---- 10,000 cgroups, some removed while they are read ---- */

struct remover {
	const char *root;
	int n;
};

static void *remove_cgroups(void *arg)
{
	const struct remover *r = arg;
	char path[1400];
	for (int i = 0; i < r->n; i++) {
		static const char *const files[] = {"cgroup.events", "cpu.stat"};
		for (size_t f = 0; f < 2; f++) {
			snprintf(path, sizeof(path), "%s/s%d.slice/c%d.scope/%s", r->root, i % 100,
				 i / 100, files[f]);
			unlink(path);
		}
		snprintf(path, sizeof(path), "%s/s%d.slice/c%d.scope", r->root, i % 100, i / 100);
		rmdir(path);
		usleep(100); /* spread over the ticks that read them */
	}
	return NULL;
}

static void ten_thousand_cgroups(void **state)
{
	struct cgrig g;
	char path[1400];
	rig_init(&g.r);
	cgroup_options_default(&g.opt);
	snprintf(g.cg, sizeof(g.cg), "%s/fs/cgroup", g.r.sys);
	rig_mkdirs(g.r.sys, "fs/cgroup");
	cg_put(&g, "cgroup.controllers", "cpu io memory pids\n");
	cpu_stat(&g, "", 100000);
	for (int s = 0; s < 100; s++)
		for (int c = 0; c < 100; c++) {
			snprintf(path, sizeof(path), "s%d.slice/c%d.scope/cgroup.events", s, c);
			cg_put(&g, path, "populated 1\nfrozen 0\n");
			snprintf(path, sizeof(path), "s%d.slice/c%d.scope", s, c);
			cpu_stat(&g, path, 10);
			if (c == 0) {
				snprintf(path, sizeof(path), "s%d.slice", s);
				cpu_stat(&g, path, 1000);
			}
		}
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	assert_int_equal(q(&g.r, "SELECT cgroups_count FROM cgroup_scan"), 10101);
	assert_int_equal(q(&g.r, "SELECT count(*) FROM cgroup"), 10101);
	assert_int_equal(q(&g.r, "SELECT error_count + untracked_count FROM cgroup_scan"), 0);

	/* 1,000 go while the collector lists and reads them */
	struct remover rm = {g.cg, 1000};
	pthread_t th;
	for (int i = 0; i < 3; i++) {
		/* every slice runs and its scopes do not: all 10,000 are read (a
		 * parent's usage is its own and its children's) */
		cpu_stat(&g, "", 100000 + (uint64_t)(i + 1) * 100000);
		for (int s = 0; s < 100; s++) {
			snprintf(path, sizeof(path), "s%d.slice", s);
			cpu_stat(&g, path, 1000 + (uint64_t)(i + 1) * 1000);
		}
		if (i == 0)
			assert_int_equal(pthread_create(&th, NULL, remove_cgroups, &rm), 0);
		rig_tick(&g.r);
	}
	pthread_join(th, NULL);
	rig_tick(&g.r);
	assert_int_equal(q(&g.r, "SELECT count(*) FROM cgroup WHERE gone_ts IS NOT NULL"), 1000);
	assert_int_equal(q(&g.r, "SELECT cgroups_count FROM cgroup_scan ORDER BY ts DESC"), 9101);
	assert_int_equal(q(&g.r, "SELECT sum(gone_count) FROM cgroup_scan"), 1000);
	print_message("10,000 cgroups: %lld vanished between listing and reading, %lld gone\n",
		      (long long)q(&g.r, "SELECT sum(vanished_count) FROM cgroup_scan"),
		      (long long)q(&g.r, "SELECT sum(gone_count) FROM cgroup_scan"));
	rig_close(&g.r);

	/* more than max_cgroups: the rest are counted, not tracked */
	g.opt.max_cgroups = 5000;
	rig_open(&g.r, &collector_cgroup, &g.opt);
	rig_tick(&g.r);
	assert_int_equal(q(&g.r, "SELECT cgroups_count FROM cgroup_scan ORDER BY ts DESC"), 5000);
	assert_int_equal(q(&g.r, "SELECT untracked_count FROM cgroup_scan ORDER BY ts DESC"),
			 9101 - 5000);
	rig_free(&g.r);
}

/* ---- retention of the dimension rows ---- */

static void gone_cgroups_are_pruned(void **state)
{
	struct rig r;
	struct err e;
	struct tiers t;
	struct retention_limits l;
	int more;
	rig_init(&r);
	assert_int_equal(
	    store_exec(
		&r.st,
		"INSERT INTO cgroup(id, inode, path, kind, name, first_seen_ts, gone_ts) "
		"VALUES (1, 10, '/a', 'cgroup', 'a', 100, 3000), "
		"(2, 11, '/b', 'cgroup', 'b', 100, 9000), "
		"(3, 12, '/c', 'cgroup', 'c', 100, NULL);"
		"INSERT INTO cgroup_limit(ts, cgroup_id, pids_max_count) VALUES "
		"(200, 1, 5), (200, 2, 6), (200, 3, 7);"
		"UPDATE prune_state SET pruned_ts = 3600 WHERE scope IN ('raw', '1m', '1h');",
		&e),
	    0);
	assert_int_equal(tiers_open(&t, &r.st, &e), 0);
	retention_limits_default(&l);
	l.max_db_bytes = 0;
	tiers_age_clock(&t, 0, 1); /* no pruning by age: only the boundaries set above */
	assert_int_equal(tiers_run(&t, &l, 4000, 1000000, &more, &e), 0);
	tiers_close(&t);
	assert_string_equal(qtext(r.st.db, "SELECT group_concat(id) FROM (SELECT id FROM cgroup "
					   "ORDER BY id)"),
			    "2,3");
	assert_string_equal(qtext(r.st.db, "SELECT group_concat(cgroup_id) FROM (SELECT "
					   "cgroup_id FROM cgroup_limit ORDER BY 1)"),
			    "2,3");
	assert_int_equal(q(&r, "SELECT removed_count FROM prune_state WHERE scope = 'cgroup'"), 1);
	rig_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keyed_files),
	    cmocka_unit_test(value_files),
	    cmocka_unit_test(io_files),
	    cmocka_unit_test(proc_cgroup_lines),
	    cmocka_unit_test(json_strings),
	    cmocka_unit_test(parsers_survive_cuts_and_garbage),
	    cmocka_unit_test(names_from_paths),
	    cmocka_unit_test(runtime_files),
	    cmocka_unit_test(systemd_host_rows),
	    cmocka_unit_test(pressure_once_a_refresh),
	    cmocka_unit_test(empty_cgroup_final_row_then_silence),
	    cmocka_unit_test(new_and_removed_cgroups),
	    cmocka_unit_test(remade_cgroup_is_a_new_one),
	    cmocka_unit_test(restart_and_rollback_keep_rows),
	    cmocka_unit_test(v1_host),
	    cmocka_unit_test(containers_and_pods_named),
	    cmocka_unit_test(malformed_files_are_counted),
	    cmocka_unit_test(process_cgroup_ids),
	    cmocka_unit_test(ten_thousand_cgroups),
	    cmocka_unit_test(gone_cgroups_are_pruned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
