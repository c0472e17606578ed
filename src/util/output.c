/* output.c: sl_output implementations. */
#include <errno.h>
#include <unistd.h>

#include "sluice.h"

static sl_err fd_write(void *ctx, const void *p, size_t n)
{
    int fd = *(int *)ctx;
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

sl_output sl_output_fd(int *fdbox)
{
    sl_output o = {fd_write, fdbox};
    return o;
}
