/* What a cgroup is: its systemd unit, container or pod, from its path, and
 * the container's name and image from the runtime's files on disk. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collect/cgroup.h"
#include "util/json.h"

const char *cg_kind_name(enum cg_kind k)
{
	static const char *const names[] = {"root", "slice",	 "service", "scope",
					    "unit", "container", "pod",	    "cgroup"};
	return (size_t)k < ARRAY_LEN(names) ? names[k] : "cgroup";
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static int starts_with(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(s, prefix, k) == 0;
}

/* A container id: 64 lower-case hex digits. */
static int is_hex_id(const char *s, size_t n)
{
	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A pod uid as Kubernetes writes it in cgroup names: 8-4-4-4-12 hex digits,
 * separated by '-' (cgroupfs) or '_' (systemd, where '-' is the slice
 * separator). Copied with dashes. */
static int pod_uid(const char *s, size_t n, char *out, size_t outn)
{
	if (n != 36 || outn <= 36)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int sep = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];
		if (sep ? c != '-' && c != '_'
			: !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
		out[i] = sep ? '-' : c;
	}
	out[36] = '\0';
	return 1;
}

static void copy(char *dst, size_t n, const char *s, size_t len)
{
	if (len >= n)
		len = n - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* A container scope: <prefix><64 hex>.scope (systemd driver) or
 * <prefix><64 hex> (cgroupfs driver, where the prefix may be empty). */
static int container_part(const char *c, size_t n, struct cg_label *l, const char *parent)
{
	static const struct {
		const char *prefix, *runtime;
	} kinds[] = {{"docker-", "docker"}, {"cri-containerd-", "containerd"}, {"crio-", "cri-o"},
		     {"libpod-", "podman"}, {"nerdctl-", "containerd"},	       {"", ""}};
	size_t body = ends_with(c, n, ".scope") ? n - 6 : n;
	for (size_t i = 0; i < ARRAY_LEN(kinds); i++) {
		size_t k = strlen(kinds[i].prefix);
		if (!starts_with(c, body, kinds[i].prefix) || !is_hex_id(c + k, body - k))
			continue;
		copy(l->container_id, sizeof(l->container_id), c + k, body - k);
		/* cgroupfs: /docker/<id>, /kubepods/.../<id> (CRI: containerd,
		 * CRI-O or dockershim, told apart by their files on disk) */
		const char *rt = kinds[i].runtime;
		if (!*rt && parent && strcmp(parent, "docker") == 0)
			rt = "docker";
		snprintf(l->runtime, sizeof(l->runtime), "%s", rt);
		l->kind = CG_KIND_CONTAINER;
		if (body != n)
			copy(l->unit, sizeof(l->unit), c, n);
		return 1;
	}
	return 0;
}

/* kubepods[-<qos>][-pod<uid>].slice (systemd driver). */
static int kubepods_slice(const char *c, size_t n, struct cg_label *l)
{
	if (!ends_with(c, n, ".slice") || !starts_with(c, n, "kubepods"))
		return 0;
	const char *p = c + 8, *end = c + n - 6;
	static const char *const qos[] = {"burstable", "besteffort"};
	for (size_t i = 0; i < ARRAY_LEN(qos); i++) {
		size_t k = strlen(qos[i]);
		if (end - p > (long)k && p[0] == '-' && strncmp(p + 1, qos[i], k) == 0 &&
		    (p + 1 + k == end || p[1 + k] == '-')) {
			snprintf(l->qos, sizeof(l->qos), "%s", qos[i]);
			p += 1 + k;
		}
	}
	if (end - p > 4 && strncmp(p, "-pod", 4) == 0 &&
	    pod_uid(p + 4, (size_t)(end - p - 4), l->pod_uid, sizeof(l->pod_uid))) {
		if (!l->qos[0])
			snprintf(l->qos, sizeof(l->qos), "guaranteed");
		l->kind = CG_KIND_POD;
	} else {
		l->kind = CG_KIND_SLICE;
	}
	copy(l->unit, sizeof(l->unit), c, n);
	return 1;
}

/* /kubepods[/<qos>]/pod<uid> (cgroupfs driver). */
static int kubepods_dir(const char *c, size_t n, struct cg_label *l, int in_kubepods)
{
	if (!in_kubepods)
		return 0;
	if ((n == 9 && !memcmp(c, "burstable", 9)) || (n == 10 && !memcmp(c, "besteffort", 10))) {
		copy(l->qos, sizeof(l->qos), c, n);
		return 0; /* a plain directory that sets the class */
	}
	if (starts_with(c, n, "pod") && pod_uid(c + 3, n - 3, l->pod_uid, sizeof(l->pod_uid))) {
		if (!l->qos[0])
			snprintf(l->qos, sizeof(l->qos), "guaranteed");
		l->kind = CG_KIND_POD;
		return 1;
	}
	return 0;
}

/* A systemd unit by its suffix. */
static int unit_part(const char *c, size_t n, struct cg_label *l)
{
	static const struct {
		const char *suffix;
		enum cg_kind kind;
	} units[] = {{".slice", CG_KIND_SLICE}, {".service", CG_KIND_SERVICE},
		     {".scope", CG_KIND_SCOPE}, {".socket", CG_KIND_UNIT},
		     {".mount", CG_KIND_UNIT},	{".swap", CG_KIND_UNIT}};
	for (size_t i = 0; i < ARRAY_LEN(units); i++)
		if (ends_with(c, n, units[i].suffix) && n > strlen(units[i].suffix)) {
			l->kind = units[i].kind;
			copy(l->unit, sizeof(l->unit), c, n);
			return 1;
		}
	return 0;
}

/* LXC: /lxc/<name>, /lxc.payload.<name> (and lxc.monitor.<name>). */
static int lxc_part(const char *c, size_t n, struct cg_label *l, const char *parent)
{
	const char *name = NULL;
	size_t len = 0;
	if (starts_with(c, n, "lxc.payload.") && n > 12) {
		name = c + 12;
		len = n - 12;
	} else if (parent && strcmp(parent, "lxc") == 0) {
		name = c;
		len = n;
	}
	if (!name)
		return 0;
	l->kind = CG_KIND_CONTAINER;
	snprintf(l->runtime, sizeof(l->runtime), "lxc");
	copy(l->container_id, sizeof(l->container_id), name, len);
	return 1;
}

/* The display name once the kind and ids are known. */
static void label_name(struct cg_label *l, const char *last, size_t n)
{
	switch (l->kind) {
	case CG_KIND_ROOT:
		snprintf(l->name, sizeof(l->name), "/");
		break;
	case CG_KIND_CONTAINER:
		snprintf(l->name, sizeof(l->name), "%s:%.12s",
			 l->runtime[0] ? l->runtime : "container", l->container_id);
		break;
	case CG_KIND_POD:
		snprintf(l->name, sizeof(l->name), "pod:%s", l->pod_uid);
		break;
	case CG_KIND_SLICE:
	case CG_KIND_SERVICE:
	case CG_KIND_SCOPE:
	case CG_KIND_UNIT:
		snprintf(l->name, sizeof(l->name), "%s", l->unit);
		break;
	case CG_KIND_CGROUP:
		copy(l->name, sizeof(l->name), last, n);
		break;
	}
}

void cgroup_label(const char *path, struct cg_label *l)
{
	memset(l, 0, sizeof(*l));
	l->kind = CG_KIND_ROOT;
	char parent[CG_TEXT_MAX] = "";
	int in_kubepods = 0, in_container = 0;
	const char *last = "/";
	size_t lastn = 1;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		if (!n)
			break;
		/* Inside a container, its own cgroups are plain directories that
		 * keep the container's ids (docker-in-docker aside). */
		l->kind = CG_KIND_CGROUP;
		if (!in_container && (container_part(p, n, l, parent) || lxc_part(p, n, l, parent)))
			in_container = 1;
		else if (!in_container &&
			 (kubepods_slice(p, n, l) || kubepods_dir(p, n, l, in_kubepods)))
			;
		else if (!in_container)
			unit_part(p, n, l);
		if ((n == 8 && !memcmp(p, "kubepods", 8)) || starts_with(p, n, "kubepods."))
			in_kubepods = 1;
		copy(parent, sizeof(parent), p, n);
		last = p;
		lastn = n;
		p += n;
	}
	label_name(l, last, lastn);
}

