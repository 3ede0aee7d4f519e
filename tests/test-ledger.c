/* The double-entry ledger: account numbering and names, pools, postings and
 * their kinds and causes, per-event ranges, explain, conservation and
 * overflow rejection. */
#include "testutil.h"

#include <string.h>

/* test_pool: declares pool `pool`; for every sale posting it moves `rate` of
 * the sale from the platform into the pool, caused by the sale posting. */
typedef struct {
  ReferralAccount pool;
  ReferralRate rate;
  ReferralKind kind;
} PoolConfig;

static const ReferralParamSpec pool_params[] = {
  { "pool", REFERRAL_PARAM_STRING, "bonus", "pool name" },
  { "rate", REFERRAL_PARAM_RATE, "1%", "share of each sale" },
  { NULL, 0, NULL, NULL },
};

static gboolean
pool_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
           GError **error)
{
  PoolConfig *c = g_new0 (PoolConfig, 1);
  c->pool = referral_setup_pool (setup, referral_params_string (params, "pool"));
  c->rate = referral_params_rate (params, "rate");
  c->kind = referral_setup_kind (setup, "pool_share");
  *config = c;
  return TRUE;
}

static gboolean
pool_on_posting (ReferralCtx *ctx, gconstpointer config, const ReferralPosting *posting,
                 guint64 index, GError **error)
{
  const PoolConfig *c = config;
  if (posting->kind != REFERRAL_KIND_SALE)
    return TRUE;
  gint64 share = 0;
  if (!referral_rate_apply (c->rate, posting->amount, &share, error))
    return FALSE;
  if (share <= 0)
    return TRUE;
  return referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM, c->pool, share, c->kind,
                            index, NULL, error);
}

static const ReferralRuleType pool_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "test_pool",
  .description = "test rule: a share of every sale into a pool",
  .params = pool_params,
  .init = pool_init,
  .free_config = g_free,
  .on_posting = pool_on_posting,
};

static const char *const two_ranks[] = { "user", "member", NULL };

/* direct_award 5%/10%, then pools bonus (1%), reserve (2%), bonus (3%). */
static ReferralEngine *
pool_engine (void)
{
  g_autoptr (ReferralScheme) scheme = tu_scheme_build (
    "ledger", two_ranks,
    "direct_award", "direct", (const char *const[]) { "rates", "5%, 10%", NULL },
    "test_pool", "bonus1", (const char *const[]) { "pool", "bonus", "rate", "1%", NULL },
    "test_pool", "reserve", (const char *const[]) { "pool", "reserve", "rate", "2%", NULL },
    "test_pool", "bonus2", (const char *const[]) { "pool", "bonus", "rate", "3%", NULL },
    NULL);
  return tu_engine_new (scheme);
}

#define assert_posting(l, i, amt, frm, too, knd, rul, flg) \
  assert_posting_at (__FILE__, __LINE__, (l), (i), (amt), (frm), (too), (knd), (rul), (flg))
static void
assert_posting_at (const char *file, int line, const ReferralLedger *l, guint64 i,
                   gint64 amount, ReferralAccount from, ReferralAccount to,
                   const char *kind, guint rule, guint flags)
{
  if (i >= referral_ledger_n_postings (l))
    _ck_assert_failed (file, line, "no posting", "posting %" G_GUINT64_FORMAT
                       " does not exist", i);
  const ReferralPosting *p = referral_ledger_posting (l, i);
  const char *kname = referral_ledger_kind_name (l, p->kind);
  if (p->amount != amount || p->from != from || p->to != to
      || g_strcmp0 (kname, kind) != 0 || p->rule != rule || p->flags != flags)
    _ck_assert_failed (file, line, "wrong posting",
                       "posting %" G_GUINT64_FORMAT ": %" G_GINT64_FORMAT " %u->%u %s rule %u"
                       " flags %u; want %" G_GINT64_FORMAT " %u->%u %s rule %u flags %u",
                       i, p->amount, p->from, p->to, kname, p->rule, p->flags,
                       amount, from, to, kind, rule, flags);
}

