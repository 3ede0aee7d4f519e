/* direct_award: on each matching order, the buyer's sponsor earns a fixed
 * amount plus a rate of the order, both chosen by the sponsor's rank. */
#include "rules/common.h"
#include "rules/rules.h"

typedef struct {
  char *sku;
  ReferralKind kind;
  guint n_ranks;
  gint64 amounts[REFERRAL_MAX_RANKS];
  ReferralRate rates[REFERRAL_MAX_RANKS];
} DirectAward;

static const ReferralParamSpec params[] = {
  { "sku", REFERRAL_PARAM_STRING, "", "only orders of this sku (empty: every order)" },
  { "amounts", REFERRAL_PARAM_LIST, "", "fixed award per sponsor rank, lowest rank first" },
  { "rates", REFERRAL_PARAM_LIST, "", "award as a rate of the order, per sponsor rank" },
  { "kind", REFERRAL_PARAM_STRING, "direct", "posting kind of the award" },
  { NULL, 0, NULL, NULL },
};

static void
direct_free (gpointer config)
{
  DirectAward *d = config;
  g_free (d->sku);
  g_free (d);
}

static gboolean
direct_init (ReferralSetup *setup, const ReferralParams *p, gpointer *config, GError **error)
{
  DirectAward *d = g_new0 (DirectAward, 1);
  *config = d;
  d->n_ranks = referral_setup_n_ranks (setup);
  d->sku = g_strdup (referral_params_string (p, "sku"));
  if (!rule_parse_money_list (referral_params_list (p, "amounts"), d->n_ranks,
                              referral_setup_decimals (setup), "amounts", d->amounts, error)
      || !rule_parse_rate_list (referral_params_list (p, "rates"), d->n_ranks, "rates", "rank",
                                TRUE, d->rates, error))
    return FALSE;
  const char *kind = referral_params_string (p, "kind");
  if (*kind == '\0')
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME, "parameter \"kind\" is empty");
      return FALSE;
    }
  d->kind = referral_setup_kind (setup, kind);
  return TRUE;
}

static gboolean
direct_on_order (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order,
                 GError **error)
{
  const DirectAward *d = config;
  if (!rule_sku_matches (d->sku, order))
    return TRUE;
  const ReferralTree *tree = referral_ctx_tree (ctx);
  ReferralMember sponsor = referral_tree_sponsor (tree, order->buyer);
  if (sponsor == REFERRAL_NO_MEMBER)
    return TRUE;
  ReferralRank rank = referral_tree_rank (tree, sponsor);
  gint64 by_rate, award;
  if (!referral_rate_apply (d->rates[rank], order->amount, &by_rate, error))
    return FALSE;
  if (!referral_money_add (d->amounts[rank], by_rate, &award))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_OVERFLOW, "direct award overflows");
      return FALSE;
    }
  if (award <= 0)
    return TRUE;
  const ReferralLedger *ledger = referral_ctx_ledger (ctx);
  return referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM,
                            referral_ledger_member_account (ledger, sponsor, FALSE), award,
                            d->kind, REFERRAL_NO_POSTING, NULL, error);
}

const ReferralRuleType referral_rule_direct_award = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "direct_award",
  .description = "the buyer's sponsor earns a fixed amount and/or a rate of each order, by rank",
  .params = params,
  .init = direct_init,
  .free_config = direct_free,
  .on_order = direct_on_order,
};
