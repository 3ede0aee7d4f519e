/* Refunds: every posting of the order's event reversed by a new posting
 * (flag REVERSAL, same kind and amount, accounts swapped, cause = the
 * original, last first), rules' on_reverse (skip, redirect) and on_refund,
 * errors, and balances back to what they were before the order. */
#include "testutil.h"

#include <string.h>

/* ---- test_holdrule ------------------------------------------------------ */

/* On every order: the buyer's sponsor gets 10% (kind "award"), 20% of which
 * is held at once (caused by the award).  The command "release" releases
 * member's held funds.  on_reverse: the reversal of a hold whose funds were
 * released since is skipped; the reversal of an award to a member whose key
 * starts with "vip" is taken from its held funds instead.  on_refund
 * records what it saw in `refund_seen`. */
typedef struct {
  ReferralKind award;
} HoldConfig;

static struct {
  guint calls;
  gboolean refunded;
  ReferralMember buyer;
  guint64 n_postings;
  guint reverse_calls;
} refund_seen;

static const ReferralParamSpec no_params[] = { { NULL, 0, NULL, NULL } };

static gboolean
hold_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
           GError **error)
{
  HoldConfig *c = g_new0 (HoldConfig, 1);
  c->award = referral_setup_kind (setup, "award");
  *config = c;
  return referral_setup_command (setup, "release", error);
}

static gboolean
hold_on_order (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order,
               GError **error)
{
  const HoldConfig *c = config;
  const ReferralTree *t = referral_ctx_tree (ctx);
  const ReferralLedger *l = referral_ctx_ledger (ctx);
  ReferralMember s = referral_tree_sponsor (t, order->buyer);
  if (s == REFERRAL_NO_MEMBER)
    return TRUE;
  gint64 award = order->amount / 10;
  guint64 idx;
  if (award <= 0)
    return TRUE;
  if (!referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM,
                          referral_ledger_member_account (l, s, FALSE), award, c->award,
                          REFERRAL_NO_POSTING, &idx, error))
    return FALSE;
  gint64 held = award / 5;
  return held <= 0 || referral_ctx_hold (ctx, s, held, idx, error);
}

static gboolean
hold_on_command (ReferralCtx *ctx, gconstpointer config, const ReferralEvent *event,
                 GError **error)
{
  ReferralMember m = referral_tree_lookup (referral_ctx_tree (ctx), event->member);
  return referral_ctx_release (ctx, m, NULL, error);
}

static gboolean
hold_on_reverse (ReferralCtx *ctx, gconstpointer config, const ReferralPosting *original,
                 guint64 original_index, ReferralPosting *reversal, gboolean *skip,
                 GError **error)
{
  const HoldConfig *c = config;
  const ReferralLedger *l = referral_ctx_ledger (ctx);
  refund_seen.reverse_calls++;
  if (original->kind == REFERRAL_KIND_HOLD)
    {
      /* reversal: held -> available */
      if (referral_ledger_balance (l, reversal->from) < reversal->amount)
        *skip = TRUE;
    }
  else if (original->kind == c->award)
    {
      gboolean held = FALSE;
      ReferralMember m = referral_ledger_account_member (l, original->to, &held);
      const char *key = referral_tree_key (referral_ctx_tree (ctx), m);
      if (g_str_has_prefix (key, "vip"))
        reversal->from = referral_ledger_member_account (l, m, TRUE);
    }
  return TRUE;
}

static gboolean
hold_on_refund (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order,
                GError **error)
{
  refund_seen.calls++;
  refund_seen.refunded = order->refunded;
  refund_seen.buyer = order->buyer;
  refund_seen.n_postings = referral_ledger_n_postings (referral_ctx_ledger (ctx));
  return TRUE;
}

static const ReferralRuleType hold_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "test_holdrule",
  .description = "test rule: awards with a held part",
  .params = no_params,
  .init = hold_init,
  .free_config = g_free,
  .on_order = hold_on_order,
  .on_command = hold_on_command,
  .on_reverse = hold_on_reverse,
  .on_refund = hold_on_refund,
};

static ReferralEngine *
hold_engine (void)
{
  g_autoptr (ReferralScheme) s = tu_scheme_build (
    "hold", NULL, "test_holdrule", "hold", NULL, NULL);
  return tu_engine_new (s);
}

/* ---- helpers -------------------------------------------------------------- */

