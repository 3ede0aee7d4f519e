/* transpose: a scheme command that replaces one of a member's seeds.
 *
 *   {"type": "transpose", "member": "m", "old": "o", "new": "n"}
 *
 * Valid only if o is one of m's seeds, o's rank is below `rank`, n's rank
 * is at least `rank`, sponsor(n) = m, and n is not already a seed of m
 * (chain 2+1: `rank` = partner).  n then takes o's place in m's seeds
 * (shared field `seeds_field`, see the seeds rule); placement does not
 * change.  Any rule watching changed members at the end of the event (the
 * help fund) sees m as changed.  Every refusal is REFERRAL_ERROR_REJECTED
 * (a missing field: REFERRAL_ERROR_INVALID_EVENT; an unknown member:
 * REFERRAL_ERROR_UNKNOWN_MEMBER) with a message naming the members and the
 * reason; the engine prefixes it with the command and its member:
 * `transpose "A": old "C" is not a seed of "A"`. */
#include "rules/common.h"
#include "rules/rules.h"

typedef struct {
  char *command;
  gint seeds_field;
  guint n_seeds;
  ReferralRank rank;
} TransposeConfig;

static const ReferralParamSpec transpose_params[] = {
  { "command", REFERRAL_PARAM_STRING, "transpose",
    "the name of the command this rule handles" },
  { "rank", REFERRAL_PARAM_RANK, "partner",
    "the new seed must have at least this rank, the old one must not" },
  { "seeds_field", REFERRAL_PARAM_STRING, "seeds",
    "name of the shared member field that holds the seeds (see the seeds rule)" },
  { "seeds", REFERRAL_PARAM_INT, "2",
    "the seeds field's width (as the seeds rule's count, 1 to 64)" },
  { NULL, 0, NULL, NULL }
};

static void
transpose_free (gpointer config)
{
  TransposeConfig *cfg = config;

  if (cfg == NULL)
    return;
  g_free (cfg->command);
  g_free (cfg);
}

static gboolean
transpose_init (ReferralSetup *setup, const ReferralParams *params,
                gpointer *config, GError **error)
{
  const char *command = referral_params_string (params, "command");
  gint64 n_seeds = referral_params_int (params, "seeds");

  if (n_seeds < 1 || n_seeds > 64)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "parameter \"seeds\" must be between 1 and 64, not %"
                   G_GINT64_FORMAT, n_seeds);
      return FALSE;
    }
  gint field = referral_setup_field (setup, referral_params_string (params, "seeds_field"),
                                     (guint) n_seeds, error);
  if (field < 0)
    return FALSE;
  if (!referral_setup_command (setup, command, error))
    return FALSE;

  TransposeConfig *cfg = g_new0 (TransposeConfig, 1);
  cfg->command = g_strdup (command);
  cfg->seeds_field = field;
  cfg->n_seeds = (guint) n_seeds;
  cfg->rank = referral_params_rank (params, "rank");
  *config = cfg;
  return TRUE;
}

/* Looks up the member named by field @field_name of the event. */
static gboolean
lookup_member (const ReferralCtx *ctx, const char *field_name, const char *key,
               ReferralMember *out, GError **error)
{
  if (key == NULL || key[0] == '\0')
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_EVENT,
                   "field \"%s\" is missing", field_name);
      return FALSE;
    }
  *out = referral_tree_lookup (referral_ctx_tree (ctx), key);
  if (*out == REFERRAL_NO_MEMBER)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_UNKNOWN_MEMBER,
                   "%s \"%s\" does not exist", field_name, key);
      return FALSE;
    }
  return TRUE;
}

/* Returns: the index of @seed in @member's seeds, or -1. */
static gint
seed_index (const ReferralCtx *ctx, const TransposeConfig *cfg, ReferralMember member,
            ReferralMember seed)
{
  for (guint i = 0; i < cfg->n_seeds; i++)
    if (referral_ctx_field_get (ctx, cfg->seeds_field, member, i) == (gint64) seed + 1)
      return (gint) i;
  return -1;
}

static gboolean
transpose_on_command (ReferralCtx *ctx, gconstpointer config,
                      const ReferralEvent *event, GError **error)
{
  const TransposeConfig *cfg = config;
  const ReferralTree *tree = referral_ctx_tree (ctx);
  const ReferralScheme *scheme = referral_ctx_scheme (ctx);
  const char *rank_name = referral_scheme_rank_name (scheme, cfg->rank);
  ReferralMember m, o, n;

  if (!lookup_member (ctx, "member", event->member, &m, error)
      || !lookup_member (ctx, "old", event->old_member, &o, error)
      || !lookup_member (ctx, "new", event->new_member, &n, error))
    return FALSE;

  const char *mk = event->member, *ok = event->old_member, *nk = event->new_member;
  gint slot = seed_index (ctx, cfg, m, o);
  if (slot < 0)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED,
                   "old \"%s\" is not a seed of \"%s\"", ok, mk);
      return FALSE;
    }
  if (referral_tree_rank (tree, o) >= cfg->rank)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED,
                   "old \"%s\" has rank %s: only a seed below %s can be replaced",
                   ok, referral_scheme_rank_name (scheme, referral_tree_rank (tree, o)),
                   rank_name);
      return FALSE;
    }
  if (referral_tree_rank (tree, n) < cfg->rank)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED,
                   "new \"%s\" has rank %s: the new seed must be at least %s", nk,
                   referral_scheme_rank_name (scheme, referral_tree_rank (tree, n)), rank_name);
      return FALSE;
    }
  if (referral_tree_sponsor (tree, n) != m)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED,
                   "new \"%s\" was not sponsored by \"%s\"", nk, mk);
      return FALSE;
    }
  if (seed_index (ctx, cfg, m, n) >= 0)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED,
                   "new \"%s\" is already a seed of \"%s\"", nk, mk);
      return FALSE;
    }

  referral_ctx_field_set (ctx, cfg->seeds_field, m, (guint) slot, (gint64) n + 1);
  return TRUE;
}

const ReferralRuleType referral_rule_transpose = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "transpose",
  .description = "command: replace a member's seed that is not of a rank by a sponsored member that is",
  .params = transpose_params,
  .init = transpose_init,
  .free_config = transpose_free,
  .on_command = transpose_on_command,
};
