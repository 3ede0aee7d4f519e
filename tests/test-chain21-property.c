/* Random event streams under chain 2+1 (seeded, so every run is the same).
 *
 * - Conservation and consistency after every event:
 *   referral_engine_check_invariants() and referral_ledger_is_balanced();
 *   no member's held funds below zero; ranks never go down; a rejected
 *   event changes nothing (same state hash).
 * - Determinism: a second engine fed the same stream has the same state
 *   hash after every event, and rejects the same events with the same
 *   messages; replaying the whole stream again changes nothing (every event
 *   is a duplicate).
 * - The built-in scheme "chain21" and examples/schemes/chain21.ini loaded
 *   from the file give the same state after every event of a long stream.
 *
 * The generator looks at the first engine's state to make events that are
 * often valid (withdrawals within the available funds, transpositions among
 * a member's sponsored agents and partners) and some that are not. */
#include "test-chain21-common.h"

#include <string.h>

typedef struct {
  GRand *rand;
  GStringChunk *strings;
  GPtrArray *orders; /* order ids (in strings) */
  guint n_events;
  ReferralEvent last;
  gboolean has_last;
} Gen;

static void
gen_init (Gen *g, guint32 seed)
{
  memset (g, 0, sizeof *g);
  g->rand = g_rand_new_with_seed (seed);
  g->strings = g_string_chunk_new (4096);
  g->orders = g_ptr_array_new ();
}

static void
gen_clear (Gen *g)
{
  g_rand_free (g->rand);
  g_string_chunk_free (g->strings);
  g_ptr_array_unref (g->orders);
}

/* (transfer none) "@prefix@n", kept until the generator is cleared. */
static const char *
gen_str (Gen *g, const char *prefix, guint n)
{
  char buf[32];
  g_snprintf (buf, sizeof buf, "%s%u", prefix, n);
  return g_string_chunk_insert_const (g->strings, buf);
}

static gboolean
chance (Gen *g, double p)
{
  return g_rand_double (g->rand) < p;
}

static ReferralMember
random_member (Gen *g, const ReferralTree *t)
{
  guint32 n = referral_tree_size (t);
  /* Half the time one of the newest, to grow deep chains. */
  if (chance (g, 0.5))
    {
      guint32 back = (guint32) g_rand_int_range (g->rand, 0, (gint32) MIN (n, 8));
      return n - 1 - back;
    }
  return (ReferralMember) g_rand_int_range (g->rand, 0, (gint32) n);
}

/* A random sponsored member of @m of rank at least / below @rank, or
 * REFERRAL_NO_MEMBER. */
static ReferralMember
random_sponsored (Gen *g, const ReferralTree *t, ReferralMember m, ReferralRank rank,
                  gboolean at_least)
{
  ReferralMember pick = REFERRAL_NO_MEMBER;
  guint seen = 0;
  for (ReferralMember c = referral_tree_first_sponsored (t, m); c != REFERRAL_NO_MEMBER;
       c = referral_tree_next_sponsored (t, c))
    {
      gboolean ok = at_least ? referral_tree_rank (t, c) >= rank : referral_tree_rank (t, c) < rank;
      if (ok && g_rand_int_range (g->rand, 0, (gint32) ++seen) == 0)
        pick = c;
    }
  return pick;
}

/* (transfer none) a copy of @m's key: the event outlives changes of the
 * engine it was made from. */
static const char *
key (Gen *g, const ReferralTree *t, ReferralMember m)
{
  return g_string_chunk_insert_const (g->strings, referral_tree_key (t, m));
}

