/* Helpers shared by the chain 2+1 suites; see test-chain21-common.h. */
#include "test-chain21-common.h"

#include <string.h>

const char *
c21_id (void)
{
  static char bufs[4][32];
  static guint slot, counter;
  char *b = bufs[slot++ % G_N_ELEMENTS (bufs)];
  g_snprintf (b, sizeof bufs[0], "t%u", ++counter);
  return b;
}

ReferralApplyResult
c21_transpose_at (const char *file, int line, ReferralEngine *e, const char *member,
                  const char *old_member, const char *new_member)
{
  ReferralEvent ev = tu_command (c21_id (), "transpose", member, old_member, new_member);
  return tu_apply_ok_at (file, line, e, &ev);
}

ReferralEngine *
c21_engine (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (ReferralScheme) scheme = referral_scheme_new_builtin ("chain21", &err);
  ck_assert_msg (scheme != NULL, "built-in chain21: %s", err ? err->message : "?");
  return tu_engine_new (scheme);
}

ReferralEngine *
c21_probed_engine (void)
{
  c21_register_probe ();
  const char *text = referral_scheme_builtin_text ("chain21");
  ck_assert_ptr_nonnull (text);
  g_autofree char *all = g_strconcat (text, "\n[rule probe]\ntype = test_chain21_probe\n", NULL);
  g_autoptr (ReferralScheme) scheme = tu_scheme_from_text (all);
  return tu_engine_new (scheme);
}

void
c21_assert_funds_at (const char *file, int line, const ReferralEngine *e, const char *key,
                     gint64 avail, gint64 held)
{
  gint64 a = tu_balance_at (file, line, e, key, FALSE);
  gint64 h = tu_balance_at (file, line, e, key, TRUE);
  if (a != avail || h != held)
    _ck_assert_failed (file, line, "funds",
                       "%s: available %" G_GINT64_FORMAT ", held %" G_GINT64_FORMAT
                       "; want %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT,
                       key, a, h, avail, held);
}

gint64
c21_pool (const ReferralEngine *e)
{
  const ReferralLedger *l = referral_engine_ledger (e);
  ReferralAccount pool = referral_ledger_lookup_pool (l, "pool");
  ck_assert_uint_ne (pool, REFERRAL_NO_ACCOUNT);
  return referral_ledger_balance (l, pool);
}

const char *
c21_rank (const ReferralEngine *e, const char *key)
{
  const ReferralTree *t = referral_engine_tree (e);
  ReferralMember m = referral_tree_lookup (t, key);
  ck_assert_msg (m != REFERRAL_NO_MEMBER, "no member %s", key);
  return referral_scheme_rank_name (referral_engine_scheme (e), referral_tree_rank (t, m));
}

const char *
c21_parent (const ReferralEngine *e, const char *key)
{
  const ReferralTree *t = referral_engine_tree (e);
  ReferralMember m = referral_tree_lookup (t, key);
  ck_assert_msg (m != REFERRAL_NO_MEMBER, "no member %s", key);
  ReferralMember p = referral_tree_parent (t, m);
  return p == REFERRAL_NO_MEMBER ? "-" : referral_tree_key (t, p);
}

/* ---- the probe rule ------------------------------------------------------ */

typedef struct {
  gint seeds, released, perf, count;
} ProbeConfig;

static const ReferralParamSpec probe_params[] = { { NULL, 0, NULL, NULL } };

static gboolean
probe_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
            GError **error)
{
  ProbeConfig *c = g_new0 (ProbeConfig, 1);
  if ((c->seeds = referral_setup_field (setup, "seeds", 2, error)) < 0
      || (c->released = referral_setup_field (setup, "help_fund_released", 1, error)) < 0
      || (c->perf = referral_setup_field (setup, "performance:pool", 1, error)) < 0
      || (c->count = referral_setup_field (setup, "sponsored_at_least:1", 1, error)) < 0
      || !referral_setup_command (setup, "probe", error))
    {
      g_free (c);
      return FALSE;
    }
  *config = c;
  return TRUE;
}

static gboolean
probe_on_command (ReferralCtx *ctx, gconstpointer config, const ReferralEvent *event,
                  GError **error)
{
  const ProbeConfig *c = config;
  const ReferralTree *t = referral_ctx_tree (ctx);
  ReferralMember m = referral_tree_lookup (t, event->member);
  if (m == REFERRAL_NO_MEMBER)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_UNKNOWN_MEMBER, "no member");
      return FALSE;
    }
  GString *s = g_string_new ("seeds=");
  for (guint i = 0; i < 2; i++)
    {
      gint64 v = referral_ctx_field_get (ctx, c->seeds, m, i);
      if (v == 0)
        continue;
      if (i > 0)
        g_string_append_c (s, ',');
      g_string_append (s, referral_tree_key (t, (ReferralMember) (v - 1)));
    }
  g_string_append_printf (s, " released=%" G_GINT64_FORMAT " perf=%" G_GINT64_FORMAT
                          " count=%" G_GINT64_FORMAT,
                          referral_ctx_field_get (ctx, c->released, m, 0),
                          referral_ctx_field_get (ctx, c->perf, m, 0),
                          referral_ctx_field_get (ctx, c->count, m, 0));
  g_set_error_literal (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED, s->str);
  g_string_free (s, TRUE);
  return FALSE;
}