START_TEST (test_accounts)
{
  g_autoptr (ReferralEngine) e = pool_engine ();
  const ReferralLedger *l = referral_engine_ledger (e);
  ck_assert_uint_eq (REFERRAL_ACCOUNT_OUTSIDE, 0);
  ck_assert_uint_eq (REFERRAL_ACCOUNT_PLATFORM, 1);
  ck_assert_uint_eq (referral_ledger_n_pools (l), 2);
  ck_assert_uint_eq (referral_ledger_n_accounts (l), 4);
  ck_assert_uint_eq (referral_ledger_pool_account (l, 0), 2);
  ck_assert_uint_eq (referral_ledger_pool_account (l, 1), 3);
  ck_assert_str_eq (referral_ledger_pool_name (l, 0), "bonus");
  ck_assert_str_eq (referral_ledger_pool_name (l, 1), "reserve");
  ck_assert_uint_eq (referral_ledger_lookup_pool (l, "bonus"), 2);
  ck_assert_uint_eq (referral_ledger_lookup_pool (l, "reserve"), 3);
  ck_assert_uint_eq (referral_ledger_lookup_pool (l, "nope"), REFERRAL_NO_ACCOUNT);
  ck_assert_uint_eq (referral_ledger_lookup_pool (l, "pool:bonus"), REFERRAL_NO_ACCOUNT);

  ev_join (e, "j1", "A", NULL);
  ev_join (e, "j2", "B", "A");
  ev_join (e, "j3", "C", "B");
  ck_assert_uint_eq (referral_ledger_n_accounts (l), 4 + 2 * 3);
  const char *keys[] = { "A", "B", "C" };
  for (guint i = 0; i < 3; i++)
    {
      ReferralMember m = tu_member (e, keys[i]);
      ck_assert_uint_eq (referral_ledger_member_account (l, m, FALSE), 4 + 2 * i);
      ck_assert_uint_eq (referral_ledger_member_account (l, m, TRUE), 5 + 2 * i);
      gboolean held = TRUE;
      ck_assert_uint_eq (referral_ledger_account_member (l, 4 + 2 * i, &held), m);
      ck_assert (!held);
      ck_assert_uint_eq (referral_ledger_account_member (l, 5 + 2 * i, &held), m);
      ck_assert (held);
      ck_assert_uint_eq (referral_ledger_account_member (l, 5 + 2 * i, NULL), m);
      g_autofree char *avail = referral_ledger_account_name (l, 4 + 2 * i);
      g_autofree char *held_name = referral_ledger_account_name (l, 5 + 2 * i);
      g_autofree char *want_a = g_strdup_printf ("%s:available", keys[i]);
      g_autofree char *want_h = g_strdup_printf ("%s:held", keys[i]);
      ck_assert_str_eq (avail, want_a);
      ck_assert_str_eq (held_name, want_h);
    }
  for (ReferralAccount a = 0; a < 4; a++)
    ck_assert_uint_eq (referral_ledger_account_member (l, a, NULL), REFERRAL_NO_MEMBER);
  const char *names[] = { "outside", "platform", "pool:bonus", "pool:reserve" };
  for (ReferralAccount a = 0; a < 4; a++)
    {
      g_autofree char *n = referral_ledger_account_name (l, a);
      ck_assert_str_eq (n, names[a]);
    }
  for (ReferralAccount a = 0; a < referral_ledger_n_accounts (l); a++)
    ck_assert_int_eq (referral_ledger_balance (l, a), 0);
  ck_assert_uint_eq (referral_ledger_n_postings (l), 0);
}
END_TEST

