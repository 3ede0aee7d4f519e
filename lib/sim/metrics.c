/* End-of-run metrics of a simulation: totals, the distribution of the
 * members' net results, losses by cohort and by rank, inequality.
 *
 * Sums are exact integers (128-bit where a sum of products could pass
 * 2^63); a ratio is one division of two exact sums converted to double, so
 * every figure is the same on every machine. */
#include "sim-private.h"

#include <stdlib.h>
#include <string.h>

__extension__ typedef __int128 SimWide;

static int
compare_gint64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return (x > y) - (x < y);
}

static double
ratio (SimWide num, SimWide den)
{
  return den != 0 ? (double) num / (double) den : 0.0;
}

/* The nearest-rank percentile @percent of the @n sorted values. */
static gint64
percentile (const gint64 *sorted, guint32 n, guint percent)
{
  guint64 rank = ((guint64) n * percent + 99) / 100; /* ceil (n * percent / 100) */
  return sorted[rank ? rank - 1 : 0];
}

/* Gini coefficient of the @n sorted (ascending) values:
 *   G = sum_i (2i - n - 1) x_i / (n sum_i x_i),  i = 1..n
 * which is the mean absolute difference over twice the mean. */
static double
gini (const gint64 *sorted, guint32 n)
{
  SimWide num = 0, sum = 0;
  for (guint32 i = 0; i < n; i++)
    {
      num += (SimWide) (2 * (gint64) (i + 1) - (gint64) n - 1) * sorted[i];
      sum += sorted[i];
    }
  return ratio (num, (SimWide) n * sum);
}

/* The share of the sum held by the ceil(@percent% of @n) largest values. */
static double
top_share (const gint64 *sorted, guint32 n, guint percent)
{
  guint64 k = ((guint64) n * percent + 99) / 100;
  SimWide top = 0, sum = 0;
  for (guint32 i = 0; i < n; i++)
    {
      sum += sorted[i];
      if (i >= n - k)
        top += sorted[i];
    }
  return ratio (top, sum);
}

static void
group_add (ReferralSimGroup *g, gint64 net)
{
  g->members++;
  if (net < 0)
    g->losers++;
  g->net_total += net;
}

static void
group_finish (ReferralSimGroup *g)
{
  g->loss_share = ratio (g->losers, g->members);
}