static const ReferralRuleType probe_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "test_chain21_probe",
  .description = "test rule: the command \"probe\" reports a member's chain 2+1 fields",
  .params = probe_params,
  .init = probe_init,
  .free_config = g_free,
  .on_command = probe_on_command,
};

void
c21_register_probe (void)
{
  if (referral_rule_type_lookup (probe_type.name) == &probe_type)
    return;
  g_autoptr (GError) err = NULL;
  if (!referral_rule_type_register (&probe_type, &err))
    ck_abort_msg ("registering %s: %s", probe_type.name, err->message);
}

char *
c21_probe_at (const char *file, int line, ReferralEngine *e, const char *key)
{
  ReferralEvent ev = tu_command ("probe", "probe", key, NULL, NULL);
  g_autoptr (GError) err = tu_apply_fail_at (file, line, e, &ev, REFERRAL_ERROR_REJECTED);
  g_autofree char *prefix = g_strdup_printf ("probe \"%s\": ", key);
  if (!g_str_has_prefix (err->message, prefix))
    _ck_assert_failed (file, line, "probe", "probe message without prefix: %s",
                       err->message);
  return g_strdup (err->message + strlen (prefix));
}

/* ---- ledger text --------------------------------------------------------- */

char *
c21_postings_text (const ReferralEngine *e, ReferralApplyResult r)
{
  const ReferralLedger *l = referral_engine_ledger (e);
  GString *s = g_string_new (NULL);
  guint64 first = 0, n = 0;
  referral_ledger_event_postings (l, r.seq, &first, &n);
  for (guint64 i = first; i < first + n; i++)
    {
      const ReferralPosting *p = referral_ledger_posting (l, i);
      g_autofree char *from = referral_ledger_account_name (l, p->from);
      g_autofree char *to = referral_ledger_account_name (l, p->to);
      if (i > first)
        g_string_append (s, "; ");
      g_string_append_printf (s, "%s%s %s>%s %" G_GINT64_FORMAT,
                              (p->flags & REFERRAL_POSTING_REVERSAL) ? "-" : "",
                              referral_ledger_kind_name (l, p->kind), from, to, p->amount);
    }
  return g_string_free (s, FALSE);
}

/* ---- the subscriber log -------------------------------------------------- */

static const char *
key_of (C21Log *log, ReferralMember m)
{
  return m == REFERRAL_NO_MEMBER ? "-" : referral_tree_key (referral_engine_tree (log->engine), m);
}

static const char *
rank_of (C21Log *log, ReferralRank r)
{
  return referral_scheme_rank_name (referral_engine_scheme (log->engine), r);
}

static void
log_rank (gpointer user_data, ReferralMember member, ReferralRank old_rank,
          ReferralRank new_rank)
{
  C21Log *log = user_data;
  g_string_append_printf (log->text, "rank %s %s>%s; ", key_of (log, member),
                          rank_of (log, old_rank), rank_of (log, new_rank));
}

static void
log_moved (gpointer user_data, ReferralMember member, ReferralMember old_parent,
           ReferralMember new_parent)
{
  C21Log *log = user_data;
  g_string_append_printf (log->text, "move %s %s>%s; ", key_of (log, member),
                          key_of (log, old_parent), key_of (log, new_parent));
}

static void
log_released (gpointer user_data, ReferralMember member, gint64 amount, guint64 index)
{
  C21Log *log = user_data;
  g_string_append_printf (log->text, "release %s %" G_GINT64_FORMAT "; ", key_of (log, member),
                          amount);
}

static void
log_applied (gpointer user_data, const ReferralEvent *event, guint32 seq)
{
  C21Log *log = user_data;
  g_string_append (log->text, "applied; ");
}

void
c21_log_start (C21Log *log, ReferralEngine *e)
{
  static const ReferralSubscriber sub = {
    .version = REFERRAL_SUBSCRIBER_VERSION,
    .applied = log_applied,
    .rank_changed = log_rank,
    .moved = log_moved,
    .released = log_released,
  };
  log->engine = e;
  log->text = g_string_new (NULL);
  log->id = referral_engine_subscribe (e, &sub, log, NULL);
}

char *
c21_log_take (C21Log *log)
{
  char *text = g_strdup (log->text->str);
  g_string_truncate (log->text, 0);
  return text;
}

void
c21_log_stop (C21Log *log)
{
  referral_engine_unsubscribe (log->engine, log->id);
  g_string_free (log->text, TRUE);
  log->text = NULL;
}
