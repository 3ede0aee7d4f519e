/* peer_award: a reward on a reward, paid to the earner's sponsor.
 *
 * Whenever a posting of one of `kinds` credits the available funds of an
 * earner of rank at least `earner_rank`, and the earner's sponsor has rank
 * at least `sponsor_rank`, the sponsor gets floor(credit * rate) from the
 * platform, kind `kind`, with the credit as its cause.  In chain 2+1: 10% of
 * a partner's "direct" and "team" awards go to its sponsor if a partner.
 *
 * It is never recursive as long as `kind` is not one of `kinds` (init
 * refuses that configuration). */
#include "rules/common.h"
#include "rules/rules.h"

typedef struct {
  ReferralRate rate;
  ReferralKind kinds[16];
  guint n_kinds;
  ReferralRank earner_rank;
  ReferralRank sponsor_rank;
  ReferralKind kind;
} PeerAwardConfig;

static const ReferralParamSpec peer_award_params[] = {
  { "rate", REFERRAL_PARAM_RATE, "10%",
    "share of the earner's credit paid to its sponsor" },
  { "kinds", REFERRAL_PARAM_LIST, "direct, team",
    "the credit kinds that earn a peer award" },
  { "earner_rank", REFERRAL_PARAM_RANK, "partner",
    "only credits to members of at least this rank count" },
  { "sponsor_rank", REFERRAL_PARAM_RANK, "partner",
    "the earner's sponsor is paid only when of at least this rank" },
  { "kind", REFERRAL_PARAM_STRING, "peer",
    "posting kind of the peer award" },
  { NULL, 0, NULL, NULL }
};

static gboolean
peer_award_init (ReferralSetup *setup, const ReferralParams *params,
                 gpointer *config, GError **error)
{
  const char *const *kinds = referral_params_list (params, "kinds");
  g_autofree PeerAwardConfig *cfg = g_new0 (PeerAwardConfig, 1);

  cfg->kind = referral_setup_kind (setup, referral_params_string (params, "kind"));
  for (guint i = 0; kinds != NULL && kinds[i] != NULL; i++)
    {
      ReferralKind kind = referral_setup_kind (setup, kinds[i]);
      if (kind == cfg->kind)
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                       "parameter \"kinds\" contains \"%s\", the rule's own kind "
                       "(a peer award would pay peer awards without end)", kinds[i]);
          return FALSE;
        }
      if (cfg->n_kinds == G_N_ELEMENTS (cfg->kinds))
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                       "parameter \"kinds\" has more than %u entries",
                       (guint) G_N_ELEMENTS (cfg->kinds));
          return FALSE;
        }
      cfg->kinds[cfg->n_kinds++] = kind;
      if (!referral_setup_posting_kind (setup, kind, error)) /* on_posting sees only these */
        return FALSE;
    }
  cfg->rate = referral_params_rate (params, "rate");
  cfg->earner_rank = referral_params_rank (params, "earner_rank");
  cfg->sponsor_rank = referral_params_rank (params, "sponsor_rank");
  *config = g_steal_pointer (&cfg);
  return TRUE;
}

static gboolean
reacts_to (const PeerAwardConfig *cfg, ReferralKind kind)
{
  for (guint i = 0; i < cfg->n_kinds; i++)
    if (cfg->kinds[i] == kind)
      return TRUE;
  return FALSE;
}

static gboolean
peer_award_on_posting (ReferralCtx *ctx, gconstpointer config,
                       const ReferralPosting *posting, guint64 index,
                       GError **error)
{
  const PeerAwardConfig *cfg = config;
  const ReferralTree *tree = referral_ctx_tree (ctx);
  const ReferralLedger *ledger = referral_ctx_ledger (ctx);

  if (!reacts_to (cfg, posting->kind))
    return TRUE;

  gboolean held = FALSE;
  ReferralMember earner = referral_ledger_account_member (ledger, posting->to, &held);
  if (earner == REFERRAL_NO_MEMBER || held)
    return TRUE;
  if (referral_tree_rank (tree, earner) < cfg->earner_rank)
    return TRUE;

  ReferralMember sponsor = referral_tree_sponsor (tree, earner);
  if (sponsor == REFERRAL_NO_MEMBER || referral_tree_rank (tree, sponsor) < cfg->sponsor_rank)
    return TRUE;

  gint64 award;
  if (!referral_rate_apply (cfg->rate, posting->amount, &award, error))
    return FALSE;
  if (award <= 0)
    return TRUE;

  return referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM,
                            referral_ledger_member_account (ledger, sponsor, FALSE),
                            award, cfg->kind, index, NULL, error);
}

const ReferralRuleType referral_rule_peer_award = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "peer_award",
  .description = "pay a member's sponsor a rate of the member's credits of some kinds",
  .params = peer_award_params,
  .init = peer_award_init,
  .free_config = g_free,
  .on_posting = peer_award_on_posting,
};
