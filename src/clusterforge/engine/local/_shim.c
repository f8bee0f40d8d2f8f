/*
 * clusterforge's per-step supervisor (the "shim"), like containerd's shim or
 * conmon: a tiny program that starts one step, waits for it and records its
 * exit status durably, so the step outlives the engine that launched it.
 *
 *     _shim STATE_FD EXECUTABLE ARGV0 ARGS...
 *
 * STATE_FD is an open descriptor of the attempt's directory.  The shim works
 * relative to it (openat/renameat) because it may already run inside the
 * step's mount namespace, where /tmp -- and a scratch root below it -- is not
 * the host's.  It writes two files there, each whole or not at all (written
 * to a temporary name, fsync'd, renamed, the directory fsync'd):
 *
 *   shim   "PID STARTTIME\n" before the step starts: a restarted engine tells
 *          the live shim from a process that reused its pid by the start time
 *          (field 22 of /proc/PID/stat).  Created by link(), so only if it does
 *          not exist: a restarted engine that found no shim here creates it
 *          first (a fence), and a shim still on its way -- its engine died
 *          mid-launch -- then exits without starting the step;
 *   exit   "CODE\n" when the step ended: its exit code, or -SIGNAL when a
 *          signal killed it; "start-error ERRNO\n" when it could not be
 *          executed at all.
 *
 * The launcher (_spawn.c or setsid) made the shim the leader of a new
 * session, and the step stays in its process group: signalling the group
 * (stop, terminate, a timeout) reaches the step and whatever it started.  The
 * shim itself ignores the polite signals so it survives to record the step's
 * answer to them; SIGKILL ends both, and then the engine that sent it reads
 * the shim's own status instead.  The shim exits with the step's code (128 +
 * SIGNAL for a signal, as a shell reports it), so an engine that is still the
 * shim's parent sees the same status either way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const int polite[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
#define NPOLITE (sizeof polite / sizeof polite[0])

/* Write `text` to `name` in `dir` atomically (and durably: fsync'd, with the
   directory, when `durable`); 0 or -1. */
static int record(int dir, const char *name, const char *text, int durable)
{
    char temp[64];
    snprintf(temp, sizeof temp, "%s.tmp", name);
    int fd = openat(dir, temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len && (!durable || fsync(fd) == 0);
    close(fd);
    if (!ok || renameat(dir, temp, dir, name) < 0)
        return -1;
    return durable ? fsync(dir) : 0;
}

/* Create `name` in `dir` holding `text`, only if it does not exist yet
   (link() is atomic: EEXIST when someone else created it first). */
static int publish(int dir, const char *name, const char *text)
{
    char temp[64];
    snprintf(temp, sizeof temp, "%s.%ld", name, (long)getpid());
    int fd = openat(dir, temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    int rc = ok ? linkat(dir, temp, dir, name, 0) : -1;
    int err = errno;
    unlinkat(dir, temp, 0);
    errno = err;
    return rc;
}

/* Field 22 of /proc/self/stat: when this process started, in clock ticks. */
static unsigned long long start_time(void)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (p == NULL)
        return 0;
    for (int field = 2; field < 22 && p != NULL; field++)
        p = strchr(p + 1, ' ');
    return p == NULL ? 0 : strtoull(p + 1, NULL, 10);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s STATE_FD EXECUTABLE ARGV0 [ARGS...]\n", argv[0]);
        return 125;
    }
    int dir = atoi(argv[1]);
    /* The step must not inherit the attempt directory. */
    if (fcntl(dir, F_SETFD, FD_CLOEXEC) < 0) {
        perror("clusterforge shim: state directory");
        return 125;
    }
    struct sigaction ignore = {.sa_handler = SIG_IGN}, saved[NPOLITE];
    for (size_t i = 0; i < NPOLITE; i++)
        sigaction(polite[i], &ignore, &saved[i]);

    char text[64];
    snprintf(text, sizeof text, "%ld %llu\n", (long)getpid(), start_time());
    /* Not fsync'd: after a machine crash no shim is left to identify. */
    if (publish(dir, "shim", text) < 0) {
        if (errno == EEXIST) /* fenced: a restarted engine started this attempt anew */
            return 125;
        perror("clusterforge shim: cannot record its identity");
        return 125;
    }
    /* vfork: the shim waits (suspended) until the step has exec'd, and a
       failed exec is reported through the memory the child shares with it. */
    static volatile int exec_errno;
    pid_t step = vfork();
    if (step < 0) {
        perror("clusterforge shim: cannot start the step");
        return 125;
    }
    if (step == 0) {
        for (size_t i = 0; i < NPOLITE; i++)
            sigaction(polite[i], &saved[i], NULL);
        execv(argv[2], argv + 3);
        exec_errno = errno;
        _exit(127);
    }
    int status;
    while (waitpid(step, &status, 0) < 0) {
        if (errno != EINTR)
            return 125;
    }
    if (exec_errno != 0) {
        fprintf(stderr, "clusterforge: cannot execute %s: %s\n", argv[2], strerror(exec_errno));
        snprintf(text, sizeof text, "start-error %d\n", exec_errno);
        record(dir, "exit", text, 1);
        return 127;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    snprintf(text, sizeof text, "%d\n", code);
    record(dir, "exit", text, 1);
    return code >= 0 ? code : 128 - code;
}