static void
compute (ReferralSim *sim)
{
  ReferralSimSummary *s = &sim->summary;
  memset (s, 0, sizeof *s);
  guint32 n = sim->n_members;
  s->days = sim->days->len;
  s->market = sim->market;
  s->members = n;
  s->active = sim->active;
  s->rejected = sim->rejected;
  s->events = referral_engine_n_events (sim->engine);
  for (guint d = 0; d < sim->days->len; d++)
    {
      const ReferralSimDay *day = &g_array_index (sim->days, ReferralSimDay, d);
      s->entry_orders += day->entry_orders;
      s->retail_orders += day->retail_orders;
      s->refunds += day->refunds;
      s->withdrawals += day->withdrawals;
      /* Each of these was added to a checked running total day by day
       * (sales_total, rewards_total) or is part of one, so none overflows. */
      s->entry_sales += day->entry_sales;
      s->retail_sales += day->retail_sales;
      s->refunded += day->refunded;
      s->withdrawn += day->withdrawn;
      for (guint o = 0; o < REFERRAL_SIM_N_ORIGINS; o++)
        s->rewards_by_origin[o] += day->rewards_by_origin[o];
    }
  const ReferralSimDay *last = sim->days->len
    ? &g_array_index (sim->days, ReferralSimDay, sim->days->len - 1) : NULL;
  if (last != NULL)
    {
      s->sales = last->sales_total;
      s->rewards = last->rewards_total;
      s->held = last->held;
      s->pool = last->pool;
    }

  const ReferralTree *tree = referral_engine_tree (sim->engine);
  gint64 *nets = g_new (gint64, MAX (n, 1));
  gint64 *earnings = g_new (gint64, MAX (n, 1));
  g_array_set_size (sim->cohorts, 0);
  guint n_cohorts = (sim->days->len + sim->cohort_days - 1) / sim->cohort_days;
  g_array_set_size (sim->cohorts, n_cohorts);
  for (guint c = 0; c < n_cohorts; c++)
    {
      ReferralSimGroup *g = &g_array_index (sim->cohorts, ReferralSimGroup, c);
      g->first_day = c * sim->cohort_days + 1;
      g->last_day = MIN ((c + 1) * sim->cohort_days, sim->days->len);
    }
  memset (sim->rank_groups, 0, sizeof sim->rank_groups);
  for (guint r = 0; r < sim->n_ranks; r++)
    sim->rank_groups[r].rank = (ReferralRank) r;

  for (ReferralMember m = 0; m < n; m++)
    {
      gint64 net = sim->rewards[m] - sim->paid[m];
      nets[m] = net;
      earnings[m] = sim->rewards[m];
      if (net < 0)
        s->losers++;
      else if (net > 0)
        s->winners++;
      if (sim_member_bought (sim, m))
        s->buyers++;
      guint c = (sim->join_day[m] - 1) / sim->cohort_days;
      group_add (&g_array_index (sim->cohorts, ReferralSimGroup, c), net);
      group_add (&sim->rank_groups[referral_tree_rank (tree, m)], net);
    }
  for (guint c = 0; c < n_cohorts; c++)
    group_finish (&g_array_index (sim->cohorts, ReferralSimGroup, c));
  for (guint r = 0; r < sim->n_ranks; r++)
    group_finish (&sim->rank_groups[r]);

  if (n > 0)
    {
      qsort (nets, n, sizeof *nets, compare_gint64);
      qsort (earnings, n, sizeof *earnings, compare_gint64);
      s->net_min = nets[0];
      s->net_p10 = percentile (nets, n, 10);
      s->net_median = percentile (nets, n, 50);
      s->net_p90 = percentile (nets, n, 90);
      s->net_max = nets[n - 1];
      s->gini = gini (earnings, n);
      s->top1_share = top_share (earnings, n, 1);
      s->top10_share = top_share (earnings, n, 10);
    }
  g_free (nets);
  g_free (earnings);

  s->saturation = ratio (n, sim->market);
  s->payout_ratio = s->sales > 0 ? ratio (s->rewards, s->sales) : 0.0;
  s->loss_share = ratio (s->losers, n);
  for (guint o = 0; o < REFERRAL_SIM_N_ORIGINS; o++)
    s->origin_share[o] = ratio (s->rewards_by_origin[o], s->rewards);
  sim->summary_valid = TRUE;
}

const ReferralSimSummary *
referral_sim_summary (ReferralSim *sim)
{
  g_return_val_if_fail (sim != NULL, NULL);
  if (!sim->summary_valid)
    compute (sim);
  return &sim->summary;
}

guint
referral_sim_n_cohorts (ReferralSim *sim)
{
  g_return_val_if_fail (sim != NULL, 0);
  referral_sim_summary (sim);
  return sim->cohorts->len;
}

const ReferralSimGroup *
referral_sim_cohort (ReferralSim *sim, guint index)
{
  g_return_val_if_fail (sim != NULL, NULL);
  referral_sim_summary (sim);
  g_return_val_if_fail (index < sim->cohorts->len, NULL);
  return &g_array_index (sim->cohorts, ReferralSimGroup, index);
}

const ReferralSimGroup *
referral_sim_rank_group (ReferralSim *sim, ReferralRank rank)
{
  g_return_val_if_fail (sim != NULL, NULL);
  if (rank >= sim->n_ranks)
    return NULL;
  referral_sim_summary (sim);
  return &sim->rank_groups[rank];
}
