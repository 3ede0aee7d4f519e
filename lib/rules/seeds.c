/* seeds: record, for every member, the first N members it directly
 * sponsored that reached a rank ("seeds" in chain 2+1).
 *
 * The record is a shared member field (default name "seeds") of `count`
 * words; word i holds the (i+1)-th seed's member index plus one, 0 when
 * empty.  Other rules read it by name (break_away, help_fund, transpose);
 * each must declare it with the same width.  A member is recorded when its
 * rank first reaches `rank` (by any means: a purchase, an administrator's
 * promote, a cascade), whatever its sponsor's own rank, and only if the
 * sponsor has a free entry: it is never recorded later. */
#include "rules/common.h"
#include "rules/rules.h"

typedef struct {
  gint field;
  guint count;
  ReferralRank rank;
} SeedsConfig;

static const ReferralParamSpec seeds_params[] = {
  { "field", REFERRAL_PARAM_STRING, "seeds",
    "name of the shared member field that holds the seeds" },
  { "count", REFERRAL_PARAM_INT, "2",
    "how many seeds a member records (the field's width, 1 to 64)" },
  { "rank", REFERRAL_PARAM_RANK, "agent",
    "a directly sponsored member becomes a seed when it first reaches this rank" },
  { NULL, 0, NULL, NULL }
};

static gboolean
seeds_init (ReferralSetup *setup, const ReferralParams *params,
            gpointer *config, GError **error)
{
  gint64 count = referral_params_int (params, "count");
  const char *name = referral_params_string (params, "field");

  if (count < 1 || count > 64)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "parameter \"count\" must be between 1 and 64, not %"
                   G_GINT64_FORMAT, count);
      return FALSE;
    }
  if (name[0] == '\0')
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "parameter \"field\" must not be empty");
      return FALSE;
    }

  gint field = referral_setup_field (setup, name, (guint) count, error);
  if (field < 0)
    return FALSE;

  SeedsConfig *cfg = g_new0 (SeedsConfig, 1);
  cfg->field = field;
  cfg->count = (guint) count;
  cfg->rank = referral_params_rank (params, "rank");
  *config = cfg;
  return TRUE;
}

static gboolean
seeds_on_rank_change (ReferralCtx *ctx, gconstpointer config,
                      ReferralMember member, ReferralRank old_rank,
                      ReferralRank new_rank, GError **error)
{
  const SeedsConfig *cfg = config;

  /* Only the first time the member reaches the rank: ranks only go up in
   * the schemes this rule serves, and a member is a seed once or never. */
  if (!(old_rank < cfg->rank && new_rank >= cfg->rank))
    return TRUE;

  ReferralMember sponsor = referral_tree_sponsor (referral_ctx_tree (ctx), member);
  if (sponsor == REFERRAL_NO_MEMBER)
    return TRUE;

  for (guint i = 0; i < cfg->count; i++)
    {
      gint64 entry = referral_ctx_field_get (ctx, cfg->field, sponsor, i);
      if (entry == (gint64) member + 1)
        return TRUE; /* already recorded (the rank went down and up again) */
      if (entry == 0)
        {
          referral_ctx_field_set (ctx, cfg->field, sponsor, i, (gint64) member + 1);
          return TRUE;
        }
    }
  return TRUE; /* no free entry */
}

const ReferralRuleType referral_rule_seeds = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "seeds",
  .description = "record the first N directly sponsored members that reach a rank",
  .params = seeds_params,
  .init = seeds_init,
  .free_config = g_free,
  .on_rank_change = seeds_on_rank_change,
};