/* Makes the next event from the state of @e. */
static ReferralEvent
gen_next (Gen *g, const ReferralEngine *e)
{
  const ReferralTree *t = referral_engine_tree (e);
  const ReferralLedger *l = referral_engine_ledger (e);
  ReferralEvent ev = REFERRAL_EVENT_INIT;

  /* Now and then the previous event again: a duplicate. */
  if (g->has_last && chance (g, 0.02))
    return g->last;

  ev.id = gen_str (g, "e", ++g->n_events);
  guint32 n = referral_tree_size (t);
  double r = g_rand_double (g->rand);
  if (n == 0 || r < 0.20)
    {
      ev.type = REFERRAL_EVENT_JOIN;
      ev.member = gen_str (g, "m", n);
      if (n > 0 && chance (g, 0.92))
        ev.sponsor = key (g, t, random_member (g, t));
      else if (n > 0 && chance (g, 0.1))
        ev.sponsor = "nobody"; /* rejected */
    }
  else if (r < 0.58)
    {
      static const gint64 amounts[] = { 69900, 69900, 69900, 100, 1, 19, 12345, 100000, 333333 };
      ev.type = REFERRAL_EVENT_ORDER;
      ev.order = gen_str (g, "o", g->orders->len);
      g_ptr_array_add (g->orders, (gpointer) ev.order);
      ev.member = key (g, t, random_member (g, t));
      ev.amount = amounts[g_rand_int_range (g->rand, 0, G_N_ELEMENTS (amounts))];
      double s = g_rand_double (g->rand);
      ev.sku = s < 0.7 ? "gift" : s < 0.85 ? "book" : NULL;
    }
  else if (r < 0.66 && g->orders->len > 0)
    {
      ev.type = REFERRAL_EVENT_REFUND;
      ev.order = chance (g, 0.05) ? "no-such-order"
                 : g->orders->pdata[g_rand_int_range (g->rand, 0, (gint32) g->orders->len)];
    }
  else if (r < 0.70)
    {
      ev.type = REFERRAL_EVENT_PERIOD_CLOSE;
      ev.period = gen_str (g, "p", g->n_events);
    }
  else if (r < 0.78)
    {
      static const char *const ranks[] = { "agent", "partner", "partner", "user", "boss" };
      ev.type = REFERRAL_EVENT_PROMOTE;
      ev.member = key (g, t, random_member (g, t));
      ev.rank = ranks[g_rand_int_range (g->rand, 0, G_N_ELEMENTS (ranks))];
    }
  else if (r < 0.90)
    {
      /* A member with sponsored members; old below partner, new a partner:
       * valid when old is a seed and new is not. */
      ReferralMember m = random_member (g, t);
      ReferralMember o = random_sponsored (g, t, m, 2, FALSE);
      ReferralMember nn = random_sponsored (g, t, m, 2, TRUE);
      ev.type = REFERRAL_EVENT_COMMAND;
      ev.command = "transpose";
      ev.member = key (g, t, m);
      ev.old_member = o != REFERRAL_NO_MEMBER ? key (g, t, o) : key (g, t, random_member (g, t));
      ev.new_member = nn != REFERRAL_NO_MEMBER ? key (g, t, nn) : key (g, t, random_member (g, t));
    }
  else
    {
      ReferralMember m = random_member (g, t);
      gint64 avail = referral_ledger_balance (l, referral_ledger_member_account (l, m, FALSE));
      ev.type = REFERRAL_EVENT_WITHDRAW;
      ev.member = key (g, t, m);
      ev.amount = avail > 1 && chance (g, 0.8) ? avail / 2 : chance (g, 0.5) ? 1 : avail + 1;
      if (ev.amount <= 0)
        ev.amount = 1;
    }
  g->last = ev;
  g->has_last = TRUE;
  return ev;
}

static ReferralScheme *
builtin_scheme (void)
{
  g_autoptr (GError) err = NULL;
  ReferralScheme *s = referral_scheme_new_builtin ("chain21", &err);
  ck_assert_msg (s != NULL, "%s", err ? err->message : "");
  return s;
}

static ReferralScheme *
file_scheme (void)
{
  g_autofree char *path = tu_source_path ("examples/schemes/chain21.ini");
  g_autoptr (GError) err = NULL;
  ReferralScheme *s = referral_scheme_load_file (path, &err);
  ck_assert_msg (s != NULL, "%s", err ? err->message : "");
  return s;
}

/* Applies @ev to @e; returns whether it applied, with the error text (or
 * NULL) in *@message. */
