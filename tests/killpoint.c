/* killpoint: count the file-system writes a process makes under one folder,
 * and SIGKILL it at exactly the Nth of them.  For bench/kill_every_write.py
 * and tests/test_kill_points.py (tests/kill_points.py builds it with cc).
 *
 * Loaded with LD_PRELOAD, it wraps libc's mkdir, rename, link, unlink, open
 * (with O_CREAT: "create"), fsync and write calls.  Unlike strace's
 * `-e inject=...:when=N`, whose counters are per thread and per syscall (so
 * LanceDB's writes on its worker threads and Python's thousands of module
 * opens mix up the numbers), it keeps one counter for the whole process and
 * only counts calls on paths under DLK_ROOT (descriptors opened there).
 *
 * Steered by calling its functions (through ctypes) after it is loaded:
 *   dlk_arm(root, kinds, at, log)  count calls of `kinds` (a comma list of
 *       mkdir,rename,unlink,create,fsync,write) under `root`; SIGKILL on entry
 *       to the `at`-th (0: never). If `log` is set, every call under root (of
 *       any kind) appends "+|- kind ok|fail path" to it (+: a counted kind).
 *   dlk_count()                     how many were counted so far.
 * A call is killed before it runs, as a power cut just before it would be.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum { K_MKDIR = 1, K_RENAME = 2, K_UNLINK = 4, K_CREATE = 8, K_FSYNC = 16, K_WRITE = 32 };
#define MAX_FD 65536

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char root[PATH_MAX];
static size_t root_len;
static int kinds;
static long at, count;
static int log_fd = -1;
static unsigned char under[MAX_FD]; /* descriptors opened under root */

#define REAL(ret, name, ...)                                        \
    static ret (*real_##name)(__VA_ARGS__);                         \
    static void init_##name(void) {                                 \
        if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name);    \
    }

REAL(int, mkdir, const char *, mode_t)
REAL(int, mkdirat, int, const char *, mode_t)
REAL(int, rename, const char *, const char *)
REAL(int, renameat, int, const char *, int, const char *)
REAL(int, renameat2, int, const char *, int, const char *, unsigned int)
REAL(int, link, const char *, const char *)
REAL(int, linkat, int, const char *, int, const char *, int)
REAL(int, unlink, const char *)
REAL(int, unlinkat, int, const char *, int)
REAL(int, rmdir, const char *)
REAL(int, open, const char *, int, ...)
REAL(int, open64, const char *, int, ...)
REAL(int, openat, int, const char *, int, ...)
REAL(int, openat64, int, const char *, int, ...)
REAL(int, creat, const char *, mode_t)
REAL(int, creat64, const char *, mode_t)
REAL(int, close, int)
REAL(int, fsync, int)
REAL(int, fdatasync, int)
REAL(ssize_t, write, int, const void *, size_t)
REAL(ssize_t, pwrite, int, const void *, size_t, off_t)
REAL(ssize_t, pwrite64, int, const void *, size_t, off_t)
REAL(ssize_t, writev, int, const struct iovec *, int)
REAL(ssize_t, pwritev, int, const struct iovec *, int, off_t)
REAL(int, ftruncate, int, off_t)
REAL(int, ftruncate64, int, off_t)

static const char *kind_name(int kind) {
    switch (kind) {
    case K_MKDIR: return "mkdir";
    case K_RENAME: return "rename";
    case K_UNLINK: return "unlink";
    case K_CREATE: return "create";
    case K_FSYNC: return "fsync";
    default: return "write";
    }
}

/* Is dirfd/path under root? (Relative paths are resolved by their folder.) */
static int is_under(int dirfd, const char *path) {
    char buf[PATH_MAX * 2];
    if (!root_len || !path) return 0;
    if (path[0] != '/') {
        char link[64];
        ssize_t n;
        if (dirfd == AT_FDCWD) {
            if (!getcwd(buf, PATH_MAX)) return 0;
            n = (ssize_t)strlen(buf);
        } else {
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            n = readlink(link, buf, PATH_MAX - 1);
            if (n < 0) return 0;
        }
        snprintf(buf + n, sizeof buf - (size_t)n, "/%s", path);
        path = buf;
    }
    return strncmp(path, root, root_len) == 0 && (path[root_len] == '/' || !path[root_len]);
}

