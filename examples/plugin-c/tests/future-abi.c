/* A plugin that claims a rule ABI newer than any library knows: the loader
 * must refuse it before calling its registration function. */
#include <referral/referral-plugin.h>

REFERRAL_PLUGIN_EXPORT const guint32 referral_plugin_abi_version = REFERRAL_RULE_ABI_VERSION + 98;
REFERRAL_PLUGIN_EXPORT gboolean referral_plugin_register (GError **error);

REFERRAL_PLUGIN_EXPORT gboolean
referral_plugin_register (GError **error)
{
  /* Reaching this is the failure the test looks for. */
  g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED, "registration was called");
  return FALSE;
}
