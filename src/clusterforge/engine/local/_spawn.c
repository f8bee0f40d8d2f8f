/*
 * Start one workflow step: a single vfork + exec, optionally inside a fresh
 * mount namespace whose /tmp is a bind mount of a per-attempt directory.
 *
 * Why C: the portable way (`unshare --mount` + `sh -c 'mount --bind ...'`)
 * costs three extra program executions per step, and Python's own
 * subprocess cannot run code between fork and exec without a Python-level
 * preexec_fn (slow, and unsafe with threads).  Here the child does the few
 * system calls a step needs -- setsid, attach its log files, chdir, unshare,
 * two mounts -- and execs the step directly, like posix_spawn would.
 *
 * The child shares the parent's memory until it execs (vfork), so it only
 * calls async-signal-safe functions and reports a failure through the
 * shared `struct request` before exiting with 127.  All signals are blocked
 * around vfork so no handler of the Python process can run in the child;
 * the child resets caught and Python-ignored signals to their defaults and
 * restores the caller's mask just before exec.
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum stage {
    STAGE_NONE = 0,
    STAGE_SESSION,
    STAGE_STDIN,
    STAGE_STDOUT,
    STAGE_STDERR,
    STAGE_STATE,
    STAGE_CWD,
    STAGE_UNSHARE,
    STAGE_PROPAGATION,
    STAGE_MOUNT_TMP,
    STAGE_EXEC,
};

static const char *const stage_text[] = {
    "",
    "cannot start a new session",
    "cannot open /dev/null for stdin",
    "cannot attach the stdout log",
    "cannot attach the stderr log",
    "cannot pass the attempt directory to the step's supervisor",
    "cannot enter the working directory",
    "cannot create a mount namespace for a private /tmp",
    "cannot make the step's mounts private",
    "cannot mount a private /tmp",
    "cannot execute the command",
};

struct request {
    const char *executable;
    char *const *argv;
    char *const *envp;
    const char *cwd;
    int stdout_fd;
    int stderr_fd;
    int state_fd; /* -1, or made fd 3 of the new program (see _shim.c) */
    const char *private_tmp; /* NULL: no mount namespace */
    sigset_t caller_mask;
    volatile int failed_errno;
    volatile int failed_stage;
};

static void __attribute__((noreturn)) fail(struct request *req, enum stage stage)
{
    req->failed_errno = errno;
    req->failed_stage = stage;
    _exit(127);
}

/* Make `fd` file descriptor `target`, inheritable by exec. */
static int install(int fd, int target)
{
    if (fd == target)
        return fcntl(fd, F_SETFD, 0);
    return dup2(fd, target) < 0 ? -1 : 0;
}

static void __attribute__((noreturn)) child(struct request *req)
{
    struct sigaction action;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (sigaction(sig, NULL, &action) != 0)
            continue;
        if (action.sa_handler == SIG_DFL)
            continue;
        /* Python ignores SIGPIPE and SIGXFSZ for itself; steps get defaults.
           Other ignored signals stay ignored, as with subprocess. */
        if (action.sa_handler == SIG_IGN && sig != SIGPIPE && sig != SIGXFSZ)
            continue;
        memset(&action, 0, sizeof action);
        action.sa_handler = SIG_DFL;
        sigaction(sig, &action, NULL);
    }
    if (setsid() < 0)
        fail(req, STAGE_SESSION);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || install(null, 0) < 0)
        fail(req, STAGE_STDIN);
    if (install(req->stdout_fd, 1) < 0)
        fail(req, STAGE_STDOUT);
    if (install(req->stderr_fd, 2) < 0)
        fail(req, STAGE_STDERR);
    if (req->state_fd >= 0 && install(req->state_fd, 3) < 0)
        fail(req, STAGE_STATE);
    /* Before the mount: a working directory under /tmp stays the host's. */
    if (chdir(req->cwd) < 0)
        fail(req, STAGE_CWD);
    if (req->private_tmp != NULL) {
        if (unshare(CLONE_NEWNS) < 0)
            fail(req, STAGE_UNSHARE);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            fail(req, STAGE_PROPAGATION);
        if (mount(req->private_tmp, "/tmp", NULL, MS_BIND, NULL) < 0)
            fail(req, STAGE_MOUNT_TMP);
    }
#ifdef SYS_close_range
    syscall(SYS_close_range, req->state_fd >= 0 ? 4U : 3U, ~0U, 0U); /* best effort: most fds are CLOEXEC */
#endif
    sigprocmask(SIG_SETMASK, &req->caller_mask, NULL);
    execve(req->executable, req->argv, req->envp);
    fail(req, STAGE_EXEC);
}

