/* seller_award: the seller of an order gets an amount fixed by its rank.
 *
 * The seller is the buyer itself when the buyer's rank is at least
 * `self_rank` (a self-purchase, paid with kind `self_kind`, "rebate" in
 * chain 2+1), otherwise the buyer's sponsor (kind `kind`, "direct").  The
 * amount is `amounts[rank of the seller]`; nothing is paid when it is zero or
 * there is no seller.  The award comes from the platform and is credited to
 * the seller's available funds (a help fund, if any, splits it through its
 * posting hook). */
#include "rules/common.h"
#include "rules/rules.h"

typedef struct {
  char *sku;
  ReferralRank self_rank;
  ReferralKind kind;
  ReferralKind self_kind;
  guint n_ranks;
  gint64 amounts[REFERRAL_MAX_RANKS];
} SellerAwardConfig;

static const ReferralParamSpec seller_award_params[] = {
  { "sku", REFERRAL_PARAM_STRING, "gift",
    "only orders with this sku pay the award (\"\": every order)" },
  { "amounts", REFERRAL_PARAM_LIST, NULL,
    "the award by the seller's rank, one amount per rank, lowest rank first (none: 0)" },
  { "self_rank", REFERRAL_PARAM_RANK, "agent",
    "a buyer of at least this rank is its own seller; otherwise its sponsor sells" },
  { "kind", REFERRAL_PARAM_STRING, "direct",
    "posting kind of an award to the buyer's sponsor" },
  { "self_kind", REFERRAL_PARAM_STRING, "rebate",
    "posting kind of an award to the buyer itself" },
  { NULL, 0, NULL, NULL }
};

static void
seller_award_free (gpointer config)
{
  SellerAwardConfig *cfg = config;

  if (cfg == NULL)
    return;
  g_free (cfg->sku);
  g_free (cfg);
}

static gboolean
seller_award_init (ReferralSetup *setup, const ReferralParams *params,
                   gpointer *config, GError **error)
{
  guint n_ranks = referral_setup_n_ranks (setup);
  g_autofree SellerAwardConfig *cfg = g_new0 (SellerAwardConfig, 1);

  if (!rule_parse_money_list (referral_params_list (params, "amounts"), n_ranks,
                              referral_setup_decimals (setup), "amounts", cfg->amounts, error))
    return FALSE;
  cfg->n_ranks = n_ranks;
  cfg->self_rank = referral_params_rank (params, "self_rank");
  cfg->kind = referral_setup_kind (setup, referral_params_string (params, "kind"));
  cfg->self_kind = referral_setup_kind (setup, referral_params_string (params, "self_kind"));
  cfg->sku = g_strdup (referral_params_string (params, "sku"));
  *config = g_steal_pointer (&cfg);
  return TRUE;
}

static gboolean
seller_award_on_order (ReferralCtx *ctx, gconstpointer config,
                       const ReferralOrder *order, GError **error)
{
  const SellerAwardConfig *cfg = config;
  const ReferralTree *tree = referral_ctx_tree (ctx);

  if (!rule_sku_matches (cfg->sku, order))
    return TRUE;

  gboolean self = referral_tree_rank (tree, order->buyer) >= cfg->self_rank;
  ReferralMember seller = self ? order->buyer : referral_tree_sponsor (tree, order->buyer);
  if (seller == REFERRAL_NO_MEMBER)
    return TRUE;

  ReferralRank rank = referral_tree_rank (tree, seller);
  gint64 amount = rank < cfg->n_ranks ? cfg->amounts[rank] : 0;
  if (amount <= 0)
    return TRUE;

  ReferralAccount to = referral_ledger_member_account (referral_ctx_ledger (ctx),
                                                       seller, FALSE);
  return referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM, to, amount,
                            self ? cfg->self_kind : cfg->kind,
                            REFERRAL_NO_POSTING, NULL, error);
}

const ReferralRuleType referral_rule_seller_award = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "seller_award",
  .description = "pay an order's seller (the buyer itself or its sponsor) an amount by rank",
  .params = seller_award_params,
  .init = seller_award_init,
  .free_config = seller_award_free,
  .on_order = seller_award_on_order,
};
