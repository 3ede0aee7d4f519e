/* Property tests with seeded random event streams under the built-in rules
 * (the demo scheme and two builder schemes with direct_award + unilevel).
 *
 * For every stream (a seed gives the same stream on every machine):
 *  (a) after every event the ledger sums to zero, the engine's invariants
 *      hold, every outcome (applied, duplicate, or the error code) is the
 *      one an independent reference model predicts, and every balance and
 *      rank equals the model's;
 *  (b) the same stream applied to a fresh engine gives the same outcomes,
 *      the same postings in the same order and the same state hash;
 *  (c) every refund posts exactly the reversal of its order's postings, and
 *      refunding every order made after a point brings every balance back
 *      to what it was at that point. */
#include "testutil.h"

#include <string.h>

#define N_STREAMS 1000
#define N_REFUND_STREAMS 1000

/* ---- schemes and their reference model -------------------------------- */

typedef struct {
  const char *name;
  guint n_ranks;
  const char *ranks[4];        /* NULL-terminated */
  /* direct_award */
  const char *d_amounts_text, *d_rates_text, *d_sku;
  gint64 d_amount[3];
  gint64 d_num[3], d_den[3];
  /* unilevel */
  guint u_levels;
  const char *u_rates_text, *u_min_rank_text, *u_sku;
  gint64 u_num[4], u_den[4];
  ReferralRank u_min;
  gboolean u_compress;
} Model;

static const Model models[] = {
  { /* the built-in demo scheme */
    .name = "demo", .n_ranks = 2, .ranks = { "user", "member", NULL },
    .d_sku = NULL, .d_amount = { 0, 0 }, .d_num = { 5, 10 }, .d_den = { 100, 100 },
    .u_levels = 3, .u_sku = NULL, .u_num = { 5, 3, 1 }, .u_den = { 100, 100, 100 },
    .u_min = 1, .u_compress = FALSE },
  { .name = "prop_a", .n_ranks = 3, .ranks = { "user", "agent", "partner", NULL },
    .d_amounts_text = "1.00, 2.00, 3.00", .d_rates_text = "2%, 5%, 8.5%", .d_sku = NULL,
    .d_amount = { 100, 200, 300 }, .d_num = { 2, 5, 85 }, .d_den = { 100, 100, 1000 },
    .u_levels = 4, .u_rates_text = "4%, 3%, 2%, 1%", .u_min_rank_text = "agent",
    .u_sku = "pack", .u_num = { 4, 3, 2, 1 }, .u_den = { 100, 100, 100, 100 },
    .u_min = 1, .u_compress = TRUE },
  { .name = "prop_b", .n_ranks = 3, .ranks = { "user", "agent", "partner", NULL },
    .d_amounts_text = "0, 0, 0.50", .d_rates_text = "10%, 12.5%, 15%", .d_sku = "pack",
    .d_amount = { 0, 0, 50 }, .d_num = { 10, 125, 15 }, .d_den = { 100, 1000, 100 },
    .u_levels = 2, .u_rates_text = "7%, 3.5%", .u_min_rank_text = "user", .u_sku = NULL,
    .u_num = { 7, 35 }, .u_den = { 100, 1000 }, .u_min = 0, .u_compress = FALSE },
};

static ReferralScheme *
model_scheme (const Model *m)
{
  if (strcmp (m->name, "demo") == 0)
    {
      g_autoptr (GError) err = NULL;
      ReferralScheme *s = referral_scheme_new_builtin ("demo", &err);
      assert_no_error (err);
      return s;
    }
  g_autofree char *levels = g_strdup_printf ("%u", m->u_levels);
  const char *dp[] = { "amounts", m->d_amounts_text, "rates", m->d_rates_text,
                       m->d_sku ? "sku" : NULL, m->d_sku, NULL };
  const char *up[] = { "levels", levels, "rates", m->u_rates_text,
                       "min_rank", m->u_min_rank_text,
                       "compress", m->u_compress ? "true" : "false",
                       m->u_sku ? "sku" : NULL, m->u_sku, NULL };
  return tu_scheme_build (m->name, m->ranks, "direct_award", "direct", dp,
                          "unilevel", "unilevel", up, NULL);
}