/* A NULL-terminated array of the bytes objects in `items` (a tuple). */
static char **c_strings(PyObject *items, const char *what)
{
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    char **out = PyMem_Calloc((size_t)n + 1, sizeof(char *));
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(items, i);
        if (!PyBytes_Check(item)) {
            PyErr_Format(PyExc_TypeError, "%s items must be bytes", what);
            PyMem_Free(out);
            return NULL;
        }
        out[i] = PyBytes_AS_STRING(item);
    }
    return out;
}

PyDoc_STRVAR(spawn_doc,
"spawn(executable, argv, envp, cwd, stdout_fd, stderr_fd, private_tmp, state_fd=-1)\n"
"  -> pid\n\n"
"Start a step in its own session with stdin from /dev/null and stdout/stderr\n"
"on the given file descriptors (which must be >= 3).  When private_tmp is not\n"
"None the step runs in a new mount namespace with that directory\n"
"bind-mounted over /tmp.  A state_fd >= 3 becomes the program's fd 3 (the\n"
"attempt directory a supervising shim records in; see _shim.c).\n"
"All paths and strings are bytes.  Raises OSError\n"
"naming what failed; the caller reaps the returned pid.");

static PyObject *spawn(PyObject *self, PyObject *args)
{
    const char *executable, *cwd, *private_tmp = NULL;
    int stdout_fd, stderr_fd, state_fd = -1;
    PyObject *argv_in, *envp_in, *tmp_in;
    if (!PyArg_ParseTuple(args, "yOOyiiO|i", &executable, &argv_in, &envp_in, &cwd,
                          &stdout_fd, &stderr_fd, &tmp_in, &state_fd))
        return NULL;
    if (stdout_fd < 3 || stderr_fd < 3 || (state_fd != -1 && state_fd < 3)) {
        PyErr_SetString(PyExc_ValueError, "stdout_fd, stderr_fd and state_fd must be >= 3");
        return NULL;
    }
    if (tmp_in != Py_None) {
        if (!PyBytes_Check(tmp_in)) {
            PyErr_SetString(PyExc_TypeError, "private_tmp must be bytes or None");
            return NULL;
        }
        private_tmp = PyBytes_AS_STRING(tmp_in);
    }
    /* Tuples: nothing another thread does to the caller's lists while the
       GIL is released can free a string the child is about to use. */
    PyObject *argv_tuple = PySequence_Tuple(argv_in);
    if (argv_tuple == NULL)
        return NULL;
    PyObject *envp_tuple = PySequence_Tuple(envp_in);
    if (envp_tuple == NULL) {
        Py_DECREF(argv_tuple);
        return NULL;
    }
    PyObject *result = NULL;
    char **argv = NULL, **envp = NULL;
    if (PyTuple_GET_SIZE(argv_tuple) == 0) {
        PyErr_SetString(PyExc_ValueError, "argv must not be empty");
        goto done;
    }
    argv = c_strings(argv_tuple, "argv");
    if (argv == NULL)
        goto done;
    envp = c_strings(envp_tuple, "envp");
    if (envp == NULL)
        goto done;

    struct request req = {
        .executable = executable,
        .argv = argv,
        .envp = envp,
        .cwd = cwd,
        .stdout_fd = stdout_fd,
        .stderr_fd = stderr_fd,
        .state_fd = state_fd,
        .private_tmp = private_tmp,
        .failed_errno = 0,
        .failed_stage = STAGE_NONE,
    };
    sigset_t all;
    pid_t pid;
    int vfork_errno = 0;
    sigfillset(&all);
    Py_BEGIN_ALLOW_THREADS
    pthread_sigmask(SIG_SETMASK, &all, &req.caller_mask);
    pid = vfork();
    if (pid == 0)
        child(&req);
    if (pid < 0)
        vfork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &req.caller_mask, NULL);
    Py_END_ALLOW_THREADS

    if (pid < 0) {
        errno = vfork_errno;
        PyErr_SetFromErrno(PyExc_OSError);
        goto done;
    }
    if (req.failed_stage != STAGE_NONE) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        int err = req.failed_errno;
        PyObject *message = PyUnicode_FromFormat(
            "%s: %s", stage_text[req.failed_stage], strerror(err));
        if (message != NULL) {
            PyObject *exc = PyObject_CallFunction(PyExc_OSError, "iO", err, message);
            if (exc != NULL) {
                PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
                Py_DECREF(exc);
            }
            Py_DECREF(message);
        }
        goto done;
    }
    result = PyLong_FromLong((long)pid);

done:
    PyMem_Free(argv);
    PyMem_Free(envp);
    Py_DECREF(argv_tuple);
    Py_DECREF(envp_tuple);
    return result;
}

static PyMethodDef methods[] = {
    {"spawn", spawn, METH_VARARGS, spawn_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "clusterforge.engine.local._spawn",
    .m_doc = "Start a step with one vfork + exec, optionally with a private /tmp.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__spawn(void)
{
    return PyModule_Create(&module);
}