START_TEST (test_kinds)
{
  g_autoptr (ReferralEngine) e = pool_engine ();
  const ReferralLedger *l = referral_engine_ledger (e);
  const char *builtin[] = { "sale", "withdraw", "hold", "release" };
  const ReferralKind ids[] = { REFERRAL_KIND_SALE, REFERRAL_KIND_WITHDRAW,
                               REFERRAL_KIND_HOLD, REFERRAL_KIND_RELEASE };
  for (guint i = 0; i < 4; i++)
    {
      ck_assert_uint_eq (ids[i], i);
      ReferralKind k = 999;
      ck_assert (referral_ledger_lookup_kind (l, builtin[i], &k));
      ck_assert_uint_eq (k, i);
      ck_assert_str_eq (referral_ledger_kind_name (l, i), builtin[i]);
    }
  ReferralKind direct = 0, share = 0;
  ck_assert (referral_ledger_lookup_kind (l, "direct", &direct));
  ck_assert (referral_ledger_lookup_kind (l, "pool_share", &share));
  ck_assert_uint_ge (direct, 4);
  ck_assert_uint_ge (share, 4);
  ck_assert_uint_ne (direct, share);
  ck_assert_str_eq (referral_ledger_kind_name (l, direct), "direct");
  ck_assert_str_eq (referral_ledger_kind_name (l, share), "pool_share");
  ReferralKind untouched = 77;
  ck_assert (!referral_ledger_lookup_kind (l, "no_such_kind", &untouched));
  ck_assert_uint_eq (untouched, 77);
}
END_TEST

START_TEST (test_postings)
{
  g_autoptr (ReferralEngine) e = pool_engine ();
  const ReferralLedger *l = referral_engine_ledger (e);
  ev_join (e, "j1", "A", NULL);
  ev_join (e, "j2", "B", "A");
  ReferralApplyResult rj = ev_join (e, "j3", "C", "B");
  ck_assert_uint_eq (rj.n_postings, 0);
  const ReferralAccount bonus = 2, reserve = 3, a_av = 4, b_av = 6;

  /* C buys 100.00: the sale, then three pool shares caused by it (the
   * on_posting hooks run right after the sale is proposed, in rule order),
   * then B's direct award (5%: B is a user). */
  ReferralApplyResult r = ev_order (e, "e-o1", "o1", "C", 10000, NULL);
  ck_assert_uint_eq (r.seq, 3);
  ck_assert_uint_eq (r.first_posting, 0);
  ck_assert_uint_eq (r.n_postings, 5);
  ck_assert_uint_eq (referral_ledger_n_postings (l), 5);
  assert_posting (l, 0, 10000, REFERRAL_ACCOUNT_OUTSIDE, REFERRAL_ACCOUNT_PLATFORM, "sale", 0, 0);
  assert_posting (l, 1, 100, REFERRAL_ACCOUNT_PLATFORM, bonus, "pool_share", 2, 0);
  assert_posting (l, 2, 200, REFERRAL_ACCOUNT_PLATFORM, reserve, "pool_share", 3, 0);
  assert_posting (l, 3, 300, REFERRAL_ACCOUNT_PLATFORM, bonus, "pool_share", 4, 0);
  assert_posting (l, 4, 500, REFERRAL_ACCOUNT_PLATFORM, b_av, "direct", 1, 0);
  for (guint64 i = 0; i < 5; i++)
    ck_assert_uint_eq (referral_ledger_posting (l, i)->event, 3);
  ck_assert_uint_eq (referral_posting_cause (referral_ledger_posting (l, 0), 0),
                     REFERRAL_NO_POSTING);
  ck_assert_uint_eq (referral_ledger_posting (l, 0)->cause_delta, 0);
  for (guint64 i = 1; i <= 3; i++)
    {
      ck_assert_uint_eq (referral_posting_cause (referral_ledger_posting (l, i), i), 0);
      ck_assert_uint_eq (referral_ledger_posting (l, i)->cause_delta, i);
    }

  ck_assert_int_eq (tu_outside (e), -10000);
  ck_assert_int_eq (tu_platform (e), 10000 - 600 - 500);
  ck_assert_int_eq (referral_ledger_balance (l, bonus), 400);
  ck_assert_int_eq (referral_ledger_balance (l, reserve), 200);
  ck_assert_int_eq (referral_ledger_balance (l, b_av), 500);
  ck_assert_int_eq (referral_ledger_balance (l, a_av), 0);
  ck_assert (referral_ledger_is_balanced (l));

  /* B buys 50.00 after A became a member: A gets 10%. */
  ev_promote (e, "e-p", "A", "member");
  r = ev_order (e, "e-o2", "o2", "B", 5000, "pack");
  ck_assert_uint_eq (r.first_posting, 5);
  ck_assert_uint_eq (r.n_postings, 5);
  assert_posting (l, 5, 5000, REFERRAL_ACCOUNT_OUTSIDE, REFERRAL_ACCOUNT_PLATFORM, "sale", 0, 0);
  assert_posting (l, 6, 50, REFERRAL_ACCOUNT_PLATFORM, bonus, "pool_share", 2, 0);
  assert_posting (l, 7, 100, REFERRAL_ACCOUNT_PLATFORM, reserve, "pool_share", 3, 0);
  assert_posting (l, 8, 150, REFERRAL_ACCOUNT_PLATFORM, bonus, "pool_share", 4, 0);
  assert_posting (l, 9, 500, REFERRAL_ACCOUNT_PLATFORM, a_av, "direct", 1, 0);
  ck_assert_uint_eq (referral_posting_cause (referral_ledger_posting (l, 8), 8), 5);

  r = ev_withdraw (e, "e-w", "B", 300);
  ck_assert_uint_eq (r.first_posting, 10);
  ck_assert_uint_eq (r.n_postings, 1);
  assert_posting (l, 10, 300, b_av, REFERRAL_ACCOUNT_OUTSIDE, "withdraw", 0, 0);
  ck_assert_int_eq (referral_ledger_balance (l, b_av), 200);
  ck_assert_int_eq (tu_outside (e), -15000 + 300);

  /* event_postings agrees with what apply reported, for every event. */
  const guint64 want_first[] = { 0, 0, 0, 0, 5, 5, 10 };
  const guint64 want_n[] = { 0, 0, 0, 5, 0, 5, 1 };
  ck_assert_uint_eq (referral_engine_n_events (e), 7);
  for (guint32 seq = 0; seq < 7; seq++)
    {
      guint64 first = 99, n = 99;
      referral_ledger_event_postings (l, seq, &first, &n);
      ck_assert_uint_eq (n, want_n[seq]);
      if (n > 0)
        ck_assert_uint_eq (first, want_first[seq]);
      for (guint64 i = first; i < first + n; i++)
        ck_assert_uint_eq (referral_ledger_posting (l, i)->event, seq);
    }
  ck_assert (referral_ledger_is_balanced (l));
  ck_assert (referral_engine_check_invariants (e, NULL));
}
END_TEST