/* The model's state. */
typedef struct {
  ReferralMember member;
  gint64 amount;
} Payout;

typedef struct {
  char *key;
  ReferralMember buyer;
  gint64 amount;
  gboolean refunded;
  GArray *payouts;             /* Payout */
  ReferralApplyResult applied; /* the order event's postings */
  gboolean late;               /* made after the refund snapshot */
} MOrder;

typedef struct {
  const Model *m;
  GArray *sponsor;   /* ReferralMember per member */
  GArray *rank;      /* ReferralRank per member */
  GArray *available; /* gint64 per member */
  gint64 platform, outside;
  GPtrArray *orders; /* MOrder */
  GHashTable *order_index; /* key -> index + 1 */
  guint32 periods;
} State;

static void
morder_free (gpointer p)
{
  MOrder *o = p;
  g_free (o->key);
  g_array_unref (o->payouts);
  g_free (o);
}

static void
state_init (State *s, const Model *m)
{
  memset (s, 0, sizeof *s);
  s->m = m;
  s->sponsor = g_array_new (FALSE, FALSE, sizeof (ReferralMember));
  s->rank = g_array_new (FALSE, FALSE, sizeof (ReferralRank));
  s->available = g_array_new (FALSE, FALSE, sizeof (gint64));
  s->orders = g_ptr_array_new_with_free_func (morder_free);
  s->order_index = g_hash_table_new (g_str_hash, g_str_equal);
}

static void
state_clear (State *s)
{
  g_array_unref (s->sponsor);
  g_array_unref (s->rank);
  g_array_unref (s->available);
  g_hash_table_unref (s->order_index);
  g_ptr_array_unref (s->orders);
}

static guint32
n_members (const State *s)
{
  return s->sponsor->len;
}

#define SPONSOR(s, i) g_array_index ((s)->sponsor, ReferralMember, (i))
#define RANK(s, i) g_array_index ((s)->rank, ReferralRank, (i))
#define AVAIL(s, i) g_array_index ((s)->available, gint64, (i))

static void
pay (State *s, MOrder *o, ReferralMember to, gint64 x)
{
  if (x <= 0)
    return;
  AVAIL (s, to) += x;
  s->platform -= x;
  Payout p = { to, x };
  g_array_append_val (o->payouts, p);
}

static gboolean
sku_matches (const char *filter, const char *sku)
{
  return filter == NULL || g_strcmp0 (filter, sku) == 0;
}

/* What the scheme pays for an order (the model of direct_award + unilevel). */
static void
model_order (State *s, MOrder *o, const char *sku)
{
  const Model *m = s->m;
  s->outside -= o->amount;
  s->platform += o->amount;
  ReferralMember sp = SPONSOR (s, o->buyer);
  if (sp != REFERRAL_NO_MEMBER && sku_matches (m->d_sku, sku))
    {
      ReferralRank r = RANK (s, sp);
      pay (s, o, sp, m->d_amount[r] + o->amount * m->d_num[r] / m->d_den[r]);
    }
  if (sku_matches (m->u_sku, sku))
    {
      guint level = 1;
      for (ReferralMember a = sp; a != REFERRAL_NO_MEMBER && level <= m->u_levels;
           a = SPONSOR (s, a))
        {
          if (RANK (s, a) >= m->u_min)
            {
              pay (s, o, a, o->amount * m->u_num[level - 1] / m->u_den[level - 1]);
              level++;
            }
          else if (!m->u_compress)
            level++;
        }
    }
}

static void
model_refund (State *s, MOrder *o)
{
  for (guint i = 0; i < o->payouts->len; i++)
    {
      Payout *p = &g_array_index (o->payouts, Payout, i);
      AVAIL (s, p->member) -= p->amount;
      s->platform += p->amount;
    }
  s->platform -= o->amount;
  s->outside += o->amount;
  o->refunded = TRUE;
}

