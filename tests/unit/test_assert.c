/* ASSERT stops the program with the condition and file:line in every build
 * type, NDEBUG (CMake's Release and RelWithDebInfo) included. */
#include "testutil.h"

#include <signal.h>
#include <sys/wait.h>

static void assert_stops_with_its_condition(void **state)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		signal(SIGABRT, SIG_DFL);
		int two = 2;
		ASSERT(two == 3);
		_exit(0);
	}
	close(fds[1]);
	char out[512] = "";
	ssize_t n = read(fds[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	if (!strstr(out, "two == 3") || !strstr(out, "test_assert.c:"))
		fail_msg("message: %s", out);
	ASSERT(n > 0); /* a true condition goes on */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(assert_stops_with_its_condition),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
