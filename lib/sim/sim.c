/* The population simulation: people, their days, and the events they make.
 *
 * The simulation is a client of the public engine API: it builds
 * ReferralEvent structs and applies them, then reads the postings each
 * event made (their range is in the ReferralApplyResult) to keep its
 * figures.  It knows nothing of any scheme beyond its rank names.
 *
 * Members are indexed as in the engine's tree: the simulation is the only
 * one to apply joins, so its arrays and the tree grow together (a rejected
 * join adds to neither). */
#include "sim-private.h"

#include <string.h>
#include <referral/error.h>

/* Member flags. */
enum {
  MEMBER_ACTIVE = 1 << 0,  /* has not churned */
  MEMBER_ENTERED = 1 << 1, /* bought the entry product, or was promoted as a founder */
  MEMBER_BOUGHT = 1 << 2   /* bought the entry product */
};

/* An order picked for a refund the next day. */
typedef struct {
  guint64 order;           /* its number: the id is "o<number>" */
  ReferralMember buyer;
  gint64 amount;
  ReferralSimOrigin origin;
} PendingRefund;

/* ---- small helpers -------------------------------------------------------- */

static gboolean
add_checked (gint64 *total, gint64 amount, GError **error)
{
  if (referral_money_add (*total, amount, total))
    return TRUE;
  g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_OVERFLOW,
               "simulation: a money total does not fit in 64 bits");
  return FALSE;
}

static void
grow_members (ReferralSim *sim)
{
  if (sim->n_members < sim->cap_members)
    return;
  guint32 cap = sim->cap_members ? sim->cap_members * 2 : 1024;
  sim->person_key = g_renew (guint64, sim->person_key, cap);
  sim->join_day = g_renew (guint32, sim->join_day, cap);
  sim->flags = g_renew (guint8, sim->flags, cap);
  sim->paid = g_renew (gint64, sim->paid, cap);
  sim->rewards = g_renew (gint64, sim->rewards, cap);
  sim->cap_members = cap;
}

/* Makes room for kind @kind in the per-kind accumulators. */
static void
see_kind (ReferralSim *sim, ReferralKind kind)
{
  if (kind < sim->n_kinds)
    return;
  guint n = (guint) kind + 1;
  sim->kind_today = g_renew (gint64, sim->kind_today, n);
  sim->kind_total = g_renew (gint64, sim->kind_total, n);
  for (guint k = sim->n_kinds; k < n; k++)
    sim->kind_today[k] = sim->kind_total[k] = 0;
  sim->n_kinds = n;
}

/* ---- configuration against the scheme ------------------------------------ */

static gboolean
value_error (GError **error, const SimValue *v, const char *message)
{
  g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME, "%s: %s", v->where, message);
  return FALSE;
}

static gboolean
resolve_money (ReferralSim *sim, SimKey key, gint64 *out, GError **error)
{
  const SimValue *v = &sim->config->values[key];
  GError *local = NULL;
  if (!referral_money_parse (v->text, sim->decimals, FALSE, out, &local))
    {
      g_autofree char *msg = g_strdup_printf ("%s (scheme \"%s\" has %u decimals)",
                                              local->message,
                                              referral_scheme_name (sim->scheme),
                                              sim->decimals);
      g_error_free (local);
      return value_error (error, v, msg);
    }
  return TRUE;
}

/* A per-rank list: the last entry applies to higher ranks.  A list longer
 * than the scheme's ranks is refused when it was set, and cut when it is
 * the default (defaults must suit every scheme). */
static gboolean
resolve_rank_list (ReferralSim *sim, SimKey key, guint64 *thresholds, GError **error)
{
  const SimValue *v = &sim->config->values[key];
  if (v->is_set && v->n_rates > sim->n_ranks)
    {
      g_autofree char *msg = g_strdup_printf ("has %u entries but scheme \"%s\" has %u "
                                              "rank%s", v->n_rates,
                                              referral_scheme_name (sim->scheme),
                                              sim->n_ranks, sim->n_ranks == 1 ? "" : "s");
      return value_error (error, v, msg);
    }
  for (guint r = 0; r < sim->n_ranks; r++)
    thresholds[r] = sim_rate_threshold (v->rates[MIN (r, v->n_rates - 1)]);
  return TRUE;
}