#define assert_balances_equal(a, b) assert_balances_equal_at (__FILE__, __LINE__, (a), (b))
static void
assert_balances_equal_at (const char *file, int line, GArray *want, GArray *got)
{
  if (want->len != got->len)
    _ck_assert_failed (file, line, "accounts", "%u accounts, want %u", got->len, want->len);
  for (guint i = 0; i < want->len; i++)
    if (g_array_index (want, gint64, i) != g_array_index (got, gint64, i))
      _ck_assert_failed (file, line, "balance", "account %u: %" G_GINT64_FORMAT
                         ", want %" G_GINT64_FORMAT, i, g_array_index (got, gint64, i),
                         g_array_index (want, gint64, i));
}

/* The refund applied as @rr reverses the order applied as @ro exactly:
 * one reversal per original, last first, with @n_skipped of them missing
 * (checked by the caller) — here, none. */
static void
assert_reverses (const ReferralEngine *e, ReferralApplyResult ro, ReferralApplyResult rr)
{
  const ReferralLedger *l = referral_engine_ledger (e);
  ck_assert_uint_eq (rr.n_postings, ro.n_postings);
  for (guint64 k = 0; k < rr.n_postings; k++)
    {
      guint64 ri = rr.first_posting + k;
      guint64 oi = ro.first_posting + ro.n_postings - 1 - k;
      const ReferralPosting *r = referral_ledger_posting (l, ri);
      const ReferralPosting *o = referral_ledger_posting (l, oi);
      ck_assert_msg (r->flags & REFERRAL_POSTING_REVERSAL, "posting %" G_GUINT64_FORMAT
                     " has flags %u", ri, r->flags);
      ck_assert_uint_eq (o->flags & REFERRAL_POSTING_REVERSAL, 0);
      ck_assert_int_eq (r->amount, o->amount);
      ck_assert_uint_eq (r->from, o->to);
      ck_assert_uint_eq (r->to, o->from);
      ck_assert_uint_eq (r->kind, o->kind);
      ck_assert_uint_eq (r->event, rr.seq);
      ck_assert_uint_eq (referral_posting_cause (r, ri), oi);
    }
}

/* ---- tests ------------------------------------------------------------- */

START_TEST (test_refund_demo)
{
  g_autoptr (ReferralEngine) e = tu_demo_engine ();
  const ReferralLedger *l = referral_engine_ledger (e);
  ev_join (e, "jR", "R", NULL);
  ev_join (e, "jA", "A", "R");
  ev_join (e, "jB", "B", "A");
  ev_join (e, "jC", "C", "B");
  ev_promote (e, "pA", "A", "member");
  ev_promote (e, "pB", "B", "member");
  ev_order (e, "e-o0", "o0", "B", 10000, NULL);   /* A: 10% + 5% */
  g_autoptr (GArray) before = tu_balances_dup (e);
  TuSnapshot snap;
  tu_snapshot_take (&snap, e);

  ReferralApplyResult ro = ev_order (e, "e-o1", "o1", "C", 69900, NULL);
  ck_assert_uint_eq (ro.n_postings, 4);   /* sale, direct B, unilevel B, unilevel A */
  ck_assert_int_eq (tu_available (e, "B"), 6990 + 3495);
  ck_assert_int_eq (tu_available (e, "A"), 1500 + 2097);

  ReferralApplyResult rr = ev_refund (e, "e-r1", "o1");
  ck_assert_uint_eq (rr.first_posting, ro.first_posting + ro.n_postings);
  assert_reverses (e, ro, rr);
  /* The first reversal undoes the last posting, the last undoes the sale. */
  const ReferralPosting *last = referral_ledger_posting (l, rr.first_posting + 3);
  ck_assert_uint_eq (last->from, REFERRAL_ACCOUNT_PLATFORM);
  ck_assert_uint_eq (last->to, REFERRAL_ACCOUNT_OUTSIDE);
  ck_assert_uint_eq (last->kind, REFERRAL_KIND_SALE);
  ck_assert_int_eq (last->amount, 69900);

  g_autoptr (GArray) after = tu_balances_dup (e);
  assert_balances_equal (before, after);
  ck_assert_int_eq (tu_available (e, "B"), 0);
  ck_assert_int_eq (tu_available (e, "A"), 1500);
  ck_assert (referral_ledger_is_balanced (l));

  /* Only money moved back: members, ranks and placement are as they were. */
  const ReferralTree *t = referral_engine_tree (e);
  ck_assert_uint_eq (referral_tree_rank (t, tu_member (e, "B")), 1);
  ck_assert_uint_eq (referral_tree_parent (t, tu_member (e, "C")), tu_member (e, "B"));
  ck_assert_uint_eq (referral_tree_size (t), snap.n_members);
  tu_snapshot_clear (&snap);

  ReferralOrder o;
  ck_assert (referral_engine_lookup_order (e, "o1", &o));
  ck_assert (o.refunded);
  ck_assert_int_eq (o.amount, 69900);
  ck_assert (referral_engine_lookup_order (e, "o0", &o));
  ck_assert (!o.refunded);

  /* Refund twice; refund of an unknown order. */
  ReferralEvent again = tu_refund ("e-r2", "o1");
  g_autoptr (GError) err = apply_fail (e, &again, REFERRAL_ERROR_ALREADY_REFUNDED);
  assert_error (err, REFERRAL_ERROR_ALREADY_REFUNDED,
                "refund \"o1\": order \"o1\" was already refunded");
  ReferralEvent unknown = tu_refund ("e-r3", "o404");
  g_autoptr (GError) err2 = apply_fail (e, &unknown, REFERRAL_ERROR_UNKNOWN_ORDER);
  assert_contains (err2->message, "o404");
  /* The same refund event again is a duplicate, not a second refund. */
  ReferralEvent dup = tu_refund ("e-r1", "o1");
  apply_dup (e, &dup);
  /* A refunded order's id cannot be ordered again. */
  ReferralEvent reorder = tu_order ("e-o1b", "o1", "C", 100, NULL);
  apply_reject (e, &reorder, REFERRAL_ERROR_DUPLICATE_ORDER);
}
END_TEST

