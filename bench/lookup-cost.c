/* lookup-cost: what one key lookup costs once the tables are large.
 *
 *   lookup-cost [MEMBERS [ORDERS]]      (default 1000000 7000000)
 *
 * Builds a chain21 engine with MEMBERS joins (each under a random earlier
 * member) and ORDERS plain orders (no sku: no awards), then times, in thread
 * CPU time, 2,000,000 calls each of referral_tree_lookup() and
 * referral_engine_lookup_order() on random keys that exist (hits) and that do
 * not (misses), and of referral_engine_apply() on an event whose id was
 * applied before (the idempotency check: id lookup hit + fingerprint).  The
 * keys are written before each clock starts.  See docs/performance.md. */
#include <stdio.h>
#include <stdlib.h>

#include <referral/referral.h>

#include "measure.h"
#include "workloads.h"

#define N_KEYS 2000000

static guint64 rng_state = 0x9E3779B97F4A7C15ull;

static guint64
rng (void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void
apply_or_die (ReferralEngine *engine, const ReferralEvent *ev, ReferralApplyResult *result)
{
  GError *error = NULL;
  if (!referral_engine_apply (engine, ev, result, &error))
    {
      fprintf (stderr, "lookup-cost: %s\n", error->message);
      exit (1);
    }
}

typedef char Key[24];

static void
fill_keys (Key *keys, char prefix, guint64 range)
{
  for (gsize i = 0; i < N_KEYS; i++)
    bench_key (keys[i], prefix, rng () % range);
}

int
main (int argc, char **argv)
{
  guint64 members = argc > 1 ? g_ascii_strtoull (argv[1], NULL, 10) : 1000000;
  guint64 orders = argc > 2 ? g_ascii_strtoull (argv[2], NULL, 10) : 7000000;
  if (members < 2 || orders < 1)
    {
      fprintf (stderr, "usage: lookup-cost [MEMBERS >= 2 [ORDERS >= 1]]\n");
      return 2;
    }
  GError *error = NULL;
  ReferralScheme *scheme = referral_scheme_new_builtin ("chain21", &error);
  ReferralEngine *engine = scheme ? referral_engine_new (scheme, &error) : NULL;
  if (engine == NULL)
    {
      fprintf (stderr, "lookup-cost: %s\n", error->message);
      return 1;
    }

  Key id, member, sponsor, order;
  guint64 seq = 0;
  guint32 *sponsor_of = g_new (guint32, members);
  for (guint64 i = 0; i < members; i++)
    {
      ReferralEvent ev = REFERRAL_EVENT_INIT;
      ev.type = REFERRAL_EVENT_JOIN;
      bench_key (id, 'e', seq++);
      bench_key (member, 'm', i);
      ev.id = id;
      ev.member = member;
      if (i > 0)
        {
          sponsor_of[i] = (guint32) (rng () % i);
          bench_key (sponsor, 'm', sponsor_of[i]);
          ev.sponsor = sponsor;
        }
      apply_or_die (engine, &ev, NULL);
    }
  for (guint64 i = 0; i < orders; i++)
    {
      ReferralEvent ev = REFERRAL_EVENT_INIT;
      ev.type = REFERRAL_EVENT_ORDER;
      bench_key (id, 'e', seq++);
      bench_key (member, 'm', rng () % members);
      bench_key (order, 'o', i);
      ev.id = id;
      ev.member = member;
      ev.order = order;
      ev.amount = 1000;
      apply_or_die (engine, &ev, NULL);
    }

  Key *keys = g_new (Key, N_KEYS);
  const ReferralTree *tree = referral_engine_tree (engine);
  guint64 sink = 0;
  ReferralOrder out;
  gint64 t0, t1;
  printf ("%" G_GUINT64_FORMAT " members, %" G_GUINT64_FORMAT " orders, %" G_GUINT64_FORMAT
          " events; ns per call (thread CPU time):\n", members, orders, seq);

  fill_keys (keys, 'm', members);
  t0 = bench_cpu_ns ();
  for (gsize i = 0; i < N_KEYS; i++)
    sink += referral_tree_lookup (tree, keys[i]);
  t1 = bench_cpu_ns ();
  printf ("  referral_tree_lookup, hit          %7.1f\n", (double) (t1 - t0) / N_KEYS);

  fill_keys (keys, 'x', members);
  t0 = bench_cpu_ns ();
  for (gsize i = 0; i < N_KEYS; i++)
    sink += referral_tree_lookup (tree, keys[i]);
  t1 = bench_cpu_ns ();
  printf ("  referral_tree_lookup, miss         %7.1f\n", (double) (t1 - t0) / N_KEYS);

  fill_keys (keys, 'o', orders);
  t0 = bench_cpu_ns ();
  for (gsize i = 0; i < N_KEYS; i++)
    sink += referral_engine_lookup_order (engine, keys[i], &out);
  t1 = bench_cpu_ns ();
  printf ("  referral_engine_lookup_order, hit  %7.1f\n", (double) (t1 - t0) / N_KEYS);

  fill_keys (keys, 'q', orders);
  t0 = bench_cpu_ns ();
  for (gsize i = 0; i < N_KEYS; i++)
    sink += referral_engine_lookup_order (engine, keys[i], &out);
  t1 = bench_cpu_ns ();
  printf ("  referral_engine_lookup_order, miss %7.1f\n", (double) (t1 - t0) / N_KEYS);

  /* Repeats of the join events: event i (0 < i < members) joined member i
   * under sponsor_of[i]. */
  Key *members_of = g_new (Key, N_KEYS);
  Key *sponsors_of = g_new (Key, N_KEYS);
  for (gsize i = 0; i < N_KEYS; i++)
    {
      guint64 j = 1 + rng () % (members - 1);
      bench_key (keys[i], 'e', j);
      bench_key (members_of[i], 'm', j);
      bench_key (sponsors_of[i], 'm', sponsor_of[j]);
    }
  guint64 duplicates = 0;
  t0 = bench_cpu_ns ();
  for (gsize i = 0; i < N_KEYS; i++)
    {
      ReferralEvent ev = REFERRAL_EVENT_INIT;
      ReferralApplyResult result;
      ev.type = REFERRAL_EVENT_JOIN;
      ev.id = keys[i];
      ev.member = members_of[i];
      ev.sponsor = sponsors_of[i];
      apply_or_die (engine, &ev, &result);
      duplicates += result.status == REFERRAL_DUPLICATE;
    }
  t1 = bench_cpu_ns ();
  if (duplicates != N_KEYS)
    {
      fprintf (stderr, "lookup-cost: only %" G_GUINT64_FORMAT " of the repeated joins were "
               "recognised as duplicates\n", duplicates);
      return 1;
    }
  printf ("  referral_engine_apply, duplicate   %7.1f\n", (double) (t1 - t0) / N_KEYS);

  if (sink == 42)
    printf (" \n"); /* keeps the loops from being optimised away */
  g_free (keys);
  g_free (members_of);
  g_free (sponsors_of);
  g_free (sponsor_of);
  referral_engine_free (engine);
  referral_scheme_unref (scheme);
  return 0;
}