static gboolean
apply (ReferralEngine *e, const ReferralEvent *ev, char **message)
{
  GError *err = NULL;
  gboolean ok = referral_engine_apply (e, ev, NULL, &err);
  *message = err ? g_strdup (err->message) : NULL;
  g_clear_error (&err);
  return ok;
}

static void
check_state (const ReferralEngine *e, GArray *ranks, guint event)
{
  g_autoptr (GError) err = NULL;
  ck_assert_msg (referral_engine_check_invariants (e, &err), "after event %u: %s", event,
                 err ? err->message : "");
  const ReferralLedger *l = referral_engine_ledger (e);
  const ReferralTree *t = referral_engine_tree (e);
  ck_assert_msg (referral_ledger_is_balanced (l), "after event %u: ledger unbalanced", event);
  guint32 n = referral_tree_size (t);
  for (ReferralMember m = 0; m < n; m++)
    {
      gint64 held = referral_ledger_balance (l, referral_ledger_member_account (l, m, TRUE));
      ck_assert_msg (held >= 0, "after event %u: %s holds %" G_GINT64_FORMAT, event,
                     referral_tree_key (t, m), held);
      ReferralRank rank = referral_tree_rank (t, m);
      if (m < ranks->len)
        ck_assert_msg (rank >= g_array_index (ranks, ReferralRank, m),
                       "after event %u: %s went down a rank", event, referral_tree_key (t, m));
      else
        g_array_append_val (ranks, rank);
      g_array_index (ranks, ReferralRank, m) = rank;
    }
}

/* Runs @n_events random events of @seed through three engines (two built-in,
 * one from the file).  With @check_every_event, the state is checked and the
 * three state hashes compared after every event (each is O(state));
 * otherwise the hashes are compared every 500 events and at the end.
 * Returns the number of events applied. */
static guint
run_stream (guint32 seed, guint n_events, gboolean check_every_event)
{
  g_autoptr (ReferralScheme) builtin = builtin_scheme ();
  g_autoptr (ReferralScheme) file = file_scheme ();
  ck_assert_uint_eq (referral_scheme_identity (builtin), referral_scheme_identity (file));
  g_autoptr (ReferralEngine) a = tu_engine_new (builtin);
  g_autoptr (ReferralEngine) b = tu_engine_new (builtin);
  g_autoptr (ReferralEngine) c = tu_engine_new (file);
  if (!check_every_event)
    {
      referral_engine_set_check_invariants (a, FALSE);
      referral_engine_set_check_invariants (b, FALSE);
      referral_engine_set_check_invariants (c, FALSE);
    }
  g_autoptr (GArray) ranks = g_array_new (FALSE, FALSE, sizeof (ReferralRank));
  GArray *events = g_array_new (FALSE, FALSE, sizeof (ReferralEvent)); /* applied ones */
  Gen g;
  gen_init (&g, seed);
  guint applied = 0, rejected = 0;
  guint64 before = referral_engine_state_hash (a);

  for (guint i = 0; i < n_events; i++)
    {
      ReferralEvent ev = gen_next (&g, a);
      gboolean hash_now = check_every_event || (i + 1) % 500 == 0 || i + 1 == n_events;
      g_autofree char *ma = NULL, *mb = NULL, *mc = NULL;
      gboolean oa = apply (a, &ev, &ma);
      gboolean ob = apply (b, &ev, &mb);
      gboolean oc = apply (c, &ev, &mc);
      ck_assert_msg (oa == ob && oa == oc && g_strcmp0 (ma, mb) == 0 && g_strcmp0 (ma, mc) == 0,
                     "seed %u event %u (%s): %s / %s / %s", seed, i, ev.id, ma, mb, mc);
      if (oa)
        {
          applied++;
          g_array_append_val (events, ev);
        }
      else
        rejected++;
      if (!hash_now)
        continue;
      guint64 ha = referral_engine_state_hash (a);
      ck_assert_msg (ha == referral_engine_state_hash (b),
                     "seed %u event %u (%s): determinism lost", seed, i, ev.id);
      ck_assert_msg (ha == referral_engine_state_hash (c),
                     "seed %u event %u (%s): built-in and file schemes differ", seed, i, ev.id);
      if (!oa && check_every_event)
        ck_assert_msg (ha == before, "seed %u event %u (%s): rejected but changed: %s", seed, i,
                       ev.id, ma);
      before = ha;
      if (check_every_event)
        check_state (a, ranks, i);
    }
  check_state (a, ranks, n_events);

  /* Every applied event again: each is a duplicate; nothing changes. */
  guint64 end = referral_engine_state_hash (a);
  guint32 n_applied = referral_engine_n_events (a);
  for (guint i = 0; i < events->len; i++)
    {
      ReferralApplyResult res;
      g_autoptr (GError) err = NULL;
      ck_assert_msg (referral_engine_apply (a, &g_array_index (events, ReferralEvent, i), &res,
                                            &err), "replay: %s", err ? err->message : "");
      ck_assert_int_eq (res.status, REFERRAL_DUPLICATE);
    }
  ck_assert_uint_eq (referral_engine_state_hash (a), end);
  ck_assert_uint_eq (referral_engine_n_events (a), n_applied);

  /* The stream exercises what it should. */
  ck_assert_msg (applied > n_events / 2 && rejected > 0, "seed %u: %u applied, %u rejected",
                 seed, applied, rejected);
  g_array_unref (events);
  gen_clear (&g);
  return applied;
}

