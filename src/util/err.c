/* err.c: error messages and version identifiers. */
#include "sluice.h"

#ifndef SL_BUILD_ID
#define SL_BUILD_ID "unknown"
#endif

#define SL_MSG(n, msg) msg,
static const char *const messages[] = {SL_ERRORS(SL_MSG)};
#undef SL_MSG

const char *sl_strerror(sl_err e)
{
    if ((unsigned)e >= (unsigned)SL_ERR_COUNT)
        return "unknown error";
    return messages[e];
}

const char *sl_version(void)
{
    return SL_VERSION_STRING;
}

const char *sl_build_id(void)
{
    return SL_BUILD_ID;
}