/* Compares the engine with the model: every balance and rank. */
static void
compare_state (const ReferralEngine *e, const State *s, guint seed, guint ev_no)
{
  const ReferralLedger *l = referral_engine_ledger (e);
  const ReferralTree *t = referral_engine_tree (e);
  tu_check (referral_tree_size (t) == n_members (s), "seed %u event %u: %u members, model %u",
                 seed, ev_no, referral_tree_size (t), n_members (s));
  tu_check (referral_ledger_balance (l, REFERRAL_ACCOUNT_PLATFORM) == s->platform,
                 "seed %u event %u: platform %" G_GINT64_FORMAT ", model %" G_GINT64_FORMAT,
                 seed, ev_no, referral_ledger_balance (l, REFERRAL_ACCOUNT_PLATFORM), s->platform);
  tu_check (referral_ledger_balance (l, REFERRAL_ACCOUNT_OUTSIDE) == s->outside,
                 "seed %u event %u: outside %" G_GINT64_FORMAT ", model %" G_GINT64_FORMAT,
                 seed, ev_no, referral_ledger_balance (l, REFERRAL_ACCOUNT_OUTSIDE), s->outside);
  for (ReferralMember i = 0; i < n_members (s); i++)
    {
      gint64 av = referral_ledger_balance (l, referral_ledger_member_account (l, i, FALSE));
      gint64 held = referral_ledger_balance (l, referral_ledger_member_account (l, i, TRUE));
      tu_check (av == AVAIL (s, i) && held == 0,
                     "seed %u event %u: member %s available %" G_GINT64_FORMAT " held %"
                     G_GINT64_FORMAT ", model %" G_GINT64_FORMAT, seed, ev_no,
                     referral_tree_key (t, i), av, held, AVAIL (s, i));
      tu_check (referral_tree_rank (t, i) == RANK (s, i),
                     "seed %u event %u: member %s rank %u, model %u", seed, ev_no,
                     referral_tree_key (t, i), referral_tree_rank (t, i), RANK (s, i));
    }
  tu_check (referral_engine_n_periods (e) == s->periods, "seed %u event %u: %u periods, model %u",
            seed, ev_no, referral_engine_n_periods (e), s->periods);
}

/* ---- streams ------------------------------------------------------------- */

#define EXPECT_APPLIED (-1)
#define EXPECT_DUPLICATE (-2)

typedef struct {
  ReferralEvent ev;
  int expect;              /* EXPECT_* or a ReferralErrorCode */
  ReferralApplyResult res; /* as applied to the first engine */
} SEvent;

typedef struct {
  GStringChunk *strings;
  GArray *events;          /* SEvent */
  GArray *applied;         /* guint: indices into events of applied ones */
  guint next_id, next_member, next_order, next_period;
} Stream;

static void
stream_init (Stream *st)
{
  memset (st, 0, sizeof *st);
  st->strings = g_string_chunk_new (4096);
  st->events = g_array_new (FALSE, TRUE, sizeof (SEvent));
  st->applied = g_array_new (FALSE, FALSE, sizeof (guint));
}

static void
stream_clear (Stream *st)
{
  g_string_chunk_free (st->strings);
  g_array_unref (st->events);
  g_array_unref (st->applied);
}