static void
assert_explain (const ReferralEngine *e, const char *key, const guint64 *want, guint n_want)
{
  const ReferralLedger *l = referral_engine_ledger (e);
  ReferralMember m = tu_member (e, key);
  g_autoptr (GArray) got = referral_ledger_explain (l, m);
  ck_assert_ptr_nonnull (got);
  ck_assert_uint_eq (g_array_get_element_size (got), sizeof (guint64));
  GString *g = g_string_new (NULL), *w = g_string_new (NULL);
  for (guint i = 0; i < got->len; i++)
    g_string_append_printf (g, "%" G_GUINT64_FORMAT ",", g_array_index (got, guint64, i));
  for (guint i = 0; i < n_want; i++)
    g_string_append_printf (w, "%" G_GUINT64_FORMAT ",", want[i]);
  ck_assert_msg (strcmp (g->str, w->str) == 0, "explain %s: [%s], want [%s]", key,
                 g->str, w->str);
  g_string_free (g, TRUE);
  g_string_free (w, TRUE);

  /* And it is exactly the postings that touch one of the member's accounts. */
  ReferralAccount av = referral_ledger_member_account (l, m, FALSE);
  ReferralAccount held = referral_ledger_member_account (l, m, TRUE);
  guint k = 0;
  for (guint64 i = 0; i < referral_ledger_n_postings (l); i++)
    {
      const ReferralPosting *p = referral_ledger_posting (l, i);
      if (p->from == av || p->to == av || p->from == held || p->to == held)
        {
          ck_assert_uint_lt (k, got->len);
          ck_assert_uint_eq (g_array_index (got, guint64, k), i);
          k++;
        }
    }
  ck_assert_uint_eq (k, got->len);
}