static int fd_under(int fd) { return fd >= 0 && fd < MAX_FD && under[fd]; }

/* Count one call of `kind` on `path`; kill the process if it is the one. */
static void hit(int kind, const char *path) {
    (void)path;
    if (!(kinds & kind)) return;
    pthread_mutex_lock(&mu);
    long n = ++count;
    if (at && n == at) kill(getpid(), SIGKILL);
    pthread_mutex_unlock(&mu);
}

/* After a call under root: log "+|- kind ok|fail path" (+: counted). */
static void note(int kind, const char *path, long ret) {
    if (log_fd < 0) return;
    char line[PATH_MAX + 48];
    int len = snprintf(line, sizeof line, "%c %s %s %s\n", (kinds & kind) ? '+' : '-',
                       kind_name(kind), ret < 0 ? "fail" : "ok", path ? path : "");
    init_write();
    pthread_mutex_lock(&mu);
    if (len > 0) real_write(log_fd, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
    pthread_mutex_unlock(&mu);
}

static void fd_path(int fd, char *path) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, PATH_MAX - 1);
    path[n < 0 ? 0 : n] = 0;
}

/* A call on a descriptor: counted and logged if it was opened under root. */
#define ON_FD(kind, fd, call)                       \
    do {                                            \
        if (!fd_under(fd)) return call;             \
        char path_[PATH_MAX];                       \
        fd_path(fd, path_);                         \
        hit(kind, path_);                           \
        long ret_ = (long)(call);                   \
        note(kind, path_, ret_);                    \
        return ret_;                                \
    } while (0)

/* A call on a path: counted and logged if the path is under root. */
#define ON_PATH(kind, inside, path, call)           \
    do {                                            \
        if (!(inside)) return call;                 \
        hit(kind, path);                            \
        long ret_ = (long)(call);                   \
        note(kind, path, ret_);                     \
        return ret_;                                \
    } while (0)

int dlk_arm(const char *dir, const char *names, long kill_at, const char *log) {
    pthread_mutex_lock(&mu);
    snprintf(root, sizeof root, "%s", dir);
    root_len = strlen(root);
    kinds = 0;
    const char *all[] = {"mkdir", "rename", "unlink", "create", "fsync", "write"};
    for (int i = 0; i < 6; i++)
        if (strstr(names, all[i])) kinds |= 1 << i;
    at = kill_at;
    count = 0;
    init_open();
    if (log && *log) log_fd = real_open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pthread_mutex_unlock(&mu);
    return kinds;
}

long dlk_count(void) { return count; }

static int opened(int fd, int dirfd, const char *path, int flags) {
    if (fd >= 0 && fd < MAX_FD) under[fd] = (unsigned char)is_under(dirfd, path);
    (void)flags;
    return fd;
}

#define OPEN_BODY(call, dirfd)                                              \
    mode_t mode = 0;                                                        \
    if (flags & (O_CREAT | O_TMPFILE)) {                                    \
        va_list ap;                                                         \
        va_start(ap, flags);                                                \
        mode = va_arg(ap, mode_t);                                          \
        va_end(ap);                                                         \
    }                                                                       \
    int in_ = is_under(dirfd, path);                                        \
    if (!(flags & O_CREAT) || !in_) return opened(call, dirfd, path, flags); \
    hit(K_CREATE, path);                                                    \
    int fd_ = opened(call, dirfd, path, flags);                             \
    note(K_CREATE, path, fd_);                                              \
    return fd_;

int open(const char *path, int flags, ...) { init_open(); OPEN_BODY(real_open(path, flags, mode), AT_FDCWD) }
int open64(const char *path, int flags, ...) { init_open64(); OPEN_BODY(real_open64(path, flags, mode), AT_FDCWD) }
int openat(int d, const char *path, int flags, ...) { init_openat(); OPEN_BODY(real_openat(d, path, flags, mode), d) }
int openat64(int d, const char *path, int flags, ...) { init_openat64(); OPEN_BODY(real_openat64(d, path, flags, mode), d) }