static const char *
sdup (Stream *st, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static const char *
sdup (Stream *st, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *s = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return g_string_chunk_insert (st->strings, s);
}

static const char *
member_key (Stream *st, ReferralMember m)
{
  return sdup (st, "m%u", m);
}

/* Applies @ev to @e and checks the outcome is @expect. */
static ReferralApplyResult
apply_expect (ReferralEngine *e, const ReferralEvent *ev, int expect, guint seed, guint ev_no,
              gboolean check_hash)
{
  ReferralApplyResult res;
  memset (&res, 0, sizeof res);
  GError *err = NULL;
  guint32 n_events = referral_engine_n_events (e);
  guint64 n_postings = referral_ledger_n_postings (referral_engine_ledger (e));
  guint64 hash = check_hash && expect != EXPECT_APPLIED ? referral_engine_state_hash (e) : 0;
  gboolean ok = referral_engine_apply (e, ev, &res, &err);
  if (expect == EXPECT_APPLIED || expect == EXPECT_DUPLICATE)
    {
      tu_check (ok, "seed %u event %u (%s %s): rejected: %s", seed, ev_no,
                     referral_event_type_name (ev), ev->id, err ? err->message : "");
      tu_check (res.status == (expect == EXPECT_APPLIED ? REFERRAL_APPLIED : REFERRAL_DUPLICATE),
                     "seed %u event %u (%s %s): status %d, expected %s", seed, ev_no,
                     referral_event_type_name (ev), ev->id, res.status,
                     expect == EXPECT_APPLIED ? "applied" : "duplicate");
      tu_check (referral_engine_n_events (e) == n_events + (expect == EXPECT_APPLIED ? 1 : 0),
                "seed %u event %u: wrong number of events", seed, ev_no);
    }
  else
    {
      tu_check (!ok, "seed %u event %u (%s %s): applied, expected error %d", seed, ev_no,
                     referral_event_type_name (ev), ev->id, expect);
      tu_check (err && err->domain == REFERRAL_ERROR && err->code == expect,
                     "seed %u event %u (%s %s): error %d (%s), expected %d", seed, ev_no,
                     referral_event_type_name (ev), ev->id, err ? err->code : -1,
                     err ? err->message : "none", expect);
      g_error_free (err);
      tu_check (referral_engine_n_events (e) == n_events,
                "seed %u event %u: a rejected event was counted", seed, ev_no);
    }
  if (expect != EXPECT_APPLIED)
    {
      tu_check (referral_ledger_n_postings (referral_engine_ledger (e)) == n_postings,
                "seed %u event %u: postings made by a %s event", seed, ev_no,
                expect == EXPECT_DUPLICATE ? "duplicate" : "rejected");
      if (check_hash)
        tu_check (referral_engine_state_hash (e) == hash,
                       "seed %u event %u: state changed by a %s event", seed, ev_no,
                       expect == EXPECT_DUPLICATE ? "duplicate" : "rejected");
    }
  return res;
}

/* Checks that refund @rr reverses order @o exactly. */
static void
check_reversal (const ReferralEngine *e, const MOrder *o, ReferralApplyResult rr, guint seed)
{
  const ReferralLedger *l = referral_engine_ledger (e);
  ReferralApplyResult ro = o->applied;
  tu_check (rr.n_postings == ro.n_postings, "seed %u: refund of %s made %" G_GUINT64_FORMAT
                 " postings for %" G_GUINT64_FORMAT, seed, o->key, rr.n_postings, ro.n_postings);
  for (guint64 k = 0; k < rr.n_postings; k++)
    {
      guint64 ri = rr.first_posting + k, oi = ro.first_posting + ro.n_postings - 1 - k;
      const ReferralPosting *r = referral_ledger_posting (l, ri);
      const ReferralPosting *p = referral_ledger_posting (l, oi);
      tu_check (r->amount == p->amount && r->from == p->to && r->to == p->from
                     && r->kind == p->kind && (r->flags & REFERRAL_POSTING_REVERSAL)
                     && referral_posting_cause (r, ri) == oi && r->event == rr.seq,
                     "seed %u: posting %" G_GUINT64_FORMAT " does not reverse %" G_GUINT64_FORMAT,
                     seed, ri, oi);
    }
}

typedef struct {
  gboolean allow_withdraw, allow_invalid, allow_duplicates, allow_refunds;
} GenFlags;

/* Generates the next event of the stream from the model state, applies it
 * to @e, checks the outcome and updates the model.  Returns the outcome. */
static int
step (ReferralEngine *e, State *s, Stream *st, GRand *rnd, GenFlags f, guint seed,
      gboolean late)
{
  const Model *m = s->m;
  SEvent se;
  memset (&se, 0, sizeof se);
  ReferralEvent *ev = &se.ev;
  ev->id = sdup (st, "e%u", st->next_id++);
  se.expect = EXPECT_APPLIED;
  guint32 n = n_members (s);
  gint choice = g_rand_int_range (rnd, 0, 100);
  if (n == 0)
    choice = 0;
  MOrder *order = NULL;
  gboolean invalid = f.allow_invalid && g_rand_int_range (rnd, 0, 100) < 6;
  /* Side effects on the model, applied if the event applies. */
  enum { NONE, JOIN, ORDER, REFUND, CLOSE, WITHDRAW, PROMOTE } what = NONE;
  ReferralMember who = REFERRAL_NO_MEMBER, sponsor = REFERRAL_NO_MEMBER;
  gint64 amount = 0;
  ReferralRank target = 0;

  if (choice < 22)
    {
      ev->type = REFERRAL_EVENT_JOIN;
      what = JOIN;
      if (n > 0 && g_rand_int_range (rnd, 0, 100) < 92)
        {
          sponsor = (ReferralMember) g_rand_int_range (rnd, 0, (gint32) n);
          ev->sponsor = member_key (st, sponsor);
        }
      ev->member = member_key (st, n);
      if (invalid && n > 0)
        {
          if (g_rand_boolean (rnd))
            {
              ev->member = member_key (st, (ReferralMember) g_rand_int_range (rnd, 0, (gint32) n));
              se.expect = REFERRAL_ERROR_DUPLICATE_MEMBER;
            }
          else
            {
              ev->sponsor = sdup (st, "ghost%u", st->next_id);
              se.expect = REFERRAL_ERROR_UNKNOWN_MEMBER;
            }
        }
    }
  else if (choice < 58 || (!f.allow_refunds && choice < 70) || (!f.allow_withdraw && choice < 80))
    {
      ev->type = REFERRAL_EVENT_ORDER;
      what = ORDER;
      who = (ReferralMember) g_rand_int_range (rnd, 0, (gint32) n);
      ev->member = member_key (st, who);
      ev->order = sdup (st, "o%u", st->next_order++);
      gint r = g_rand_int_range (rnd, 0, 100);
      amount = r < 3 ? g_rand_int_range (rnd, 1, 100)
             : r < 6 ? (gint64) g_rand_int_range (rnd, 1, 1 << 30) * 1000
             : g_rand_int_range (rnd, 1, 300000);
      ev->amount = amount;
      gint k = g_rand_int_range (rnd, 0, 10);
      ev->sku = k < 5 ? NULL : k < 8 ? "pack" : "other";
      if (invalid)
        {
          gint w = g_rand_int_range (rnd, 0, 3);
          if (w == 0)
            {
              ev->member = sdup (st, "ghost%u", st->next_id);
              se.expect = REFERRAL_ERROR_UNKNOWN_MEMBER;
            }
          else if (w == 1)
            {
              ev->amount = 0;
              se.expect = REFERRAL_ERROR_INVALID_EVENT;
            }
          else if (s->orders->len > 0)
            {
              MOrder *old = g_ptr_array_index (s->orders, g_rand_int_range (rnd, 0, (gint32) s->orders->len));
              ev->order = old->key;
              se.expect = REFERRAL_ERROR_DUPLICATE_ORDER;
            }
        }
    }
  else if (choice < 70)
    {
      ev->type = REFERRAL_EVENT_REFUND;
      what = REFUND;
      if (s->orders->len == 0 || (invalid && g_rand_boolean (rnd)))
        {
          ev->order = sdup (st, "nosuch%u", st->next_id);
          se.expect = REFERRAL_ERROR_UNKNOWN_ORDER;
        }
      else
        {
          order = g_ptr_array_index (s->orders, g_rand_int_range (rnd, 0, (gint32) s->orders->len));
          ev->order = order->key;
          if (order->refunded)
            se.expect = REFERRAL_ERROR_ALREADY_REFUNDED;
        }
    }
  else if (choice < 74)
    {
      ev->type = REFERRAL_EVENT_PERIOD_CLOSE;
      what = CLOSE;
      ev->period = sdup (st, "p%u", st->next_period++);
    }
  else if (choice < 80)
    {
      ev->type = REFERRAL_EVENT_WITHDRAW;
      what = WITHDRAW;
      who = (ReferralMember) g_rand_int_range (rnd, 0, (gint32) n);
      ev->member = member_key (st, who);
      gint64 av = AVAIL (s, who);
      if (av > 0 && g_rand_int_range (rnd, 0, 100) < 75)
        amount = av < G_MAXINT32 ? g_rand_int_range (rnd, 1, (gint32) av + 1) : av / 2 + 1;
      else
        amount = MAX (av, 0) + g_rand_int_range (rnd, 1, 1000);
      ev->amount = amount;
      if (amount > av)
        se.expect = REFERRAL_ERROR_INSUFFICIENT_FUNDS;
    }
  else if (choice < 88)
    {
      ev->type = REFERRAL_EVENT_PROMOTE;
      what = PROMOTE;
      who = (ReferralMember) g_rand_int_range (rnd, 0, (gint32) n);
      ev->member = member_key (st, who);
      guint r = (guint) g_rand_int_range (rnd, 0, (gint32) m->n_ranks + (invalid ? 1 : 0));
      if (r == m->n_ranks)
        {
          ev->rank = "boss";
          se.expect = REFERRAL_ERROR_INVALID_RANK;
        }
      else
        {
          ev->rank = m->ranks[r];
          target = (ReferralRank) r;
          if (target <= RANK (s, who))
            se.expect = REFERRAL_ERROR_INVALID_RANK;
        }
    }
  else if (f.allow_duplicates && st->applied->len > 0)
    {
      guint pick = g_array_index (st->applied, guint,
                                  g_rand_int_range (rnd, 0, (gint32) st->applied->len));
      SEvent *old = &g_array_index (st->events, SEvent, pick);
      st->next_id--;  /* no new id used */
      se.ev = old->ev;
      if (choice < 96)
        se.expect = EXPECT_DUPLICATE;
      else
        {
          /* Same id, other content. */
          ReferralEvent other = REFERRAL_EVENT_INIT;
          other.type = REFERRAL_EVENT_JOIN;
          other.id = old->ev.id;
          other.member = sdup (st, "conflict%u", st->next_member++);
          se.ev = other;
          se.expect = REFERRAL_ERROR_ID_CONFLICT;
        }
    }
  else
    {
      ev->type = REFERRAL_EVENT_PERIOD_CLOSE;
      what = CLOSE;
      ev->period = sdup (st, "p%u", st->next_period++);
    }

  guint ev_no = st->events->len;
  se.res = apply_expect (e, &se.ev, se.expect, seed, ev_no, TRUE);
  if (se.expect == EXPECT_APPLIED)
    {
      switch (what)
        {
        case JOIN:
          {
            ReferralRank r0 = 0;
            gint64 zero = 0;
            g_array_append_val (s->sponsor, sponsor);
            g_array_append_val (s->rank, r0);
            g_array_append_val (s->available, zero);
            break;
          }
        case ORDER:
          {
            MOrder *o = g_new0 (MOrder, 1);
            o->key = g_strdup (se.ev.order);
            o->buyer = who;
            o->amount = amount;
            o->payouts = g_array_new (FALSE, FALSE, sizeof (Payout));
            o->applied = se.res;
            o->late = late;
            model_order (s, o, se.ev.sku);
            g_ptr_array_add (s->orders, o);
            /* The sale and one posting per payout, nothing else. */
            tu_check (se.res.n_postings == 1 + o->payouts->len,
                      "seed %u event %u: %" G_GUINT64_FORMAT " postings, model %u", seed,
                      ev_no, se.res.n_postings, 1 + o->payouts->len);
            break;
          }
        case REFUND:
          check_reversal (e, order, se.res, seed);
          model_refund (s, order);
          break;
        case CLOSE:
          s->periods++;
          break;
        case WITHDRAW:
          AVAIL (s, who) -= amount;
          s->outside += amount;
          break;
        case PROMOTE:
          RANK (s, who) = target;
          break;
        case NONE:
          break;
        }
      guint idx = ev_no;
      g_array_append_val (st->applied, idx);
    }
  g_array_append_val (st->events, se);

  /* (a) conservation and invariants after every event; the model agrees. */
  const ReferralLedger *l = referral_engine_ledger (e);
  tu_check (referral_ledger_is_balanced (l), "seed %u event %u: ledger not balanced", seed, ev_no);
  GError *err = NULL;
  tu_check (referral_engine_check_invariants (e, &err), "seed %u event %u: %s", seed, ev_no,
                 err ? err->message : "");
  compare_state (e, s, seed, ev_no);
  return se.expect;
}

/* (b) the stream replayed on a fresh engine: same outcomes, same postings,
 * same hash. */
static void
replay_and_compare (const Model *m, const Stream *st, const ReferralEngine *first, guint seed)
{
  g_autoptr (ReferralScheme) scheme = model_scheme (m);
  ReferralEngine *e = tu_engine_new (scheme);
  for (guint i = 0; i < st->events->len; i++)
    {
      const SEvent *se = &g_array_index (st->events, SEvent, i);
      ReferralApplyResult r = apply_expect (e, &se->ev, se->expect, seed, i, FALSE);
      if (se->expect == EXPECT_APPLIED || se->expect == EXPECT_DUPLICATE)
        tu_check (r.seq == se->res.seq && r.first_posting == se->res.first_posting
                       && r.n_postings == se->res.n_postings,
                       "seed %u event %u: replay gave another result", seed, i);
    }
  const ReferralLedger *a = referral_engine_ledger (first), *b = referral_engine_ledger (e);
  tu_check (referral_ledger_n_postings (a) == referral_ledger_n_postings (b),
            "seed %u: replay made another number of postings", seed);
  for (guint64 i = 0; i < referral_ledger_n_postings (a); i++)
    {
      const ReferralPosting *p = referral_ledger_posting (a, i), *q = referral_ledger_posting (b, i);
      tu_check (p->amount == q->amount && p->from == q->from && p->to == q->to
                     && p->event == q->event && p->cause_delta == q->cause_delta
                     && p->kind == q->kind && p->rule == q->rule && p->flags == q->flags,
                     "seed %u: posting %" G_GUINT64_FORMAT " differs on replay", seed, i);
    }
  tu_check (referral_engine_n_events (e) == referral_engine_n_events (first),
            "seed %u: replay applied another number of events", seed);
  tu_check (referral_engine_state_hash (e) == referral_engine_state_hash (first),
                 "seed %u: replay has another state hash", seed);
  referral_engine_free (e);
}

/* The main property run: streams [from, to). */
static void
run_streams (guint from, guint to)
{
  GenFlags f = { TRUE, TRUE, TRUE, TRUE };
  for (guint i = from; i < to; i++)
    {
      guint seed = 0x5eed0000u + i;
      const Model *m = &models[i % G_N_ELEMENTS (models)];
      GRand *rnd = g_rand_new_with_seed (seed);
      g_autoptr (ReferralScheme) scheme = model_scheme (m);
      ReferralEngine *e = tu_engine_new (scheme);
      State s;
      state_init (&s, m);
      Stream st;
      stream_init (&st);
      guint len = (guint) g_rand_int_range (rnd, 50, 301);
      guint outcomes[3] = { 0, 0, 0 };
      for (guint k = 0; k < len; k++)
        {
          int r = step (e, &s, &st, rnd, f, seed, FALSE);
          outcomes[r == EXPECT_APPLIED ? 0 : r == EXPECT_DUPLICATE ? 1 : 2]++;
        }
      /* Each stream exercised every kind of outcome it could. */
      ck_assert_uint_gt (outcomes[0], len / 2);
      replay_and_compare (m, &st, e, seed);

      /* A stream that differs in one applied order's amount gives another
       * hash (checked on some streams; it replays the whole stream). */
      if (i % 50 == 0)
        {
          ReferralEngine *e3 = tu_engine_new (scheme);
          gboolean changed = FALSE;
          for (guint k = 0; k < st.events->len; k++)
            {
              ReferralEvent ev = g_array_index (st.events, SEvent, k).ev;
              if (!changed && ev.type == REFERRAL_EVENT_ORDER
                  && g_array_index (st.events, SEvent, k).expect == EXPECT_APPLIED)
                {
                  ev.amount += 1;
                  changed = TRUE;
                }
              referral_engine_apply (e3, &ev, NULL, NULL);
            }
          ck_assert (changed);
          ck_assert_uint_ne (referral_engine_state_hash (e3), referral_engine_state_hash (e));
          referral_engine_free (e3);
        }
      stream_clear (&st);
      state_clear (&s);
      referral_engine_free (e);
      g_rand_free (rnd);
    }
}

START_TEST (test_streams_0)
{
  run_streams (0, N_STREAMS / 4);
}
END_TEST

START_TEST (test_streams_1)
{
  run_streams (N_STREAMS / 4, N_STREAMS / 2);
}
END_TEST

START_TEST (test_streams_2)
{
  run_streams (N_STREAMS / 2, 3 * N_STREAMS / 4);
}
END_TEST

START_TEST (test_streams_3)
{
  run_streams (3 * N_STREAMS / 4, N_STREAMS);
}
END_TEST

/* (c) Joins, promotes, period closes and orders, no withdrawals: snapshot
 * every balance; then more of the same; then refund every order made after
 * the snapshot, in random order: every balance is back to the snapshot
 * (members who joined since are back to zero). */
START_TEST (test_refund_all)
{
  GenFlags f = { FALSE, FALSE, FALSE, FALSE };
  for (guint i = 0; i < N_REFUND_STREAMS; i++)
    {
      guint seed = 0xbac0000u + i;
      const Model *m = &models[i % G_N_ELEMENTS (models)];
      GRand *rnd = g_rand_new_with_seed (seed);
      g_autoptr (ReferralScheme) scheme = model_scheme (m);
      ReferralEngine *e = tu_engine_new (scheme);
      State s;
      state_init (&s, m);
      Stream st;
      stream_init (&st);
      guint before = (guint) g_rand_int_range (rnd, 5, 60);
      guint after = (guint) g_rand_int_range (rnd, 5, 80);
      for (guint k = 0; k < before; k++)
        step (e, &s, &st, rnd, f, seed, FALSE);
      GArray *snap = tu_balances_dup (e);
      for (guint k = 0; k < after; k++)
        step (e, &s, &st, rnd, f, seed, TRUE);
      /* Refund the late orders in a random order. */
      GPtrArray *late = g_ptr_array_new ();
      for (guint k = 0; k < s.orders->len; k++)
        {
          MOrder *o = g_ptr_array_index (s.orders, k);
          if (o->late)
            g_ptr_array_add (late, o);
        }
      for (guint k = late->len; k > 1; k--)
        {
          guint j = (guint) g_rand_int_range (rnd, 0, (gint32) k);
          gpointer tmp = late->pdata[k - 1];
          late->pdata[k - 1] = late->pdata[j];
          late->pdata[j] = tmp;
        }
      for (guint k = 0; k < late->len; k++)
        {
          MOrder *o = g_ptr_array_index (late, k);
          g_autofree char *id = g_strdup_printf ("refund-%u", k);
          ReferralEvent ev = tu_refund (id, o->key);
          ReferralApplyResult rr = apply_ok (e, &ev);
          check_reversal (e, o, rr, seed);
          model_refund (&s, o);
          tu_check (referral_ledger_is_balanced (referral_engine_ledger (e)),
                    "seed %u: not balanced after refund %u", seed, k);
        }
      compare_state (e, &s, seed, G_MAXUINT);
      GArray *now = tu_balances_dup (e);
      ck_assert_uint_ge (now->len, snap->len);
      for (guint a = 0; a < now->len; a++)
        {
          gint64 want = a < snap->len ? g_array_index (snap, gint64, a) : 0;
          tu_check (g_array_index (now, gint64, a) == want,
                         "seed %u: account %u is %" G_GINT64_FORMAT ", was %" G_GINT64_FORMAT,
                         seed, a, g_array_index (now, gint64, a), want);
        }
      g_array_unref (now);
      g_array_unref (snap);
      g_ptr_array_unref (late);
      stream_clear (&st);
      state_clear (&s);
      referral_engine_free (e);
      g_rand_free (rnd);
    }
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("property");
  TCase *tc = tu_tcase (s, "streams", 280);
  tcase_add_test (tc, test_streams_0);
  tcase_add_test (tc, test_streams_1);
  tcase_add_test (tc, test_streams_2);
  tcase_add_test (tc, test_streams_3);
  tc = tu_tcase (s, "refund_all", 280);
  tcase_add_test (tc, test_refund_all);
  return tu_run_suites (s, NULL);
}