START_TEST (test_explain)
{
  g_autoptr (ReferralEngine) e = pool_engine ();
  ev_join (e, "j1", "A", NULL);
  ev_join (e, "j2", "B", "A");
  ev_join (e, "j3", "C", "B");
  assert_explain (e, "A", NULL, 0);
  ev_order (e, "e-o1", "o1", "C", 10000, NULL);   /* postings 0..4, B gets 4 */
  ev_order (e, "e-o2", "o2", "B", 5000, NULL);    /* postings 5..9, A gets 9 */
  ev_withdraw (e, "e-w", "B", 300);               /* posting 10 */
  ev_order (e, "e-o3", "o3", "A", 2000, NULL);    /* 11..14: A is a root */
  ev_order (e, "e-o4", "o4", "C", 2000, NULL);    /* 15..19, B gets 19 */
  ev_refund (e, "e-r1", "o1");                    /* 20..24 reversals, B pays 20 */
  assert_explain (e, "A", (const guint64[]) { 9 }, 1);
  assert_explain (e, "B", (const guint64[]) { 4, 10, 19, 20 }, 4);
  assert_explain (e, "C", NULL, 0);
  ck_assert_int_eq (tu_available (e, "B"), 500 - 300 + 100 - 500);
  ck_assert_int_eq (tu_available (e, "A"), 250);
}
END_TEST

/* A posting that would overflow a balance rejects the whole event. */
START_TEST (test_overflow)
{
  g_autoptr (ReferralEngine) e = tu_demo_engine ();
  const ReferralLedger *l = referral_engine_ledger (e);
  ev_join (e, "j1", "A", NULL);
  const gint64 huge = G_MAXINT64 - 5;
  ev_order (e, "e-o1", "o1", "A", huge, NULL);
  ck_assert_int_eq (tu_platform (e), huge);
  ck_assert_int_eq (tu_outside (e), -huge);
  ck_assert (referral_ledger_is_balanced (l));

  TuSnapshot before;
  tu_snapshot_take (&before, e);
  ReferralEvent ev = tu_order ("e-o2", "o2", "A", huge, NULL);
  apply_reject (e, &ev, REFERRAL_ERROR_OVERFLOW);
  assert_snapshot_equal (&before, e);
  ReferralOrder o;
  ck_assert (!referral_engine_lookup_order (e, "o2", &o));
  /* Even 6 more minor units do not fit in the platform's balance. */
  ReferralEvent ev6 = tu_order ("e-o3", "o3", "A", 6, NULL);
  apply_reject (e, &ev6, REFERRAL_ERROR_OVERFLOW);
  assert_snapshot_equal (&before, e);
  tu_snapshot_clear (&before);
  /* 5 do. */
  ev_order (e, "e-o4", "o4", "A", 5, NULL);
  ck_assert_int_eq (tu_platform (e), G_MAXINT64);
  ck_assert (referral_ledger_is_balanced (l));
  ck_assert (referral_engine_check_invariants (e, NULL));

  /* With a sponsor: the first huge order pays S its 5%; the second
   * overflows the platform's balance and is rejected whole, S's award
   * included. */
  g_autoptr (ReferralEngine) e2 = tu_demo_engine ();
  ev_join (e2, "j1", "S", NULL);
  ev_join (e2, "j2", "T", "S");
  ev_order (e2, "e-o1", "o1", "T", G_MAXINT64, NULL);
  ck_assert_int_eq (tu_available (e2, "S"), G_MAXINT64 / 20);
  tu_snapshot_take (&before, e2);
  ReferralEvent ev2 = tu_order ("e-o2", "o2", "T", G_MAXINT64, NULL);
  apply_reject (e2, &ev2, REFERRAL_ERROR_OVERFLOW);
  assert_snapshot_equal (&before, e2);
  tu_snapshot_clear (&before);
}
END_TEST

int
main (void)
{
  g_autoptr (GError) err = NULL;
  if (!referral_rule_type_register (&pool_type, &err))
    g_error ("registering test_pool: %s", err->message);
  Suite *s = suite_create ("ledger");
  TCase *tc = tu_tcase (s, "ledger", 60);
  tcase_add_test (tc, test_accounts);
  tcase_add_test (tc, test_kinds);
  tcase_add_test (tc, test_postings);
  tcase_add_test (tc, test_explain);
  tcase_add_test (tc, test_overflow);
  return tu_run_suites (s, NULL);
}