/* Counts, over a whole stream, what happened: the property tests are only
 * worth something if the stream reaches partners, releases, pass-ups and
 * pool shares. */
typedef struct {
  guint partners, moves, releases, pool_shares, reversals;
  ReferralKind pool_kind;
  const ReferralEngine *engine;
} Coverage;

static void
cov_rank (gpointer data, ReferralMember m, ReferralRank o, ReferralRank n)
{
  Coverage *c = data;
  if (n == 2)
    c->partners++;
}

static void
cov_moved (gpointer data, ReferralMember m, ReferralMember o, ReferralMember n)
{
  ((Coverage *) data)->moves++;
}

static void
cov_released (gpointer data, ReferralMember m, gint64 amount, guint64 index)
{
  ((Coverage *) data)->releases++;
}

static void
cov_posted (gpointer data, const ReferralPosting *p, guint64 index)
{
  Coverage *c = data;
  if (p->flags & REFERRAL_POSTING_REVERSAL)
    c->reversals++;
  else if (p->kind == c->pool_kind)
    c->pool_shares++;
}

START_TEST (test_random_streams)
{
  for (guint32 seed = 1; seed <= 3; seed++)
    run_stream (seed, 2000, TRUE);
}
END_TEST

START_TEST (test_random_stream_coverage)
{
  g_autoptr (ReferralScheme) scheme = builtin_scheme ();
  g_autoptr (ReferralEngine) e = tu_engine_new (scheme);
  referral_engine_set_check_invariants (e, FALSE);
  Coverage cov = { 0 };
  cov.engine = e;
  ck_assert (referral_ledger_lookup_kind (referral_engine_ledger (e), "pool", &cov.pool_kind));
  static const ReferralSubscriber sub = {
    .version = REFERRAL_SUBSCRIBER_VERSION,
    .rank_changed = cov_rank,
    .moved = cov_moved,
    .released = cov_released,
    .posted = cov_posted,
  };
  referral_engine_subscribe (e, &sub, &cov, NULL);
  Gen g;
  gen_init (&g, 1);
  guint transposed = 0;
  for (guint i = 0; i < 2500; i++)
    {
      ReferralEvent ev = gen_next (&g, e);
      g_autofree char *m = NULL;
      if (apply (e, &ev, &m) && ev.type == REFERRAL_EVENT_COMMAND)
        transposed++;
    }
  gen_clear (&g);
  ck_assert_msg (cov.partners >= 20 && cov.moves >= 10 && cov.releases >= 3
                 && cov.pool_shares >= 20 && cov.reversals >= 100 && transposed >= 1,
                 "partners %u moves %u releases %u pool shares %u reversals %u transposed %u",
                 cov.partners, cov.moves, cov.releases, cov.pool_shares, cov.reversals,
                 transposed);
}
END_TEST

