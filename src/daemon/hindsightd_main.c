/* hindsightd: command line, configuration, and the daemon's life. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/daemon.h"
#include "daemon/registry.h"

static const char usage_text[] =
    "Usage: hindsightd [OPTIONS]\n"
    "Samples this machine every interval into one SQLite database.\n"
    "\n"
    "  --db PATH           database file (default " DEFAULT_DB_PATH ")\n"
    "  --interval DUR      sampling interval, whole seconds: 10, 10s, 1m (default 10s)\n"
    "  --duration DUR      stop after this long (default: run until SIGTERM/SIGINT)\n"
    "  --once              take one sample after one interval, store it, exit\n"
    "  --config FILE       YAML configuration (default: $HINDSIGHT_CONFIG if set)\n"
    "  --proc-root DIR     where /proc is mounted (also $HOST_PROC)\n"
    "  --sys-root DIR      where /sys is mounted (also $HOST_SYS)\n"
    "  --log-level LEVEL   error, warn, info or debug (default info)\n"
    "  --no-bpf            do not load the eBPF collectors (/proc sampling only)\n"
    "  --list-collectors[=FORMAT]\n"
    "                      print the collectors in sample order, what each reads and\n"
    "                      the tables and views it provides, then exit; FORMAT is\n"
    "                      text (default), names (one per line) or markdown\n"
    "  -h, --help          this text\n"
    "  --version           print the version\n"
    "\n"
    "Signals: SIGTERM/SIGINT finish the current tick and exit 0; SIGHUP reloads the\n"
    "configuration file (a bad file is reported and the running one kept).\n";

/* What the command line set, re-applied over the file on every reload. */
struct cli {
	const char *config;
	const char *db, *interval, *duration, *proc_root, *sys_root, *log_level;
	int once;
	int no_bpf;
};

static int apply_flags(struct config *c, const struct cli *cli, struct err *e)
{
	if (cli->db)
		snprintf(c->db, sizeof(c->db), "%s", cli->db);
	if (cli->proc_root)
		snprintf(c->proc_root, sizeof(c->proc_root), "%s", cli->proc_root);
	if (cli->sys_root)
		snprintf(c->sys_root, sizeof(c->sys_root), "%s", cli->sys_root);
	if (cli->no_bpf)
		c->bpf.enabled = 0;
	struct err inner;
	if (cli->interval && parse_duration_ms(cli->interval, &c->interval_ms, &inner))
		return err_set(e, "--interval: %s", inner.msg);
	if (cli->duration && parse_duration_ms(cli->duration, &c->duration_ms, &inner))
		return err_set(e, "--duration: %s", inner.msg);
	if (cli->log_level && log_parse_level(cli->log_level, &c->log_level))
		return err_set(e, "--log-level: expected error, warn, info or debug, got '%s'",
			       cli->log_level);
	return 0;
}

/* An empty path is SQLite's temporary database: the daemon would sample
 * into memory and lose it all at exit, so it is a bad flag or setting. */
static int check_db_given(const struct config *c, const struct cli *cli, struct err *e)
{
	if (c->db[0])
		return 0;
	if (cli->db)
		return err_set(e, "--db: the database path is empty");
	return err_set(e, "%s: db: the database path is empty",
		       cli->config ? cli->config : "configuration");
}

static int build_config(struct config *c, void *arg, struct err *e)
{
	const struct cli *cli = arg;
	config_defaults(c);
	if (cli->config && config_load_file(c, cli->config, e))
		return -1;
	config_apply_env(c);
	return apply_flags(c, cli, e) || config_validate(c, e) || check_db_given(c, cli, e) ? -1
											    : 0;
}

/* --list-collectors: prints the registry and exits. */
static _Noreturn void list_collectors(const char *format)
{
	enum registry_format f = REGISTRY_TEXT;
	if (format && registry_format_by_name(format, &f)) {
		fprintf(stderr,
			"hindsightd: --list-collectors: expected text, names or markdown, got "
			"'%s'\n",
			format);
		exit(2);
	}
	registry_print(stdout, f);
	exit(fflush(stdout) ? 1 : 0);
}

static int parse_args(int argc, char **argv, struct cli *cli)
{
	enum {
		O_DB = 256,
		O_INTERVAL,
		O_DURATION,
		O_ONCE,
		O_CONFIG,
		O_PROC,
		O_SYS,
		O_LOG,
		O_VER,
		O_NO_BPF,
		O_LIST
	};
	static const struct option opts[] = {
	    {"db", required_argument, 0, O_DB},
	    {"interval", required_argument, 0, O_INTERVAL},
	    {"duration", required_argument, 0, O_DURATION},
	    {"once", no_argument, 0, O_ONCE},
	    {"config", required_argument, 0, O_CONFIG},
	    {"proc-root", required_argument, 0, O_PROC},
	    {"sys-root", required_argument, 0, O_SYS},
	    {"log-level", required_argument, 0, O_LOG},
	    {"no-bpf", no_argument, 0, O_NO_BPF},
	    {"list-collectors", optional_argument, 0, O_LIST},
	    {"help", no_argument, 0, 'h'},
	    {"version", no_argument, 0, O_VER},
	    {0, 0, 0, 0},
	};
	memset(cli, 0, sizeof(*cli));
	cli->config = getenv("HINDSIGHT_CONFIG");
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_DB:
			cli->db = optarg;
			break;
		case O_INTERVAL:
			cli->interval = optarg;
			break;
		case O_DURATION:
			cli->duration = optarg;
			break;
		case O_ONCE:
			cli->once = 1;
			break;
		case O_CONFIG:
			cli->config = optarg;
			break;
		case O_PROC:
			cli->proc_root = optarg;
			break;
		case O_SYS:
			cli->sys_root = optarg;
			break;
		case O_LOG:
			cli->log_level = optarg;
			break;
		case O_NO_BPF:
			cli->no_bpf = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case O_VER:
			puts("hindsightd " HINDSIGHT_VERSION);
			exit(0);
		case O_LIST:
			list_collectors(optarg);
		default:
			fputs(usage_text, stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hindsightd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct config cfg;
	struct err e;
	if (parse_args(argc, argv, &cli))
		return 2;
	if (build_config(&cfg, &cli, &e)) {
		fprintf(stderr, "hindsightd: %s\n", e.msg);
		return 2;
	}
	log_set_level(cfg.log_level);
	umask(027); /* the database and its WAL: 0640 */
	struct daemon_options opt = {.once = cli.once, .reload = build_config, .reload_arg = &cli};
	struct daemon *d = NULL;
	if (daemon_open(&d, &cfg, &opt, &e)) {
		fprintf(stderr, "hindsightd: %s\n", e.msg);
		daemon_close(d);
		return 1;
	}
	int rc = daemon_run(d);
	daemon_close(d);
	return rc;
}