/* ---- the runtimes' files ---- */

static void json_copy(const char *json, size_t len, const char *const *keys, size_t nkeys,
		      char *out, size_t n)
{
	if (!out[0])
		json_get_string(json, len, keys, nkeys, out, n);
}

void cg_meta_docker(const char *json, size_t len, struct cg_meta *m)
{
	static const char *const name[] = {"Name"}, *const image[] = {"Config", "Image"};
	json_copy(json, len, name, 1, m->container_name, sizeof(m->container_name));
	if (m->container_name[0] == '/')
		memmove(m->container_name, m->container_name + 1, strlen(m->container_name));
	json_copy(json, len, image, 2, m->image, sizeof(m->image));
}

void cg_meta_oci(const char *json, size_t len, struct cg_meta *m)
{
	static const char *const names[] = {"io.kubernetes.cri.container-name",
					    "io.kubernetes.container.name", "nerdctl/name"};
	static const char *const images[] = {"io.kubernetes.cri.image-name",
					     "io.kubernetes.cri-o.ImageName"};
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		const char *keys[] = {"annotations", names[i]};
		json_copy(json, len, keys, 2, m->container_name, sizeof(m->container_name));
	}
	for (size_t i = 0; i < ARRAY_LEN(images); i++) {
		const char *keys[] = {"annotations", images[i]};
		json_copy(json, len, keys, 2, m->image, sizeof(m->image));
	}
	static const char *const pods[][2] = {
	    {"io.kubernetes.cri.sandbox-namespace", "io.kubernetes.cri.sandbox-name"},
	    {"io.kubernetes.pod.namespace", "io.kubernetes.pod.name"}};
	for (size_t i = 0; i < ARRAY_LEN(pods) && !m->pod_name[0]; i++) {
		char ns[CG_TEXT_MAX / 2], pod[CG_TEXT_MAX / 2];
		const char *kns[] = {"annotations", pods[i][0]},
			   *kpod[] = {"annotations", pods[i][1]};
		if (json_get_string(json, len, kns, 2, ns, sizeof(ns)) == 0 &&
		    json_get_string(json, len, kpod, 2, pod, sizeof(pod)) == 0)
			snprintf(m->pod_name, sizeof(m->pod_name), "%s/%s", ns, pod);
	}
}