START_TEST (test_refund_after_changes)
{
  g_autoptr (ReferralEngine) e = tu_demo_engine ();
  ev_join (e, "jA", "A", NULL);
  ev_join (e, "jB", "B", "A");
  ReferralApplyResult ro = ev_order (e, "e-o1", "o1", "B", 10000, NULL);
  ck_assert_int_eq (tu_available (e, "A"), 500);   /* A is a user: 5% */
  /* A promotion and a period close since the order change nothing: the
   * refund reverses what was actually posted. */
  ev_promote (e, "pA", "A", "member");
  ev_close (e, "c1", "p1");
  ev_withdraw (e, "w1", "A", 200);
  ReferralApplyResult rr = ev_refund (e, "e-r1", "o1");
  assert_reverses (e, ro, rr);
  /* Available funds may go negative: A owes back what it withdrew. */
  ck_assert_int_eq (tu_available (e, "A"), -200);
  ck_assert_int_eq (tu_platform (e), 0);
  ck_assert_int_eq (tu_outside (e), 200);
  ck_assert (referral_ledger_is_balanced (referral_engine_ledger (e)));
  ck_assert (referral_engine_check_invariants (e, NULL));
  /* A member that owes cannot withdraw. */
  ReferralEvent w = tu_withdraw ("w2", "A", 1);
  apply_reject (e, &w, REFERRAL_ERROR_INSUFFICIENT_FUNDS);

  /* A root's order: only the sale to reverse. */
  ReferralApplyResult ro2 = ev_order (e, "e-o2", "o2", "A", 5000, NULL);
  ck_assert_uint_eq (ro2.n_postings, 1);
  ReferralApplyResult rr2 = ev_refund (e, "e-r2", "o2");
  assert_reverses (e, ro2, rr2);
}
END_TEST

START_TEST (test_refund_hooks)
{
  g_autoptr (ReferralEngine) e = hold_engine ();
  ev_join (e, "jA", "A", NULL);
  ev_join (e, "jB", "B", "A");
  g_autoptr (GArray) before = tu_balances_dup (e);
  ReferralApplyResult ro = ev_order (e, "e-o1", "o1", "B", 10000, NULL);
  ck_assert_uint_eq (ro.n_postings, 3);    /* sale, award 1000, hold 200 */
  ck_assert_int_eq (tu_available (e, "A"), 800);
  ck_assert_int_eq (tu_held (e, "A"), 200);
  const ReferralLedger *l = referral_engine_ledger (e);
  const ReferralPosting *hold = referral_ledger_posting (l, ro.first_posting + 2);
  ck_assert_uint_eq (hold->kind, REFERRAL_KIND_HOLD);
  ck_assert_uint_eq (referral_posting_cause (hold, ro.first_posting + 2), ro.first_posting + 1);

  memset (&refund_seen, 0, sizeof refund_seen);
  ReferralApplyResult rr = ev_refund (e, "e-r1", "o1");
  assert_reverses (e, ro, rr);
  ck_assert_uint_eq (refund_seen.reverse_calls, 3);
  ck_assert_uint_eq (refund_seen.calls, 1);
  ck_assert (refund_seen.refunded);               /* marked before on_refund */
  ck_assert_uint_eq (refund_seen.buyer, tu_member (e, "B"));
  ck_assert_uint_eq (refund_seen.n_postings, rr.first_posting + 3);  /* after the reversals */
  g_autoptr (GArray) after = tu_balances_dup (e);
  assert_balances_equal (before, after);
}
END_TEST

