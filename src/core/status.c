/* status.c - version queries and the static text of every status code. */
#include "core.h"

unsigned grugan_version_number(void)
{
    return GRUGAN_VERSION_NUMBER;
}

const char *grugan_version_string(void)
{
    return GRUGAN_VERSION_STRING;
}

const char *grugan_status_string(int status)
{
    switch (status) {
    case GRUGAN_OK: return "success";
    case GRUGAN_E_INVALID: return "invalid argument";
    case GRUGAN_E_NOMEM: return "out of memory";
    case GRUGAN_E_SIZE: return "invalid or mismatched size";
    case GRUGAN_E_RANGE: return "value out of range";
    case GRUGAN_E_STATE: return "call out of order";
    case GRUGAN_E_NONFINITE: return "non-finite value (NaN or Inf)";
    case GRUGAN_E_IO: return "input/output error";
    case GRUGAN_E_FORMAT: return "malformed data";
    case GRUGAN_E_ABORTED: return "aborted by callback";
    case GRUGAN_E_UNSUPPORTED: return "unsupported by this configuration";
    case GRUGAN_E_NOTFOUND: return "not found";
    case GRUGAN_E_INTERNAL: return "internal error";
    default: return "unknown status";
    }
}

int grugan__key_bounds(int key, double *min, double *max)
{
    double lo, hi;
    switch (key) {
    case GRUGAN_KEY_THREADS: lo = 1; hi = 256; break;
    case GRUGAN_KEY_CHECK_FINITE: lo = 0; hi = 1; break;
    default: return GRUGAN_E_INVALID;
    }
    if (min) *min = lo;
    if (max) *max = hi;
    return GRUGAN_OK;
}
