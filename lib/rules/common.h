/* Small helpers shared by the built-in rules (not part of the public API). */
#ifndef REFERRAL_RULES_COMMON_H
#define REFERRAL_RULES_COMMON_H

#include <referral/error.h>
#include <referral/rule.h>

#include <string.h>

/* TRUE when @order matches @sku ("" or NULL matches every order). */
static inline gboolean
rule_sku_matches (const char *sku, const ReferralOrder *order)
{
  if (sku == NULL || *sku == '\0')
    return TRUE;
  return order->sku != NULL && strcmp (order->sku, sku) == 0;
}

/* Parses a LIST parameter of @n money amounts (or none: all zero) into
 * @out.  Returns FALSE with REFERRAL_ERROR_SCHEME naming @param. */
static inline gboolean
rule_parse_money_list (const char *const *items, guint n, guint decimals, const char *param,
                       gint64 *out, GError **error)
{
  guint len = items ? g_strv_length ((char **) items) : 0;
  if (len != 0 && len != n)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "parameter \"%s\" has %u amounts; it needs %u (one per rank) or none",
                   param, len, n);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      out[i] = 0;
      GError *local = NULL;
      if (len && !referral_money_parse (items[i], decimals, FALSE, &out[i], &local))
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME, "parameter \"%s\": %s",
                       param, local->message);
          g_error_free (local);
          return FALSE;
        }
    }
  return TRUE;
}

/* As rule_parse_money_list() for rates; @what names one entry ("rank",
 * "level") in the message. */
static inline gboolean
rule_parse_rate_list (const char *const *items, guint n, const char *param, const char *what,
                      gboolean allow_empty, ReferralRate *out, GError **error)
{
  guint len = items ? g_strv_length ((char **) items) : 0;
  if ((len != 0 || !allow_empty) && len != n)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "parameter \"%s\" has %u rates; it needs %u (one per %s)%s",
                   param, len, n, what, allow_empty ? " or none" : "");
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      out[i] = (ReferralRate) { 0, 1 };
      GError *local = NULL;
      if (len && !referral_rate_parse (items[i], &out[i], &local))
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME, "parameter \"%s\": %s",
                       param, local->message);
          g_error_free (local);
          return FALSE;
        }
    }
  return TRUE;
}

#endif