/* The built-in scheme and the scheme file agree on a long stream. */
START_TEST (test_builtin_and_file_agree_long)
{
  guint applied = run_stream (99, 40000, FALSE);
  ck_assert_uint_gt (applied, 20000);
}
END_TEST

/* referral_engine_apply_many() on a whole random stream (rejected events
 * and duplicates included), resumed after each rejection, does exactly what
 * one referral_engine_apply() per event does: the same rejections with the
 * same messages, the same duplicates, the same final state. */
START_TEST (test_apply_many_agrees)
{
  g_autoptr (ReferralScheme) scheme = builtin_scheme ();
  g_autoptr (ReferralEngine) a = tu_engine_new (scheme);
  g_autoptr (ReferralEngine) b = tu_engine_new (scheme);
  referral_engine_set_check_invariants (a, FALSE);
  g_autoptr (GArray) stream = g_array_new (FALSE, FALSE, sizeof (ReferralEvent));
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) rejected_at = g_array_new (FALSE, FALSE, sizeof (gsize));
  guint dups_a = 0;
  Gen g;
  gen_init (&g, 4242);
  for (guint i = 0; i < 6000; i++)
    {
      ReferralEvent ev = gen_next (&g, a);
      g_array_append_val (stream, ev);
      ReferralApplyResult res;
      GError *err = NULL;
      if (referral_engine_apply (a, &ev, &res, &err))
        dups_a += res.status == REFERRAL_DUPLICATE;
      else
        {
          gsize at = i;
          g_array_append_val (rejected_at, at);
          g_ptr_array_add (messages, g_strdup (err->message));
          g_clear_error (&err);
        }
    }
  ck_assert_uint_gt (rejected_at->len, 10);
  ck_assert_uint_gt (dups_a, 10);

  /* Batches of 97 events, so that batch ends fall anywhere. */
  const ReferralEvent *evs = (const ReferralEvent *) (void *) stream->data;
  gsize i = 0, dups_b = 0;
  guint n_rejected = 0;
  while (i < stream->len)
    {
      gsize n = MIN (97, stream->len - i), done = 12345, dups = 12345;
      GError *err = NULL;
      gboolean ok = referral_engine_apply_many (b, evs + i, n, &done, &dups, &err);
      dups_b += dups;
      if (ok)
        {
          ck_assert_uint_eq (done, n);
          ck_assert_ptr_null (err);
          i += n;
          continue;
        }
      ck_assert_uint_lt (done, n);
      ck_assert_uint_lt (n_rejected, rejected_at->len);
      ck_assert_uint_eq (i + done, g_array_index (rejected_at, gsize, n_rejected));
      ck_assert_str_eq (err->message, g_ptr_array_index (messages, n_rejected));
      n_rejected++;
      g_clear_error (&err);
      i += done + 1;
    }
  ck_assert_uint_eq (n_rejected, rejected_at->len);
  ck_assert_uint_eq (dups_b, dups_a);
  ck_assert_uint_eq (referral_engine_state_hash (b), referral_engine_state_hash (a));

  /* An empty batch does nothing and succeeds. */
  gsize done = 7;
  ck_assert (referral_engine_apply_many (b, NULL, 0, &done, NULL, NULL));
  ck_assert_uint_eq (done, 0);
  gen_clear (&g);
}
END_TEST

static Suite *
property_suite (void)
{
  Suite *s = suite_create ("chain21 property");
  TCase *tc = tu_tcase (s, "random streams", 50);
  tcase_add_test (tc, test_random_streams);
  tcase_add_test (tc, test_random_stream_coverage);
  tcase_add_test (tc, test_builtin_and_file_agree_long);
  tcase_add_test (tc, test_apply_many_agrees);
  return s;
}

int
main (void)
{
  return tu_run_suites (property_suite (), NULL);
}