int cg_pod_log_dir(const char *entry, const char *uid, char *out, size_t n)
{
	size_t len = strlen(entry), ulen = strlen(uid);
	if (!ulen || len < ulen + 4 || strcmp(entry + len - ulen, uid) != 0 ||
	    entry[len - ulen - 1] != '_')
		return 0;
	const char *sep = strchr(entry, '_');
	if (!sep || sep == entry || sep >= entry + len - ulen - 2)
		return 0;
	snprintf(out, n, "%.*s/%.*s", (int)(sep - entry), entry,
		 (int)(entry + len - ulen - 1 - sep - 1), sep + 1);
	return 1;
}

/* Reads root/<path> whole into b; 0 when it is there. */
static int read_meta_file(int root_fd, const char *path, struct buf *b)
{
	return buf_read_file(b, root_fd, path, SOURCE_MAX_SMALL) == 0 && b->len > 0 ? 0 : -1;
}

/* containerd keeps each task's OCI bundle under its namespace (k8s.io,
 * moby, default, ...). */
static void meta_containerd(int root_fd, const char *id, struct buf *b, struct cg_meta *m)
{
	static const char tasks[] = "run/containerd/io.containerd.runtime.v2.task";
	int fd = openat(root_fd, tasks, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	while (!m->container_name[0] && (de = readdir(d))) {
		char path[PATH_MAX];
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s/config.json", tasks, de->d_name, id);
		if (read_meta_file(root_fd, path, b) == 0)
			cg_meta_oci(b->data, b->len, m);
	}
	closedir(d);
}

static void meta_pod(int root_fd, const char *uid, struct cg_meta *m)
{
	int fd = openat(root_fd, "var/log/pods", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	while (!m->pod_name[0] && (de = readdir(d)))
		cg_pod_log_dir(de->d_name, uid, m->pod_name, sizeof(m->pod_name));
	closedir(d);
}

void cg_meta_read(int root_fd, const struct cg_label *l, struct buf *b, struct cg_meta *m)
{
	memset(m, 0, sizeof(*m));
	if (root_fd < 0)
		return;
	if (l->kind == CG_KIND_POD) {
		meta_pod(root_fd, l->pod_uid, m);
		return;
	}
	if (l->kind != CG_KIND_CONTAINER || !is_hex_id(l->container_id, strlen(l->container_id)))
		return;
	const char *rt = l->runtime;
	char path[PATH_MAX];
	if (!*rt || !strcmp(rt, "docker")) {
		snprintf(path, sizeof(path), "var/lib/docker/containers/%s/config.v2.json",
			 l->container_id);
		if (read_meta_file(root_fd, path, b) == 0)
			cg_meta_docker(b->data, b->len, m);
	}
	if (!m->container_name[0] && (!*rt || !strcmp(rt, "containerd")))
		meta_containerd(root_fd, l->container_id, b, m);
	if (!m->container_name[0] && (!*rt || !strcmp(rt, "cri-o") || !strcmp(rt, "podman"))) {
		static const char *const stores[] = {"run/containers/storage",
						     "var/lib/containers/storage"};
		for (size_t i = 0; i < ARRAY_LEN(stores) && !m->container_name[0]; i++) {
			snprintf(path, sizeof(path),
				 "%s/overlay-containers/%s/userdata/config.json", stores[i],
				 l->container_id);
			if (read_meta_file(root_fd, path, b) == 0)
				cg_meta_oci(b->data, b->len, m);
		}
	}
	if (!m->pod_name[0] && l->pod_uid[0])
		meta_pod(root_fd, l->pod_uid, m);
}
