/* No quadratic path in chain 2+1: orders at the bottom of a very deep chain
 * of agents must not walk the whole chain every time (the team award's
 * superior is found through the tree's memoised nearest-ancestor query).
 *
 * A chain of DEPTH agents under one partner at the root is built with
 * join + promote events (which never look for a superior), then ORDERS gift
 * orders by the bottom agent each pay it a rebate and the root partner a
 * team award found DEPTH levels up.  A walk of the chain per order would
 * take ORDERS x DEPTH = 2 x 10^10 steps.  The bound adapts to the machine:
 * the test times one walk up the chain through the public tree API and
 * requires the ORDERS orders to take less than a tenth of ORDERS such walks
 * (on the machine this was written on: 0.08 s against about 40 s).
 *
 * The per-event invariant check is O(members), so the engine runs without
 * it (referral_engine_set_check_invariants (FALSE) wins over the
 * -Dinvariants=true default).  Should the check stay on anyway, building the
 * chain would be quadratic: the test then fails early, saying so, instead of
 * running for hours. */
#include "test-chain21-common.h"

#include <string.h>

#define DEPTH 1000000
#define ORDERS 20000
/* Building the first EARLY members takes well under a second unless every
 * event is checked in O(members). */
#define EARLY 20000
#define EARLY_BOUND 2.0

static void
apply_or_die (ReferralEngine *e, const ReferralEvent *ev)
{
  GError *err = NULL;
  if (!referral_engine_apply (e, ev, NULL, &err))
    ck_abort_msg ("event %s: %s", ev->id, err->message);
}

START_TEST (test_orders_at_the_bottom_of_a_deep_chain)
{
  g_autoptr (ReferralEngine) e = c21_engine ();
  /* O(members) per event: far too slow here, and not what is measured. */
  referral_engine_set_check_invariants (e, FALSE);
  char id[32], key[32], sponsor[32];

  gint64 t0 = g_get_monotonic_time ();
  ReferralEvent ev = tu_join ("j0", "c0", NULL);
  apply_or_die (e, &ev);
  ev = tu_promote ("p0", "c0", "partner");
  apply_or_die (e, &ev);
  for (guint i = 1; i <= DEPTH; i++)
    {
      g_snprintf (key, sizeof key, "c%u", i);
      g_snprintf (sponsor, sizeof sponsor, "c%u", i - 1);
      g_snprintf (id, sizeof id, "j%u", i);
      ev = tu_join (id, key, sponsor);
      apply_or_die (e, &ev);
      g_snprintf (id, sizeof id, "p%u", i);
      ev = tu_promote (id, key, "agent");
      apply_or_die (e, &ev);
      if (i == EARLY)
        {
          double early = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
          ck_assert_msg (early < EARLY_BOUND,
                         "building %d members took %.1f s: is the O(members) invariant "
                         "check still run after every event although "
                         "referral_engine_set_check_invariants (FALSE) was called?",
                         EARLY, early);
        }
    }
  gint64 t1 = g_get_monotonic_time ();
  double build = (double) (t1 - t0) / G_USEC_PER_SEC;

  const ReferralTree *t = referral_engine_tree (e);
  g_snprintf (key, sizeof key, "c%u", DEPTH);
  ReferralMember bottom = tu_member (e, key);
  ck_assert_uint_eq (referral_tree_depth (t, bottom), DEPTH);
  ck_assert_str_eq (c21_rank (e, key), "agent");
  /* Each agent has one direct agent: nobody became a partner on the way. */
  g_snprintf (key, sizeof key, "c%u", DEPTH / 2);
  ck_assert_str_eq (c21_rank (e, key), "agent");

  /* One walk from the bottom to the root partner, the way a memo-less
   * superior search would go. */
  gint64 w0 = g_get_monotonic_time ();
  ReferralMember m = bottom;
  guint steps = 0;
  while ((m = referral_tree_parent (t, m)) != REFERRAL_NO_MEMBER
         && referral_tree_rank (t, m) < 2)
    steps++;
  double walk = (double) (g_get_monotonic_time () - w0) / G_USEC_PER_SEC;
  ck_assert_uint_eq (steps, DEPTH - 1);
  ck_assert_str_eq (referral_tree_key (t, m), "c0");
  t1 = g_get_monotonic_time ();

  for (guint i = 0; i < ORDERS; i++)
    {
      char order[32];
      g_snprintf (id, sizeof id, "o%u", i);
      g_snprintf (order, sizeof order, "order%u", i);
      g_snprintf (key, sizeof key, "c%u", DEPTH);
      ev = tu_order (id, order, key, GIFT, "gift");
      apply_or_die (e, &ev);
    }
  gint64 t2 = g_get_monotonic_time ();
  double orders = (double) (t2 - t1) / G_USEC_PER_SEC;
  double bound = walk * ORDERS / 10;
  g_test_message ("build %.2f s, one walk %.4f s, %d orders %.2f s (bound %.2f s)", build, walk,
                  ORDERS, orders, bound);

  /* Every order: a 100.00 rebate to the bottom agent and a 200.00 team award
   * to the root partner c0, DEPTH levels up, each 20% held. */
  g_snprintf (key, sizeof key, "c%u", DEPTH);
  assert_funds (e, key, (gint64) ORDERS * 8000, (gint64) ORDERS * 2000);
  assert_funds (e, "c0", (gint64) ORDERS * 16000, (gint64) ORDERS * 4000);
  ck_assert_int_eq (c21_pool (e), (gint64) ORDERS * 3495);
  ck_assert (referral_ledger_is_balanced (referral_engine_ledger (e)));
  ck_assert_msg (orders < bound, "%d orders at depth %d took %.2f s; one walk of the chain "
                 "takes %.4f s, bound %.2f s", ORDERS, DEPTH, orders, walk, bound);
}
END_TEST

static Suite *
deep_suite (void)
{
  Suite *s = suite_create ("chain21 deep");
  TCase *tc = tu_tcase (s, "deep chain", 55);
  tcase_add_test (tc, test_orders_at_the_bottom_of_a_deep_chain);
  return s;
}

int
main (void)
{
  return tu_run_suites (deep_suite (), NULL);
}
