/* unilevel: on each matching order, the sponsors above the buyer earn a rate
 * per level (level 1 is the buyer's sponsor), for a fixed number of levels. */
#include "rules/common.h"
#include "rules/rules.h"

#define MAX_LEVELS 64

typedef struct {
  char *sku;
  ReferralKind kind;
  guint levels;
  ReferralRank min_rank;
  gboolean compress;
  ReferralRate rates[MAX_LEVELS];
} Unilevel;

static const ReferralParamSpec params[] = {
  { "levels", REFERRAL_PARAM_INT, "3", "how many levels of sponsors earn (1 to 64)" },
  { "rates", REFERRAL_PARAM_LIST, NULL, "rate of the order per level, level 1 first" },
  { "sku", REFERRAL_PARAM_STRING, "", "only orders of this sku (empty: every order)" },
  { "min_rank", REFERRAL_PARAM_RANK, "", "lowest rank that earns (empty: the lowest rank)" },
  { "compress", REFERRAL_PARAM_BOOL, "false",
    "true: members below min_rank do not use up a level" },
  { "kind", REFERRAL_PARAM_STRING, "unilevel", "posting kind of the commission" },
  { NULL, 0, NULL, NULL },
};

static void
unilevel_free (gpointer config)
{
  Unilevel *u = config;
  g_free (u->sku);
  g_free (u);
}

static gboolean
unilevel_init (ReferralSetup *setup, const ReferralParams *p, gpointer *config, GError **error)
{
  Unilevel *u = g_new0 (Unilevel, 1);
  *config = u;
  gint64 levels = referral_params_int (p, "levels");
  if (levels < 1 || levels > MAX_LEVELS)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "parameter \"levels\" is %" G_GINT64_FORMAT "; it must be 1 to %d", levels,
                   MAX_LEVELS);
      return FALSE;
    }
  u->levels = (guint) levels;
  if (!rule_parse_rate_list (referral_params_list (p, "rates"), u->levels, "rates", "level",
                             FALSE, u->rates, error))
    return FALSE;
  u->sku = g_strdup (referral_params_string (p, "sku"));
  u->min_rank = referral_params_is_set (p, "min_rank") ? referral_params_rank (p, "min_rank") : 0;
  u->compress = referral_params_bool (p, "compress");
  const char *kind = referral_params_string (p, "kind");
  if (*kind == '\0')
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME, "parameter \"kind\" is empty");
      return FALSE;
    }
  u->kind = referral_setup_kind (setup, kind);
  return TRUE;
}

static gboolean
unilevel_on_order (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order,
                   GError **error)
{
  const Unilevel *u = config;
  if (!rule_sku_matches (u->sku, order))
    return TRUE;
  const ReferralTree *tree = referral_ctx_tree (ctx);
  const ReferralLedger *ledger = referral_ctx_ledger (ctx);
  guint level = 0;
  for (ReferralMember m = referral_tree_sponsor (tree, order->buyer);
       m != REFERRAL_NO_MEMBER && level < u->levels; m = referral_tree_sponsor (tree, m))
    {
      gboolean eligible = referral_tree_rank (tree, m) >= u->min_rank;
      if (!eligible && u->compress)
        continue;
      guint this_level = level++;
      if (!eligible)
        continue;
      gint64 amount;
      if (!referral_rate_apply (u->rates[this_level], order->amount, &amount, error))
        return FALSE;
      if (amount > 0
          && !referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM,
                                 referral_ledger_member_account (ledger, m, FALSE), amount,
                                 u->kind, REFERRAL_NO_POSTING, NULL, error))
        return FALSE;
    }
  return TRUE;
}

const ReferralRuleType referral_rule_unilevel = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "unilevel",
  .description = "sponsors up to N levels above the buyer earn a rate of each order per level",
  .params = params,
  .init = unilevel_init,
  .free_config = unilevel_free,
  .on_order = unilevel_on_order,
};
