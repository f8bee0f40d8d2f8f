/*
 * Start one workflow step: a single vfork + exec, optionally inside a fresh
 * mount namespace made of bind mounts the caller lists in order -- the
 * per-attempt directory over /tmp, the paths under the host's /tmp the step
 * must still reach (put back inside that directory first), and volumes.
 *
 * Why C: the portable way (`unshare --mount` + `sh -c 'mount --bind ...'`)
 * costs three extra program executions per step, and Python's own
 * subprocess cannot run code between fork and exec without a Python-level
 * preexec_fn (slow, and unsafe with threads).  Here the child does the few
 * system calls a step needs -- setsid, attach its log files, chdir, unshare,
 * a few mounts -- and execs the step directly, like posix_spawn would.
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
    STAGE_MOUNT,
    STAGE_READONLY,
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
    "cannot bind-mount",
    "cannot make read-only",
    "cannot execute",
};

struct request {
    const char *executable;
    char *const *argv;
    char *const *envp;
    const char *cwd;
    int stdout_fd;
    int stderr_fd;
    int state_fd; /* -1, or made fd 3 of the new program (see _shim.c) */
    int namespace;              /* 0: no mount namespace, the host's mounts */
    Py_ssize_t n_mounts;        /* bind mounts, made in order */
    char **mount_source;
    char **mount_target;
    const int *mount_readonly;
    sigset_t caller_mask;
    volatile int failed_errno;
    volatile int failed_stage;
    volatile Py_ssize_t failed_mount;
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
    if (req->namespace) {
        if (unshare(CLONE_NEWNS) < 0)
            fail(req, STAGE_UNSHARE);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            fail(req, STAGE_PROPAGATION);
        /* Recursive binds: what was put inside a directory before it is
           mounted (a kept path inside the private /tmp) comes along. */
        for (Py_ssize_t i = 0; i < req->n_mounts; i++) {
            req->failed_mount = i;
            const char *target = req->mount_target[i];
            if (mount(req->mount_source[i], target, NULL, MS_BIND | MS_REC, NULL) < 0)
                fail(req, STAGE_MOUNT);
            if (req->mount_readonly[i] &&
                mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                fail(req, STAGE_READONLY);
        }
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
"spawn(executable, argv, envp, cwd, stdout_fd, stderr_fd, mounts, state_fd=-1)\n"
"  -> pid\n\n"
"Start a step in its own session with stdin from /dev/null and stdout/stderr\n"
"on the given file descriptors (which must be >= 3).  When mounts is not\n"
"None the step runs in a new mount namespace in which each (source, target,\n"
"readonly) of mounts is bind-mounted (recursively) in order.  All paths and\n"
"strings are bytes.  A state_fd >= 3 becomes the program's fd 3 (the attempt\n"
"directory a supervising shim records in; see _shim.c).  Raises OSError\n"
"naming what failed (the mount, the program); the caller reaps the pid.");

/* The three fields of each (source, target, readonly) in `mounts` (a tuple),
   pointing into the tuple's bytes objects. */
static int c_mounts(PyObject *mounts, struct request *req)
{
    Py_ssize_t n = PyTuple_GET_SIZE(mounts);
    req->n_mounts = n;
    req->mount_source = PyMem_Calloc((size_t)n + 1, sizeof(char *));
    req->mount_target = PyMem_Calloc((size_t)n + 1, sizeof(char *));
    int *readonly = PyMem_Calloc((size_t)n + 1, sizeof(int));
    req->mount_readonly = readonly;
    if (req->mount_source == NULL || req->mount_target == NULL || readonly == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(mounts, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3 ||
            !PyBytes_Check(PyTuple_GET_ITEM(item, 0)) ||
            !PyBytes_Check(PyTuple_GET_ITEM(item, 1))) {
            PyErr_SetString(PyExc_TypeError,
                            "mounts items must be (source: bytes, target: bytes, readonly)");
            return -1;
        }
        req->mount_source[i] = PyBytes_AS_STRING(PyTuple_GET_ITEM(item, 0));
        req->mount_target[i] = PyBytes_AS_STRING(PyTuple_GET_ITEM(item, 1));
        int flag = PyObject_IsTrue(PyTuple_GET_ITEM(item, 2));
        if (flag < 0)
            return -1;
        readonly[i] = flag;
    }
    return 0;
}

/* The OSError for a failed start: the stage, what it acted on, the reason. */
static void set_start_error(const struct request *req)
{
    int err = req->failed_errno;
    PyObject *message;
    Py_ssize_t i = req->failed_mount;
    if (req->failed_stage == STAGE_MOUNT)
        message = PyUnicode_FromFormat("%s %s at %s: %s", stage_text[req->failed_stage],
                                       req->mount_source[i], req->mount_target[i],
                                       strerror(err));
    else if (req->failed_stage == STAGE_READONLY)
        message = PyUnicode_FromFormat("cannot make %s read-only: %s", req->mount_target[i],
                                       strerror(err));
    else if (req->failed_stage == STAGE_EXEC)
        message = PyUnicode_FromFormat("%s %s: %s", stage_text[req->failed_stage],
                                       req->executable, strerror(err));
    else
        message = PyUnicode_FromFormat("%s: %s", stage_text[req->failed_stage], strerror(err));
    if (message == NULL)
        return;
    PyObject *exc = PyObject_CallFunction(PyExc_OSError, "iO", err, message);
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    Py_DECREF(message);
}

static PyObject *spawn(PyObject *self, PyObject *args)
{
    const char *executable, *cwd;
    int stdout_fd, stderr_fd, state_fd = -1;
    PyObject *argv_in, *envp_in, *mounts_in;
    if (!PyArg_ParseTuple(args, "yOOyiiO|i", &executable, &argv_in, &envp_in, &cwd,
                          &stdout_fd, &stderr_fd, &mounts_in, &state_fd))
        return NULL;
    if (stdout_fd < 3 || stderr_fd < 3 || (state_fd != -1 && state_fd < 3)) {
        PyErr_SetString(PyExc_ValueError, "stdout_fd, stderr_fd and state_fd must be >= 3");
        return NULL;
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
    PyObject *mounts_tuple = mounts_in == Py_None ? PyTuple_New(0) : PySequence_Tuple(mounts_in);
    if (mounts_tuple == NULL) {
        Py_DECREF(argv_tuple);
        Py_DECREF(envp_tuple);
        return NULL;
    }
    PyObject *result = NULL;
    char **argv = NULL, **envp = NULL;
    struct request req = {
        .executable = executable,
        .cwd = cwd,
        .stdout_fd = stdout_fd,
        .stderr_fd = stderr_fd,
        .state_fd = state_fd,
        .namespace = mounts_in != Py_None,
        .failed_errno = 0,
        .failed_stage = STAGE_NONE,
        .failed_mount = 0,
    };
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
    if (c_mounts(mounts_tuple, &req) < 0)
        goto done;
    req.argv = argv;
    req.envp = envp;

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
        set_start_error(&req);
        goto done;
    }
    result = PyLong_FromLong((long)pid);

done:
    PyMem_Free(argv);
    PyMem_Free(envp);
    PyMem_Free(req.mount_source);
    PyMem_Free(req.mount_target);
    PyMem_Free((void *)req.mount_readonly);
    Py_DECREF(argv_tuple);
    Py_DECREF(envp_tuple);
    Py_DECREF(mounts_tuple);
    return result;
}

static PyMethodDef methods[] = {
    {"spawn", spawn, METH_VARARGS, spawn_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "clusterforge.engine.local._spawn",
    .m_doc = "Start a step with one vfork + exec, optionally in its own mount namespace.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__spawn(void)
{
    return PyModule_Create(&module);
}
