/* top's section on services and containers: which used the CPU in the
 * window, and which had a task OOM-killed. Every cgroup figure includes the
 * cgroups below it, so only workloads are ranked (cgroup_cpu.is_workload:
 * services, scopes, containers, pods, plain cgroups with none below), never
 * the root and the slices that add them up. OOM kills are a counter, exact
 * over any window; a container killed while using no CPU in the window is
 * in the OOM kills section instead. Parameters as top's other sections:
 * :lo/:hi the window, :window_ms the time its ticks covered, :n rows. */
#include "query/query.h"

const char top_services_sql[] =
    "WITH cpu AS (SELECT cgroup, kind, sum(usage_ms) AS ms, max(cpu_pct) AS peak, "
    "sum(throttled_ms) AS throttled FROM cgroup_cpu "
    "WHERE ts BETWEEN :lo AND :hi AND is_workload GROUP BY cgroup, kind), "
    "oom AS (SELECT cgroup, kind, sum(oom_kill_count) AS kills FROM cgroup_memory "
    "WHERE ts BETWEEN :lo AND :hi AND oom_kill_count > 0 GROUP BY cgroup, kind) "
    "SELECT cgroup AS name, kind, round(100.0 * ms / :window_ms, 1) AS cpu_pct, "
    "peak AS peak_cpu_pct, CAST(round(coalesce(throttled, 0)) AS INTEGER) AS throttled_ms, "
    "coalesce(kills, 0) AS oom_kills "
    "FROM cpu LEFT JOIN oom USING (cgroup, kind) ORDER BY ms DESC LIMIT :n";