static guint64
rate_of (const ReferralSim *sim, SimKey key)
{
  return sim_rate_threshold (sim->config->values[key].rates[0]);
}

static gboolean
resolve_config (ReferralSim *sim, GError **error)
{
  const SimValue *values = sim->config->values;
  sim->seed = values[SIM_KEY_SEED].u;
  sim->market = (guint32) values[SIM_KEY_MEMBERS].u;
  sim->n_days = (guint32) values[SIM_KEY_DAYS].u;
  sim->founders = (guint32) values[SIM_KEY_FOUNDERS].u;
  sim->cohort_days = (guint32) values[SIM_KEY_COHORT_DAYS].u;
  sim->saturation = values[SIM_KEY_RECRUIT_SATURATION].u != 0;
  if (sim->founders > sim->market)
    {
      g_autofree char *msg = g_strdup_printf ("%u founders do not fit in a market of %u "
                                              "people (key \"members\")", sim->founders,
                                              sim->market);
      return value_error (error, &values[SIM_KEY_FOUNDERS], msg);
    }

  const SimValue *fr = &values[SIM_KEY_FOUNDER_RANK];
  sim->promote_founders = fr->text[0] != '\0';
  if (sim->promote_founders)
    {
      if (!referral_scheme_lookup_rank (sim->scheme, fr->text, &sim->founder_rank))
        {
          GString *names = g_string_new (NULL);
          for (guint r = 0; r < sim->n_ranks; r++)
            g_string_append_printf (names, "%s%s", r ? ", " : "",
                                    referral_scheme_rank_name (sim->scheme, (ReferralRank) r));
          g_autofree char *msg = g_strdup_printf ("scheme \"%s\" has no rank \"%s\" "
                                                  "(ranks: %s)",
                                                  referral_scheme_name (sim->scheme),
                                                  fr->text, names->str);
          g_string_free (names, TRUE);
          return value_error (error, fr, msg);
        }
      if (sim->founder_rank == 0)
        return value_error (error, fr, "is the entry rank, which every member has: leave "
                                       "it empty");
    }

  sim->entry_sku = values[SIM_KEY_ENTRY_SKU].text;
  sim->retail_sku = values[SIM_KEY_REPURCHASE_SKU].text;
  if (strcmp (sim->entry_sku, sim->retail_sku) == 0)
    return value_error (error, &values[SIM_KEY_REPURCHASE_SKU],
                        "is the entry product's sku: the two products must differ");
  if (!resolve_money (sim, SIM_KEY_ENTRY_PRICE, &sim->entry_price, error)
      || !resolve_money (sim, SIM_KEY_REPURCHASE_PRICE, &sim->retail_price, error)
      || !resolve_rank_list (sim, SIM_KEY_RECRUIT_RATES, sim->recruit_thr, error)
      || !resolve_rank_list (sim, SIM_KEY_CHURN_RATES, sim->churn_thr, error))
    return FALSE;
  sim->entry_thr = rate_of (sim, SIM_KEY_ENTRY_RATE);
  sim->entry_later_thr = rate_of (sim, SIM_KEY_ENTRY_LATER_RATE);
  sim->repurchase_thr = rate_of (sim, SIM_KEY_REPURCHASE_RATE);
  sim->refund_thr = rate_of (sim, SIM_KEY_REFUND_RATE);
  sim->withdraw_thr = rate_of (sim, SIM_KEY_WITHDRAW_RATE);
  return TRUE;
}

