/* The REFERRAL_ERROR domain. */
#include <referral/error.h>
#include <referral/version.h>

G_DEFINE_QUARK (referral-error-quark, referral_error)

const char *
referral_version (void)
{
  return REFERRAL_VERSION_STRING;
}
