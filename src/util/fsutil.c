/* fsutil.c: see fsutil.h. */
#define _GNU_SOURCE /* sync_file_range */
#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

sl_err sl_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return SL_IO;
    int rc = fsync(fd);
    close(fd);
    return rc ? SL_IO : SL_OK;
}

sl_err sl_mkdirs(const char *dir)
{
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p)
        return SL_NOMEM;
    memcpy(p, dir, n + 1);
    sl_err err = SL_OK;
    for (size_t i = 1; i <= n && !err; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        if (p[i - 1] == '/')
            continue;
        char save = p[i];
        p[i] = '\0';
        if (mkdir(p, 0755) == 0) {
            char *slash = strrchr(p, '/');
            if (slash == p) {
                err = sl_fsync_dir("/");
            } else if (slash) {
                *slash = '\0';
                err = sl_fsync_dir(p);
                *slash = '/';
            } else {
                err = sl_fsync_dir(".");
            }
        } else if (errno != EEXIST) {
            err = errno == ENOSPC || errno == EDQUOT ? SL_NOSPACE : SL_IO;
        }
        p[i] = save;
    }
    free(p);
    return err;
}

sl_err sl_read_file(const char *path, sl_buf *out, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? SL_RETRY : SL_IO;
    sl_err err = SL_OK;
    for (;;) {
        if ((err = sl_buf_reserve(out, 65536)))
            break;
        ssize_t r = read(fd, out->ptr + out->len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err = SL_IO;
            break;
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
        if (out->len > max) {
            err = SL_FULL;
            break;
        }
    }
    close(fd);
    return err;
}

double sl_mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct timespec sl_deadline_after(double seconds)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    time_t whole = (time_t)seconds;
    t.tv_sec += whole;
    t.tv_nsec += (long)((seconds - (double)whole) * 1e9);
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

sl_err sl_write_file_atomic(const char *dir, const char *name, const void *p, size_t n)
{
    char path[1400], tmp[1450];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == ENOSPC ? SL_NOSPACE : SL_IO;
    sl_err err = sl_write_all(fd, p, n);
    if (!err && fdatasync(fd))
        err = SL_IO;
    close(fd);
    if (!err && rename(tmp, path))
        err = SL_IO;
    if (!err)
        err = sl_fsync_dir(dir);
    if (err)
        unlink(tmp);
    return err;
}

void sl_writeback_after(int fd, uint64_t *from, uint64_t end, uint64_t every)
{
    if (end - *from < every)
        return;
    (void)sync_file_range(fd, (off_t)*from, (off_t)(end - *from), SYNC_FILE_RANGE_WRITE);
    *from = end;
}