ReferralSim *
referral_sim_new (ReferralScheme *scheme, const ReferralSimConfig *config, GError **error)
{
  g_return_val_if_fail (scheme != NULL && config != NULL, NULL);
  ReferralSim *sim = g_new0 (ReferralSim, 1);
  sim->scheme = referral_scheme_ref (scheme);
  sim->config = referral_sim_config_copy (config);
  sim->decimals = referral_scheme_decimals (scheme);
  sim->n_ranks = referral_scheme_n_ranks (scheme);
  sim->days = g_array_new (FALSE, TRUE, sizeof (ReferralSimDay));
  sim->kind_days = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  sim->pending = g_array_new (FALSE, FALSE, sizeof (PendingRefund));
  sim->due = g_array_new (FALSE, FALSE, sizeof (PendingRefund));
  sim->cohorts = g_array_new (FALSE, TRUE, sizeof (ReferralSimGroup));
  if (!resolve_config (sim, error))
    {
      referral_sim_free (sim);
      return NULL;
    }
  sim->engine = referral_engine_new (scheme, error);
  if (sim->engine == NULL)
    {
      referral_sim_free (sim);
      return NULL;
    }
  referral_engine_set_check_invariants (sim->engine,
                                        sim->config->values[SIM_KEY_CHECK_INVARIANTS].u != 0);
  guint n_kinds = referral_ledger_n_kinds (referral_engine_ledger (sim->engine));
  see_kind (sim, (ReferralKind) MAX (n_kinds, REFERRAL_KIND_RELEASE + 1u) - 1);
  return sim;
}

void
referral_sim_free (ReferralSim *sim)
{
  if (sim == NULL)
    return;
  referral_engine_free (sim->engine);
  referral_scheme_unref (sim->scheme);
  referral_sim_config_free (sim->config);
  g_free (sim->person_key);
  g_free (sim->join_day);
  g_free (sim->flags);
  g_free (sim->paid);
  g_free (sim->rewards);
  g_free (sim->kind_today);
  g_free (sim->kind_total);
  g_array_unref (sim->days);
  g_ptr_array_unref (sim->kind_days);
  g_array_unref (sim->pending);
  g_array_unref (sim->due);
  g_array_unref (sim->cohorts);
  g_free (sim->first_rejection);
  g_free (sim);
}

ReferralEngine *
referral_sim_engine (const ReferralSim *sim)
{
  g_return_val_if_fail (sim != NULL, NULL);
  return sim->engine;
}

const ReferralSimConfig *
referral_sim_config (const ReferralSim *sim)
{
  g_return_val_if_fail (sim != NULL, NULL);
  return sim->config;
}

guint
referral_sim_n_days (const ReferralSim *sim)
{
  g_return_val_if_fail (sim != NULL, 0);
  return sim->n_days;
}

guint
referral_sim_days_done (const ReferralSim *sim)
{
  g_return_val_if_fail (sim != NULL, 0);
  return sim->days->len;
}

const char *
referral_sim_first_rejection (const ReferralSim *sim)
{
  g_return_val_if_fail (sim != NULL, NULL);
  return sim->first_rejection;
}

/* ---- applying events ------------------------------------------------------ */

/* Books one reward (positive) or its reversal (negative) to @member. */
static gboolean
book_reward (ReferralSim *sim, ReferralMember member, ReferralKind kind, gint64 amount,
             ReferralSimOrigin origin, GError **error)
{
  ReferralSimDay *today = &sim->today;
  return add_checked (&sim->rewards[member], amount, error)
         && add_checked (&today->rewards, amount, error)
         && add_checked (&today->rewards_by_origin[origin], amount, error)
         && add_checked (&sim->kind_today[kind], amount, error);
}

/* Reads the postings an event made.  Rewards are postings from the platform
 * or a pool to a member's funds; a posting back (a refund's reversal) is a
 * negative reward.  Held funds are followed through every posting. */