START_TEST (test_refund_skip_and_redirect)
{
  g_autoptr (ReferralEngine) e = hold_engine ();
  const ReferralLedger *l = referral_engine_ledger (e);
  ev_join (e, "jA", "A", NULL);
  ev_join (e, "jB", "B", "A");
  ev_join (e, "jV", "vip", "A");
  ev_join (e, "jW", "W", "vip");

  /* The held part was released since: its reversal is skipped, and the
   * award is taken back from available funds. */
  ReferralApplyResult ro = ev_order (e, "e-o1", "o1", "B", 10000, NULL);
  ReferralEvent rel = tu_command ("rel", "release", "A", NULL, NULL);
  apply_ok (e, &rel);
  ck_assert_int_eq (tu_available (e, "A"), 1000);
  ck_assert_int_eq (tu_held (e, "A"), 0);
  ReferralApplyResult rr = ev_refund (e, "e-r1", "o1");
  ck_assert_uint_eq (rr.n_postings, ro.n_postings - 1);
  const ReferralPosting *p0 = referral_ledger_posting (l, rr.first_posting);
  ck_assert_int_eq (p0->amount, 1000);
  ck_assert_uint_eq (referral_posting_cause (p0, rr.first_posting), ro.first_posting + 1);
  ck_assert (p0->flags & REFERRAL_POSTING_REVERSAL);
  ck_assert_int_eq (tu_available (e, "A"), 0);
  ck_assert_int_eq (tu_held (e, "A"), 0);

  /* A redirected reversal: vip's award is taken back from its held funds. */
  ev_order (e, "e-o2", "o2", "W", 5000, NULL);   /* vip: 500, 100 of it held */
  ck_assert_int_eq (tu_available (e, "vip"), 400);
  ck_assert_int_eq (tu_held (e, "vip"), 100);
  rr = ev_refund (e, "e-r2", "o2");
  ck_assert_uint_eq (rr.n_postings, 3);
  const ReferralPosting *award_rev = referral_ledger_posting (l, rr.first_posting + 1);
  ck_assert_uint_eq (award_rev->from, referral_ledger_member_account (l, tu_member (e, "vip"), TRUE));
  ck_assert_uint_eq (award_rev->to, REFERRAL_ACCOUNT_PLATFORM);
  ck_assert_int_eq (tu_available (e, "vip"), 500);
  ck_assert_int_eq (tu_held (e, "vip"), -500);
  ck_assert (referral_ledger_is_balanced (l));
  ck_assert (referral_engine_check_invariants (e, NULL));
}
END_TEST

START_TEST (test_refund_every_order)
{
  /* Many orders refunded in an arbitrary order: the balances come back to
   * what they were before the first order, and each refund moves exactly
   * the opposite of its order. */
  g_autoptr (ReferralEngine) e = tu_demo_engine ();
  const char *keys[] = { "m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7" };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autofree char *id = g_strdup_printf ("j%u", i);
      ev_join (e, id, keys[i], i ? keys[(i - 1) / 2] : NULL);
    }
  ev_promote (e, "p1", "m1", "member");
  ev_promote (e, "p2", "m0", "member");
  g_autoptr (GArray) before = tu_balances_dup (e);
  ReferralApplyResult orders[40];
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *id = g_strdup_printf ("e-o%u", i);
      g_autofree char *oid = g_strdup_printf ("o%u", i);
      orders[i] = ev_order (e, id, oid, keys[(i * 5) % 8], 1000 + 37 * i, i % 3 ? NULL : "pack");
      if (i == 20)
        ev_promote (e, "p3", "m3", "member");
    }
  for (guint k = 0; k < 40; k++)
    {
      guint i = (k * 17) % 40;
      g_autofree char *id = g_strdup_printf ("e-r%u", i);
      g_autofree char *oid = g_strdup_printf ("o%u", i);
      ReferralApplyResult rr = ev_refund (e, id, oid);
      assert_reverses (e, orders[i], rr);
    }
  g_autoptr (GArray) after = tu_balances_dup (e);
  assert_balances_equal (before, after);
}
END_TEST

int
main (void)
{
  g_autoptr (GError) err = NULL;
  if (!referral_rule_type_register (&hold_type, &err))
    g_error ("registering test_holdrule: %s", err->message);
  Suite *s = suite_create ("refund");
  TCase *tc = tu_tcase (s, "refund", 30);
  tcase_add_test (tc, test_refund_demo);
  tcase_add_test (tc, test_refund_after_changes);
  tcase_add_test (tc, test_refund_hooks);
  tcase_add_test (tc, test_refund_skip_and_redirect);
  tcase_add_test (tc, test_refund_every_order);
  return tu_run_suites (s, NULL);
}