int creat(const char *p, mode_t m) {
    init_creat();
    ON_PATH(K_CREATE, is_under(AT_FDCWD, p), p, opened(real_creat(p, m), AT_FDCWD, p, O_CREAT));
}
int creat64(const char *p, mode_t m) {
    init_creat64();
    ON_PATH(K_CREATE, is_under(AT_FDCWD, p), p, opened(real_creat64(p, m), AT_FDCWD, p, O_CREAT));
}

int close(int fd) {
    init_close();
    if (fd >= 0 && fd < MAX_FD) under[fd] = 0;
    return real_close(fd);
}

int mkdir(const char *p, mode_t m) { init_mkdir(); ON_PATH(K_MKDIR, is_under(AT_FDCWD, p), p, real_mkdir(p, m)); }
int mkdirat(int d, const char *p, mode_t m) { init_mkdirat(); ON_PATH(K_MKDIR, is_under(d, p), p, real_mkdirat(d, p, m)); }

int rename(const char *a, const char *b) {
    init_rename();
    ON_PATH(K_RENAME, is_under(AT_FDCWD, a) || is_under(AT_FDCWD, b), b, real_rename(a, b));
}
int renameat(int da, const char *a, int db, const char *b) {
    init_renameat();
    ON_PATH(K_RENAME, is_under(da, a) || is_under(db, b), b, real_renameat(da, a, db, b));
}
int renameat2(int da, const char *a, int db, const char *b, unsigned int f) {
    init_renameat2();
    ON_PATH(K_RENAME, is_under(da, a) || is_under(db, b), b, real_renameat2(da, a, db, b, f));
}
int link(const char *a, const char *b) { init_link(); ON_PATH(K_RENAME, is_under(AT_FDCWD, b), b, real_link(a, b)); }
int linkat(int da, const char *a, int db, const char *b, int f) {
    init_linkat();
    ON_PATH(K_RENAME, is_under(db, b), b, real_linkat(da, a, db, b, f));
}

int unlink(const char *p) { init_unlink(); ON_PATH(K_UNLINK, is_under(AT_FDCWD, p), p, real_unlink(p)); }
int unlinkat(int d, const char *p, int f) { init_unlinkat(); ON_PATH(K_UNLINK, is_under(d, p), p, real_unlinkat(d, p, f)); }
int rmdir(const char *p) { init_rmdir(); ON_PATH(K_UNLINK, is_under(AT_FDCWD, p), p, real_rmdir(p)); }

int fsync(int fd) { init_fsync(); ON_FD(K_FSYNC, fd, real_fsync(fd)); }
int fdatasync(int fd) { init_fdatasync(); ON_FD(K_FSYNC, fd, real_fdatasync(fd)); }

ssize_t write(int fd, const void *b, size_t n) { init_write(); ON_FD(K_WRITE, fd, real_write(fd, b, n)); }
ssize_t pwrite(int fd, const void *b, size_t n, off_t o) { init_pwrite(); ON_FD(K_WRITE, fd, real_pwrite(fd, b, n, o)); }
ssize_t pwrite64(int fd, const void *b, size_t n, off_t o) { init_pwrite64(); ON_FD(K_WRITE, fd, real_pwrite64(fd, b, n, o)); }
ssize_t writev(int fd, const struct iovec *v, int c) { init_writev(); ON_FD(K_WRITE, fd, real_writev(fd, v, c)); }
ssize_t pwritev(int fd, const struct iovec *v, int c, off_t o) { init_pwritev(); ON_FD(K_WRITE, fd, real_pwritev(fd, v, c, o)); }
int ftruncate(int fd, off_t l) { init_ftruncate(); ON_FD(K_WRITE, fd, real_ftruncate(fd, l)); }
int ftruncate64(int fd, off_t l) { init_ftruncate64(); ON_FD(K_WRITE, fd, real_ftruncate64(fd, l)); }
