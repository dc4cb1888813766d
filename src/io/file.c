/* file.c - whole-file reads and atomic, durable writes (POSIX). */
#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The text of errno value e, thread-safely. */
static void reason_of(int e, char *buf, size_t cap)
{
    if (strerror_r(e, buf, cap) != 0) snprintf(buf, cap, "error %d", e);
}

const char *grugan__path_tail(const char *path, size_t keep)
{
    const size_t n = strlen(path);
    return n > keep ? path + (n - keep) : path;
}

int grugan__file_read(const grugan_context *ctx, const char *path, size_t cap, void **data,
                      size_t *size, char *msg, size_t msg_cap)
{
    char reason[128];
    struct stat st;
    size_t have = 0, room;
    unsigned char *buf;
    int fd;

    *data = NULL;
    *size = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        reason_of(errno, reason, sizeof reason);
        snprintf(msg, msg_cap, "cannot open '%s': %s", grugan__path_tail(path, 160), reason);
        return GRUGAN_E_IO;
    }
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        reason_of(S_ISDIR(st.st_mode) ? EISDIR : errno, reason, sizeof reason);
        snprintf(msg, msg_cap, "cannot read '%s': %s", grugan__path_tail(path, 160), reason);
        close(fd);
        return GRUGAN_E_IO;
    }
    /* a regular file is read in one allocation (its size plus one byte to meet
     * the end); anything else (a pipe) grows by doubling */
    if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > (unsigned long long)cap) {
        snprintf(msg, msg_cap, "'%s' has %lld bytes, more than the %zu accepted",
                 grugan__path_tail(path, 160), (long long)st.st_size, cap);
        close(fd);
        return GRUGAN_E_SIZE;
    }
    room = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : (size_t)1 << 16;
    buf = grugan__alloc(ctx, room);
    if (!buf) {
        snprintf(msg, msg_cap, "cannot allocate %zu bytes to read '%s'", room,
                 grugan__path_tail(path, 160));
        close(fd);
        return GRUGAN_E_NOMEM;
    }
    for (;;) {
        ssize_t got;
        if (have == room) {
            unsigned char *grown;
            if (room > cap) {
                snprintf(msg, msg_cap, "'%s' has more than the %zu bytes accepted",
                         grugan__path_tail(path, 160), cap);
                grugan__free(ctx, buf);
                close(fd);
                return GRUGAN_E_SIZE;
            }
            grown = grugan__alloc(ctx, 2 * room);
            if (!grown) {
                snprintf(msg, msg_cap, "cannot allocate %zu bytes to read '%s'", 2 * room,
                         grugan__path_tail(path, 160));
                grugan__free(ctx, buf);
                close(fd);
                return GRUGAN_E_NOMEM;
            }
            memcpy(grown, buf, have);
            grugan__free(ctx, buf);
            buf = grown;
            room *= 2;
        }
        got = read(fd, buf + have, room - have);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            reason_of(errno, reason, sizeof reason);
            snprintf(msg, msg_cap, "cannot read '%s': %s", grugan__path_tail(path, 160), reason);
            grugan__free(ctx, buf);
            close(fd);
            return GRUGAN_E_IO;
        }
        if (got == 0) break;
        have += (size_t)got;
    }
    close(fd);
    if (have > cap) {
        snprintf(msg, msg_cap, "'%s' has more than the %zu bytes accepted", grugan__path_tail(path, 160),
                 cap);
        grugan__free(ctx, buf);
        return GRUGAN_E_SIZE;
    }
    *data = buf;
    *size = have;
    return GRUGAN_OK;
}

/* Writes all n bytes, retrying short writes and interruptions. */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t put = write(fd, p, n);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return put < 0 ? errno : EIO;
        p += put;
        n -= (size_t)put;
    }
    return 0;
}

/* The directory part of path ("." if none) into dir (capacity cap). */
static void directory_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, cap, ".");
    } else if (slash == path) {
        snprintf(dir, cap, "/");
    } else {
        size_t len = (size_t)(slash - path);
        snprintf(dir, cap, "%.*s", (int)(len < cap ? len : cap - 1), path);
    }
}

int grugan__file_write_atomic(const char *path, const void *data, size_t size, char *msg,
                              size_t msg_cap)
{
    char tmp[4096], dir[4096], reason[128];
    struct stat st;
    int fd, err, dfd;
    if (strlen(path) + 64 > sizeof tmp) {
        snprintf(msg, msg_cap, "path too long: '%s'", path);
        return GRUGAN_E_IO;
    }
    /* A device or a pipe (/dev/null, /dev/full, a FIFO) has no previous
     * contents to protect and must not be replaced by a regular file (which
     * the rename would do for a user allowed to write its directory): it is
     * written in place. */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        err = fd < 0 ? errno : write_all(fd, data, size);
        if (fd >= 0 && close(fd) != 0 && err == 0) err = errno;
        if (err != 0) {
            reason_of(err, reason, sizeof reason);
            snprintf(msg, msg_cap, "cannot write '%s': %s", path, reason);
            return GRUGAN_E_IO;
        }
        return GRUGAN_OK;
    }
    /* A fresh name beside the target, created exclusively; mode 0666 minus
     * the umask, as any new file. (mkstemp would force 0600.) */
    fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        snprintf(tmp, sizeof tmp, "%s.tmp-%ld-%lx-%d", path, (long)getpid(),
                 (unsigned long)now.tv_nsec ^ (unsigned long)(uintptr_t)&now, attempt);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        reason_of(errno, reason, sizeof reason);
        snprintf(msg, msg_cap, "cannot create a temporary file next to '%s': %s", path, reason);
        return GRUGAN_E_IO;
    }
    err = write_all(fd, data, size);
    if (err == 0 && fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && err == 0) err = errno;
    if (err != 0) {
        unlink(tmp);
        reason_of(err, reason, sizeof reason);
        snprintf(msg, msg_cap, "cannot write '%s': %s (the previous file is untouched)", path,
                 reason);
        return GRUGAN_E_IO;
    }
    if (rename(tmp, path) != 0) {
        err = errno;
        unlink(tmp);
        reason_of(err, reason, sizeof reason);
        snprintf(msg, msg_cap, "cannot replace '%s': %s (the previous file is untouched)", path,
                 reason);
        return GRUGAN_E_IO;
    }
    directory_of(path, dir, sizeof dir);
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd); /* durability of the rename; not all file systems support it */
        close(dfd);
    }
    return GRUGAN_OK;
}
