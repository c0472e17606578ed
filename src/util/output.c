/* output.c: sl_output implementations. */
#include <errno.h>
#include <unistd.h>

#include "sluice.h"

sl_err sl_write_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n) {
        ssize_t k = write(fd, s, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno == ENOSPC || errno == EDQUOT ? SL_NOSPACE : SL_IO;
        }
        s += k;
        n -= (size_t)k;
    }
    return SL_OK;
}

static sl_err fd_write(void *ctx, const void *p, size_t n)
{
    return sl_write_all(*(int *)ctx, p, n);
}

sl_output sl_output_fd(int *fdbox)
{
    sl_output o = {fd_write, fdbox};
    return o;
}