static gboolean
book_postings (ReferralSim *sim, const ReferralApplyResult *result, ReferralSimOrigin origin,
               GError **error)
{
  const ReferralLedger *ledger = referral_engine_ledger (sim->engine);
  for (guint64 i = result->first_posting; i < result->first_posting + result->n_postings; i++)
    {
      const ReferralPosting *p = referral_ledger_posting (ledger, i);
      see_kind (sim, p->kind);
      gboolean from_held = FALSE, to_held = FALSE;
      ReferralMember from = referral_ledger_account_member (ledger, p->from, &from_held);
      ReferralMember to = referral_ledger_account_member (ledger, p->to, &to_held);
      if (to != REFERRAL_NO_MEMBER && to_held && !add_checked (&sim->held, p->amount, error))
        return FALSE;
      if (from != REFERRAL_NO_MEMBER && from_held
          && !add_checked (&sim->held, -p->amount, error))
        return FALSE;
      gboolean from_scheme = from == REFERRAL_NO_MEMBER && p->from != REFERRAL_ACCOUNT_OUTSIDE;
      gboolean to_scheme = to == REFERRAL_NO_MEMBER && p->to != REFERRAL_ACCOUNT_OUTSIDE;
      if (from_scheme && to != REFERRAL_NO_MEMBER)
        {
          if (!book_reward (sim, to, p->kind, p->amount, origin, error))
            return FALSE;
        }
      else if (from != REFERRAL_NO_MEMBER && to_scheme)
        {
          if (!book_reward (sim, from, p->kind, -p->amount, origin, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* Applies @ev with the next event id.  Returns 1 when applied, 0 when the
 * engine rejected it (counted; the simulation goes on), -1 on an error. */
static int
apply (ReferralSim *sim, ReferralEvent *ev, ReferralSimOrigin origin, GError **error)
{
  char id[32];
  g_snprintf (id, sizeof id, "e%" G_GUINT64_FORMAT, ++sim->n_event_ids);
  ev->id = id;
  ReferralApplyResult result;
  GError *local = NULL;
  if (!referral_engine_apply (sim->engine, ev, &result, &local))
    {
      sim->today.rejected++;
      if (sim->first_rejection == NULL)
        sim->first_rejection = g_strdup (local->message);
      g_error_free (local);
      return 0;
    }
  return book_postings (sim, &result, origin, error) ? 1 : -1;
}

static int
order (ReferralSim *sim, ReferralMember buyer, gboolean entry, GError **error)
{
  char order_id[32];
  guint64 number = ++sim->n_orders;
  g_snprintf (order_id, sizeof order_id, "o%" G_GUINT64_FORMAT, number);
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  ev.type = REFERRAL_EVENT_ORDER;
  ev.order = order_id;
  ev.member = referral_tree_key (referral_engine_tree (sim->engine), buyer);
  ev.amount = entry ? sim->entry_price : sim->retail_price;
  ev.sku = entry ? sim->entry_sku : sim->retail_sku;
  ReferralSimOrigin origin = entry ? REFERRAL_SIM_ORIGIN_ENTRY : REFERRAL_SIM_ORIGIN_RETAIL;
  int status = apply (sim, &ev, origin, error);
  if (status <= 0)
    return status;
  ReferralSimDay *today = &sim->today;
  if (!add_checked (&sim->paid[buyer], ev.amount, error)
      || !add_checked (entry ? &today->entry_sales : &today->retail_sales, ev.amount, error))
    return -1;
  if (entry)
    {
      today->entry_orders++;
      sim->flags[buyer] |= MEMBER_ENTERED | MEMBER_BOUGHT;
    }
  else
    today->retail_orders++;
  SimDraw what = entry ? SIM_DRAW_REFUND_ENTRY : SIM_DRAW_REFUND_RETAIL;
  if (sim_draw (sim->person_key[buyer], sim->days->len + 1, what) < sim->refund_thr)
    {
      PendingRefund r = { number, buyer, ev.amount, origin };
      g_array_append_val (sim->pending, r);
    }
  return 1;
}

static int
refund (ReferralSim *sim, const PendingRefund *r, GError **error)
{
  char order_id[32];
  g_snprintf (order_id, sizeof order_id, "o%" G_GUINT64_FORMAT, r->order);
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  ev.type = REFERRAL_EVENT_REFUND;
  ev.order = order_id;
  int status = apply (sim, &ev, r->origin, error);
  if (status <= 0)
    return status;
  sim->today.refunds++;
  if (!add_checked (&sim->paid[r->buyer], -r->amount, error)
      || !add_checked (&sim->today.refunded, r->amount, error))
    return -1;
  return 1;
}

/* A new person joins under @sponsor (REFERRAL_NO_MEMBER: a founder) and
 * sets *@member to its index, or REFERRAL_NO_MEMBER when the engine
 * refused the join. */
static int
join (ReferralSim *sim, ReferralMember sponsor, ReferralMember *member, GError **error)
{
  guint32 person = sim->persons++;
  char key[32];
  g_snprintf (key, sizeof key, "m%" G_GUINT32_FORMAT, person + 1);
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  ev.type = REFERRAL_EVENT_JOIN;
  ev.member = key;
  if (sponsor != REFERRAL_NO_MEMBER)
    ev.sponsor = referral_tree_key (referral_engine_tree (sim->engine), sponsor);
  *member = REFERRAL_NO_MEMBER;
  int status = apply (sim, &ev, REFERRAL_SIM_ORIGIN_OTHER, error);
  if (status <= 0)
    return status;
  grow_members (sim);
  ReferralMember m = sim->n_members++;
  g_assert (m + 1 == referral_tree_size (referral_engine_tree (sim->engine)));
  sim->person_key[m] = sim_person_key (sim->seed, person);
  sim->join_day[m] = sim->days->len + 1;
  sim->flags[m] = MEMBER_ACTIVE;
  sim->paid[m] = 0;
  sim->rewards[m] = 0;
  sim->today.joined++;
  sim->active++;
  *member = m;
  return 1;
}

/* A new member buys the entry product on its first day, or not. */
static int
first_purchase (ReferralSim *sim, ReferralMember m, GError **error)
{
  guint32 day = sim->days->len + 1;
  if (sim_draw (sim->person_key[m], day, SIM_DRAW_ENTRY_ON_JOIN) < sim->entry_thr)
    return order (sim, m, TRUE, error);
  return 1;
}

static int
founders_join (ReferralSim *sim, GError **error)
{
  const char *rank = referral_scheme_rank_name (sim->scheme, sim->founder_rank);
  for (guint32 i = 0; i < sim->founders; i++)
    {
      ReferralMember m;
      int status = join (sim, REFERRAL_NO_MEMBER, &m, error);
      if (status < 0)
        return -1;
      if (status == 0)
        continue;
      if (sim->promote_founders)
        {
          ReferralEvent ev = REFERRAL_EVENT_INIT;
          ev.type = REFERRAL_EVENT_PROMOTE;
          ev.member = referral_tree_key (referral_engine_tree (sim->engine), m);
          ev.rank = rank;
          status = apply (sim, &ev, REFERRAL_SIM_ORIGIN_OTHER, error);
          if (status < 0)
            return -1;
          if (status > 0)
            sim->flags[m] |= MEMBER_ENTERED;
        }
      else if (first_purchase (sim, m, error) < 0)
        return -1;
    }
  return 1;
}

/* ---- one day ------------------------------------------------------------- */

/* Churn, buy, recruit: one member's turn. */
static int
member_turn (ReferralSim *sim, ReferralMember m, const guint64 *recruit_thr, GError **error)
{
  guint32 day = sim->days->len + 1;
  ReferralRank rank = referral_tree_rank (referral_engine_tree (sim->engine), m);
  guint64 key = sim->person_key[m];
  if (sim_draw (key, day, SIM_DRAW_CHURN) < sim->churn_thr[rank])
    {
      sim->flags[m] &= (guint8) ~MEMBER_ACTIVE;
      sim->today.churned++;
      sim->active--;
      return 1;
    }
  gboolean entered = (sim->flags[m] & MEMBER_ENTERED) != 0;
  if (sim_draw (key, day, SIM_DRAW_BUY) < (entered ? sim->repurchase_thr : sim->entry_later_thr)
      && order (sim, m, !entered, error) < 0)
    return -1;
  if (sim->persons < sim->market
      && sim_draw (key, day, SIM_DRAW_RECRUIT) < recruit_thr[rank])
    {
      ReferralMember recruit;
      int status = join (sim, m, &recruit, error);
      if (status < 0)
        return -1;
      if (status > 0 && first_purchase (sim, recruit, error) < 0)
        return -1;
    }
  return 1;
}

static int
withdrawals (ReferralSim *sim, GError **error)
{
  guint32 day = sim->days->len + 1;
  const ReferralLedger *ledger = referral_engine_ledger (sim->engine);
  const ReferralTree *tree = referral_engine_tree (sim->engine);
  for (ReferralMember m = 0; m < sim->n_members; m++)
    {
      if (!(sim->flags[m] & MEMBER_ACTIVE))
        continue;
      gint64 available = referral_ledger_balance (ledger,
                                                  referral_ledger_member_account (ledger, m, FALSE));
      if (available <= 0
          || sim_draw (sim->person_key[m], day, SIM_DRAW_WITHDRAW) >= sim->withdraw_thr)
        continue;
      ReferralEvent ev = REFERRAL_EVENT_INIT;
      ev.type = REFERRAL_EVENT_WITHDRAW;
      ev.member = referral_tree_key (tree, m);
      ev.amount = available;
      int status = apply (sim, &ev, REFERRAL_SIM_ORIGIN_OTHER, error);
      if (status < 0)
        return -1;
      if (status > 0)
        {
          sim->today.withdrawals++;
          if (!add_checked (&sim->today.withdrawn, available, error))
            return -1;
        }
    }
  return 1;
}

/* The figures read at the end of a day. */
static gboolean
close_day (ReferralSim *sim, GError **error)
{
  ReferralSimDay *today = &sim->today;
  const ReferralTree *tree = referral_engine_tree (sim->engine);
  const ReferralLedger *ledger = referral_engine_ledger (sim->engine);
  const ReferralSimDay *yesterday = sim->days->len
    ? &g_array_index (sim->days, ReferralSimDay, sim->days->len - 1) : NULL;

  today->members = sim->n_members;
  today->active = sim->active;
  for (ReferralMember m = 0; m < sim->n_members; m++)
    {
      today->by_rank[referral_tree_rank (tree, m)]++;
      if (sim->rewards[m] - sim->paid[m] < 0)
        today->losers++;
    }
  gint64 sales = yesterday ? yesterday->sales_total : 0;
  today->rewards_total = yesterday ? yesterday->rewards_total : 0;
  if (!add_checked (&sales, today->entry_sales, error)
      || !add_checked (&sales, today->retail_sales, error)
      || !add_checked (&sales, -today->refunded, error)
      || !add_checked (&today->rewards_total, today->rewards, error))
    return FALSE;
  today->sales_total = sales;
  today->held = sim->held;
  today->pool = 0;
  for (guint p = 0; p < referral_ledger_n_pools (ledger); p++)
    if (!add_checked (&today->pool,
                      referral_ledger_balance (ledger, referral_ledger_pool_account (ledger, p)),
                      error))
      return FALSE;
  today->saturation = (double) today->members / (double) sim->market;
  today->payout_ratio = sales > 0 ? (double) today->rewards_total / (double) sales : 0.0;
  today->loss_share = today->members ? (double) today->losers / (double) today->members : 0.0;

  GArray *kinds = g_array_sized_new (FALSE, FALSE, sizeof (gint64), sim->n_kinds);
  g_array_append_vals (kinds, sim->kind_today, sim->n_kinds);
  g_ptr_array_add (sim->kind_days, kinds);
  for (guint k = 0; k < sim->n_kinds; k++)
    {
      if (!add_checked (&sim->kind_total[k], sim->kind_today[k], error))
        return FALSE;
      sim->kind_today[k] = 0;
    }
  g_array_append_val (sim->days, *today);
  return TRUE;
}

gboolean
referral_sim_step (ReferralSim *sim, GError **error)
{
  g_return_val_if_fail (sim != NULL, FALSE);
  if (sim->days->len >= sim->n_days)
    return FALSE;
  guint32 day = sim->days->len + 1;
  memset (&sim->today, 0, sizeof sim->today);
  sim->today.day = day;
  sim->summary_valid = FALSE;

  /* Yesterday's picks are refunded first, in the order they were made;
   * today's picks wait for tomorrow. */
  GArray *due = sim->pending;
  sim->pending = sim->due;
  g_array_set_size (sim->pending, 0);
  sim->due = due;
  for (guint i = 0; i < due->len; i++)
    if (refund (sim, &g_array_index (due, PendingRefund, i), error) < 0)
      return FALSE;

  if (day == 1 && founders_join (sim, error) < 0)
    return FALSE;

  /* Recruiting gets harder as the market fills: the chance is scaled by
   * the share of the market not yet joined when the day begins. */
  guint64 recruit_thr[REFERRAL_MAX_RANKS];
  guint64 remaining = sim->market - sim->persons;
  for (guint r = 0; r < sim->n_ranks; r++)
    recruit_thr[r] = sim->saturation ? sim->recruit_thr[r] * remaining / sim->market
                                     : sim->recruit_thr[r];

  /* Only those who were members when the day began take a turn. */
  guint32 n_start = sim->n_members;
  for (ReferralMember m = 0; m < n_start; m++)
    if ((sim->flags[m] & MEMBER_ACTIVE) && member_turn (sim, m, recruit_thr, error) < 0)
      return FALSE;

  if (sim->withdraw_thr > 0 && withdrawals (sim, error) < 0)
    return FALSE;

  char period[32];
  g_snprintf (period, sizeof period, "d%" G_GUINT32_FORMAT, day);
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  ev.type = REFERRAL_EVENT_PERIOD_CLOSE;
  ev.period = period;
  if (apply (sim, &ev, REFERRAL_SIM_ORIGIN_POOL, error) < 0)
    return FALSE;

  sim->rejected += sim->today.rejected;
  return close_day (sim, error);
}

gboolean
referral_sim_run (ReferralSim *sim, ReferralSimProgressFunc progress, gpointer user_data,
                  GError **error)
{
  g_return_val_if_fail (sim != NULL, FALSE);
  while (sim->days->len < sim->n_days)
    {
      if (!referral_sim_step (sim, error))
        return FALSE;
      if (progress != NULL)
        progress (sim, user_data);
    }
  return TRUE;
}

/* ---- per-day and per-member accessors -------------------------------------- */

const ReferralSimDay *
referral_sim_day (const ReferralSim *sim, guint day)
{
  g_return_val_if_fail (sim != NULL, NULL);
  if (day == 0 || day > sim->days->len)
    return NULL;
  return &g_array_index (sim->days, ReferralSimDay, day - 1);
}

guint
referral_sim_n_kinds (const ReferralSim *sim)
{
  g_return_val_if_fail (sim != NULL, 0);
  return sim->n_kinds;
}

gint64
referral_sim_day_kind_rewards (const ReferralSim *sim, guint day, ReferralKind kind)
{
  g_return_val_if_fail (sim != NULL, 0);
  if (day == 0)
    return kind < sim->n_kinds ? sim->kind_total[kind] : 0;
  if (day > sim->kind_days->len)
    return 0;
  const GArray *kinds = g_ptr_array_index (sim->kind_days, day - 1);
  return kind < kinds->len ? g_array_index (kinds, gint64, kind) : 0;
}

guint
referral_sim_member_join_day (const ReferralSim *sim, ReferralMember member)
{
  g_return_val_if_fail (sim != NULL && member < sim->n_members, 0);
  return sim->join_day[member];
}

gboolean
referral_sim_member_active (const ReferralSim *sim, ReferralMember member)
{
  g_return_val_if_fail (sim != NULL && member < sim->n_members, FALSE);
  return (sim->flags[member] & MEMBER_ACTIVE) != 0;
}

gint64
referral_sim_member_paid (const ReferralSim *sim, ReferralMember member)
{
  g_return_val_if_fail (sim != NULL && member < sim->n_members, 0);
  return sim->paid[member];
}

gint64
referral_sim_member_rewards (const ReferralSim *sim, ReferralMember member)
{
  g_return_val_if_fail (sim != NULL && member < sim->n_members, 0);
  return sim->rewards[member];
}

gint64
referral_sim_member_net (const ReferralSim *sim, ReferralMember member)
{
  g_return_val_if_fail (sim != NULL && member < sim->n_members, 0);
  return sim->rewards[member] - sim->paid[member];
}

gboolean
sim_member_bought (const ReferralSim *sim, ReferralMember member)
{
  return (sim->flags[member] & MEMBER_BOUGHT) != 0;
}
