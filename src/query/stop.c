/* Ending early: Ctrl-C, a reader that closed the pipe (hindsight ... | head),
 * SIGTERM or SIGHUP. The handler only notes the signal; a running statement
 * stops at its next progress callback (qdb.c), the command ends as on an
 * error but without a message, and main, once the database's files are
 * tidied (dbguard.c), ends by the same signal, as the default action would
 * have, without leaving a -wal and -shm behind. A second signal ends it at
 * once. */
#include <signal.h>
#include <string.h>

#include "query/query.h"

static volatile sig_atomic_t caught;

/* A second signal ends the process at once, should anything block it.
 * Every write to a closed pipe raises SIGPIPE again: that one only notes. */
static void note(int sig)
{
	if (caught && sig != SIGPIPE) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	caught = sig;
}

void stop_signals_catch(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = note;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a write blocked on a full pipe returns, and the
	 * output's error ends the command. SQLite retries its own reads and
	 * writes on EINTR. */
	for (size_t i = 0; i < ARRAY_LEN(sigs); i++) {
		struct sigaction old;
		/* One the caller chose to ignore stays ignored. */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

int stop_signal(void)
{
	return caught;
}

void stop_by_signal(void)
{
	int sig = caught;
	if (!sig)
		return;
	signal(sig, SIG_DFL);
	raise(sig);
}
