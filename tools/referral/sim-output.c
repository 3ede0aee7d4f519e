/* Outputs of `referral simulate`: the text report, JSON and CSV files. */
#include "sim-output.h"
#include "output.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#define DAY(field) offsetof (ReferralSimDay, field)
#define SUM(field) offsetof (ReferralSimSummary, field)

const Column sim_day_columns[] = {
  { "day", COLUMN_U32, DAY (day), "the day, from 1" },
  { "members", COLUMN_U32, DAY (members), "members at the end of the day" },
  { "joined", COLUMN_U32, DAY (joined), "members who joined during the day" },
  { "active", COLUMN_U32, DAY (active), "members not churned at the end of the day" },
  { "churned", COLUMN_U32, DAY (churned), "members who became inactive during the day" },
  { "entry_orders", COLUMN_U32, DAY (entry_orders), "orders of the entry product" },
  { "retail_orders", COLUMN_U32, DAY (retail_orders), "orders of the repurchase product" },
  { "refunds", COLUMN_U32, DAY (refunds), "orders refunded" },
  { "withdrawals", COLUMN_U32, DAY (withdrawals), "withdrawals" },
  { "rejected", COLUMN_U32, DAY (rejected), "events the engine rejected" },
  { "entry_sales", COLUMN_MONEY, DAY (entry_sales), "amount of the entry orders" },
  { "retail_sales", COLUMN_MONEY, DAY (retail_sales), "amount of the repurchase orders" },
  { "refunded", COLUMN_MONEY, DAY (refunded), "amount refunded" },
  { "withdrawn", COLUMN_MONEY, DAY (withdrawn), "amount withdrawn" },
  { "rewards", COLUMN_MONEY, DAY (rewards), "net rewards paid" },
  { "rewards_entry", COLUMN_MONEY, DAY (rewards_by_origin[REFERRAL_SIM_ORIGIN_ENTRY]),
    "net rewards paid by entry orders (recruitment)" },
  { "rewards_retail", COLUMN_MONEY, DAY (rewards_by_origin[REFERRAL_SIM_ORIGIN_RETAIL]),
    "net rewards paid by repurchase orders (retail)" },
  { "rewards_pool", COLUMN_MONEY, DAY (rewards_by_origin[REFERRAL_SIM_ORIGIN_POOL]),
    "rewards paid by the period close (pool shares)" },
  { "rewards_other", COLUMN_MONEY, DAY (rewards_by_origin[REFERRAL_SIM_ORIGIN_OTHER]),
    "rewards paid by other events" },
  { "sales_total", COLUMN_MONEY, DAY (sales_total), "net sales since day 1" },
  { "rewards_total", COLUMN_MONEY, DAY (rewards_total), "net rewards since day 1" },
  { "held", COLUMN_MONEY, DAY (held), "every member's held funds at the end of the day" },
  { "pool", COLUMN_MONEY, DAY (pool), "every pool's balance at the end of the day" },
  { "losers", COLUMN_U32, DAY (losers), "members whose net result is negative" },
  { "saturation", COLUMN_REAL, DAY (saturation), "members / market" },
  { "payout_ratio", COLUMN_REAL, DAY (payout_ratio), "rewards_total / sales_total" },
  { "loss_share", COLUMN_REAL, DAY (loss_share), "losers / members" },
  { NULL, 0, 0, NULL }
};

const Column sim_summary_columns[] = {
  { "days", COLUMN_U32, SUM (days), "days simulated" },
  { "market", COLUMN_U32, SUM (market), "people in the market" },
  { "members", COLUMN_U32, SUM (members), "people who joined" },
  { "active", COLUMN_U32, SUM (active), "members not churned" },
  { "buyers", COLUMN_U32, SUM (buyers), "members who bought the entry product" },
  { "events", COLUMN_U64, SUM (events), "events applied" },
  { "rejected", COLUMN_U32, SUM (rejected), "events the engine rejected" },
  { "entry_orders", COLUMN_U32, SUM (entry_orders), "orders of the entry product" },
  { "retail_orders", COLUMN_U32, SUM (retail_orders), "orders of the repurchase product" },
  { "refunds", COLUMN_U32, SUM (refunds), "orders refunded" },
  { "withdrawals", COLUMN_U32, SUM (withdrawals), "withdrawals" },
  { "entry_sales", COLUMN_MONEY, SUM (entry_sales), "amount of the entry orders" },
  { "retail_sales", COLUMN_MONEY, SUM (retail_sales), "amount of the repurchase orders" },
  { "refunded", COLUMN_MONEY, SUM (refunded), "amount refunded" },
  { "sales", COLUMN_MONEY, SUM (sales), "net sales" },
  { "rewards", COLUMN_MONEY, SUM (rewards), "net rewards" },
  { "rewards_entry", COLUMN_MONEY, SUM (rewards_by_origin[REFERRAL_SIM_ORIGIN_ENTRY]),
    "net rewards paid by entry orders (recruitment)" },
  { "rewards_retail", COLUMN_MONEY, SUM (rewards_by_origin[REFERRAL_SIM_ORIGIN_RETAIL]),
    "net rewards paid by repurchase orders (retail)" },
  { "rewards_pool", COLUMN_MONEY, SUM (rewards_by_origin[REFERRAL_SIM_ORIGIN_POOL]),
    "rewards paid by period closes (pool shares)" },
  { "rewards_other", COLUMN_MONEY, SUM (rewards_by_origin[REFERRAL_SIM_ORIGIN_OTHER]),
    "rewards paid by other events" },
  { "held", COLUMN_MONEY, SUM (held), "every member's held funds" },
  { "pool", COLUMN_MONEY, SUM (pool), "every pool's balance" },
  { "withdrawn", COLUMN_MONEY, SUM (withdrawn), "amount withdrawn" },
  { "losers", COLUMN_U32, SUM (losers), "members with a net loss" },
  { "winners", COLUMN_U32, SUM (winners), "members with a net gain" },
  { "net_min", COLUMN_MONEY, SUM (net_min), "lowest net result" },
  { "net_p10", COLUMN_MONEY, SUM (net_p10), "10th percentile of net results" },
  { "net_median", COLUMN_MONEY, SUM (net_median), "median net result" },
  { "net_p90", COLUMN_MONEY, SUM (net_p90), "90th percentile of net results" },
  { "net_max", COLUMN_MONEY, SUM (net_max), "highest net result" },
  { "saturation", COLUMN_REAL, SUM (saturation), "members / market" },
  { "payout_ratio", COLUMN_REAL, SUM (payout_ratio), "rewards / sales" },
  { "loss_share", COLUMN_REAL, SUM (loss_share), "losers / members" },
  { "gini", COLUMN_REAL, SUM (gini), "Gini coefficient of rewards received" },
  { "top1_share", COLUMN_REAL, SUM (top1_share), "share of rewards of the top 1% earners" },
  { "top10_share", COLUMN_REAL, SUM (top10_share), "share of rewards of the top 10% earners" },
  { "entry_share", COLUMN_REAL, SUM (origin_share[REFERRAL_SIM_ORIGIN_ENTRY]),
    "share of rewards paid by entry orders (recruitment)" },
  { "retail_share", COLUMN_REAL, SUM (origin_share[REFERRAL_SIM_ORIGIN_RETAIL]),
    "share of rewards paid by repurchase orders (retail)" },
  { "pool_share", COLUMN_REAL, SUM (origin_share[REFERRAL_SIM_ORIGIN_POOL]),
    "share of rewards paid as pool shares" },
  { "other_share", COLUMN_REAL, SUM (origin_share[REFERRAL_SIM_ORIGIN_OTHER]),
    "share of rewards paid by other events" },
  { NULL, 0, 0, NULL }
};

guint64
column_u64 (const Column *c, gconstpointer base)
{
  const char *p = (const char *) base + c->offset;
  if (c->type == COLUMN_U32)
    return *(const guint32 *) p;
  return *(const guint64 *) p;
}

gint64
column_money (const Column *c, gconstpointer base)
{
  return *(const gint64 *) ((const char *) base + c->offset);
}

double
column_real (const Column *c, gconstpointer base)
{
  return *(const double *) ((const char *) base + c->offset);
}

char *
format_real (double value, char buf[G_ASCII_DTOSTR_BUF_SIZE])
{
  return g_ascii_formatd (buf, G_ASCII_DTOSTR_BUF_SIZE, "%.6f", value);
}

GArray *
sim_reward_kinds (ReferralSim *sim)
{
  GArray *kinds = g_array_new (FALSE, FALSE, sizeof (ReferralKind));
  guint n_kinds = referral_sim_n_kinds (sim);
  guint days = referral_sim_days_done (sim);
  for (guint k = 0; k < n_kinds; k++)
    for (guint d = 1; d <= days; d++)
      if (referral_sim_day_kind_rewards (sim, d, (ReferralKind) k) != 0)
        {
          ReferralKind kind = (ReferralKind) k;
          g_array_append_val (kinds, kind);
          break;
        }
  return kinds;
}

/* ---- the text report ------------------------------------------------------ */

typedef struct {
  guint decimals;
  char buf[4][REFERRAL_MONEY_BUF_SIZE];
  guint next;
} Money;

/* Formats @amount in one of four rotating buffers, so that a printf can
 * show up to four amounts. */
static const char *
money (Money *m, gint64 amount)
{
  char *buf = m->buf[m->next++ % 4];
  return referral_money_format_buf (amount, m->decimals, buf);
}

static const char *
percent (double share, char buf[G_ASCII_DTOSTR_BUF_SIZE])
{
  g_ascii_formatd (buf, G_ASCII_DTOSTR_BUF_SIZE - 1, "%.2f", share * 100.0);
  strcat (buf, "%");
  return buf;
}

static double
share (gint64 part, gint64 whole)
{
  return whole != 0 ? (double) part / (double) whole : 0.0;
}

void
write_sim_report (FILE *f, ReferralSim *sim, const char *scheme_label)
{
  const ReferralSimSummary *s = referral_sim_summary (sim);
  const ReferralSimConfig *config = referral_sim_config (sim);
  ReferralEngine *engine = referral_sim_engine (sim);
  const ReferralScheme *scheme = referral_engine_scheme (engine);
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  Money m = { referral_scheme_decimals (scheme), { { 0 } }, 0 };
  char p1[G_ASCII_DTOSTR_BUF_SIZE], p2[G_ASCII_DTOSTR_BUF_SIZE], r[G_ASCII_DTOSTR_BUF_SIZE];
  const char *entry_sku = referral_sim_config_get (config, "entry_sku");
  const char *retail_sku = referral_sim_config_get (config, "repurchase_sku");

  fprintf (f, "Simulation of scheme %s: a market of %" G_GUINT32_FORMAT " people, "
           "%" G_GUINT32_FORMAT " days, seed %s\n", scheme_label, s->market, s->days,
           referral_sim_config_get (config, "seed"));
  fprintf (f, "  %" G_GUINT64_FORMAT " events applied, %" G_GUINT32_FORMAT " rejected; "
           "state hash %016" G_GINT64_MODIFIER "x\n", s->events, s->rejected,
           referral_engine_state_hash (engine));

  fputs ("\nPeople\n", f);
  fprintf (f, "  joined                %10" G_GUINT32_FORMAT "  (%s of the market)\n",
           s->members, percent (s->saturation, p1));
  fprintf (f, "  active at the end     %10" G_GUINT32_FORMAT "\n", s->active);
  fprintf (f, "  bought %-14s %10" G_GUINT32_FORMAT "\n", entry_sku, s->buyers);
  for (guint rank = 0; rank < referral_scheme_n_ranks (scheme); rank++)
    {
      const ReferralSimGroup *g = referral_sim_rank_group (sim, (ReferralRank) rank);
      fprintf (f, "  rank %-16s %10" G_GUINT32_FORMAT "  (%s)\n",
               referral_scheme_rank_name (scheme, (ReferralRank) rank), g->members,
               percent (share (g->members, s->members), p1));
    }

  fputs ("\nSales                      orders          amount\n", f);
  fprintf (f, "  %-20s %10" G_GUINT32_FORMAT " %15s\n", entry_sku, s->entry_orders,
           money (&m, s->entry_sales));
  fprintf (f, "  %-20s %10" G_GUINT32_FORMAT " %15s\n", retail_sku, s->retail_orders,
           money (&m, s->retail_sales));
  fprintf (f, "  %-20s %10" G_GUINT32_FORMAT " %15s\n", "refunded", s->refunds,
           money (&m, -s->refunded));
  fprintf (f, "  %-20s %10s %15s\n", "net sales", "", money (&m, s->sales));

  fputs ("\nRewards paid, net of refunds            amount   share\n", f);
  g_autoptr (GArray) kinds = sim_reward_kinds (sim);
  for (guint i = 0; i < kinds->len; i++)
    {
      ReferralKind k = g_array_index (kinds, ReferralKind, i);
      gint64 amount = referral_sim_day_kind_rewards (sim, 0, k);
      fprintf (f, "  %-30s %15s %7s\n", referral_ledger_kind_name (ledger, k),
               money (&m, amount), percent (share (amount, s->rewards), p1));
    }
  fprintf (f, "  %-30s %15s\n", "total", money (&m, s->rewards));
  fprintf (f, "  %-30s %15s\n", "payout ratio (rewards / sales)",
           g_ascii_formatd (r, sizeof r, "%.4f", s->payout_ratio));
  fprintf (f, "  %-30s %15s\n", "held at the end", money (&m, s->held));
  fprintf (f, "  %-30s %15s\n", "pool balance at the end", money (&m, s->pool));
  fprintf (f, "  %-30s %15s\n", "withdrawn", money (&m, s->withdrawn));

  fputs ("\nWhere the rewards came from\n", f);
  static const char *const origin_names[REFERRAL_SIM_N_ORIGINS] = {
    "entry purchases (recruitment)", "repurchases (retail)",
    "pool shares (period closes)", "other events"
  };
  for (guint o = 0; o < REFERRAL_SIM_N_ORIGINS; o++)
    fprintf (f, "  %-30s %15s %7s\n", origin_names[o], money (&m, s->rewards_by_origin[o]),
             percent (s->origin_share[o], p1));

  fputs ("\nNet result of each member (rewards received - amounts paid)\n", f);
  fprintf (f, "  with a net loss       %10" G_GUINT32_FORMAT "  (%s of members)\n",
           s->losers, percent (s->loss_share, p1));
  fprintf (f, "  with a net gain       %10" G_GUINT32_FORMAT "  (%s)\n", s->winners,
           percent (share (s->winners, s->members), p1));
  fprintf (f, "  lowest, p10, median   %s, %s, %s\n", money (&m, s->net_min),
           money (&m, s->net_p10), money (&m, s->net_median));
  fprintf (f, "  p90, highest          %s, %s\n", money (&m, s->net_p90),
           money (&m, s->net_max));
  fputs ("  loss share by rank\n", f);
  for (guint rank = 0; rank < referral_scheme_n_ranks (scheme); rank++)
    {
      const ReferralSimGroup *g = referral_sim_rank_group (sim, (ReferralRank) rank);
      fprintf (f, "    %-18s %7s of %10" G_GUINT32_FORMAT "  (net %s)\n",
               referral_scheme_rank_name (scheme, (ReferralRank) rank),
               percent (g->loss_share, p1), g->members, money (&m, g->net_total));
    }
  fputs ("  loss share by join cohort\n", f);
  for (guint c = 0; c < referral_sim_n_cohorts (sim); c++)
    {
      const ReferralSimGroup *g = referral_sim_cohort (sim, c);
      g_autofree char *days = g_strdup_printf ("days %" G_GUINT32_FORMAT "-%" G_GUINT32_FORMAT,
                                               g->first_day, g->last_day);
      fprintf (f, "    %-18s %7s of %10" G_GUINT32_FORMAT "  (net %s)\n", days,
               percent (g->loss_share, p1), g->members, money (&m, g->net_total));
    }

  fputs ("\nInequality of rewards received\n", f);
  fprintf (f, "  Gini coefficient %s; the top 1%% receive %s, the top 10%% %s\n",
           g_ascii_formatd (r, sizeof r, "%.4f", s->gini), percent (s->top1_share, p1),
           percent (s->top10_share, p2));

  fputs ("\nDaily trajectory\n", f);
  fprintf (f, "  %5s %9s %9s %7s %15s %15s %7s %13s %11s %7s\n", "day", "members", "active",
           "market", "net sales", "rewards", "payout", "held", "pool", "losing");
  guint days = referral_sim_days_done (sim);
  guint every = days > 10 ? (days + 9) / 10 : 1;
  for (guint d = 1; d <= days; d++)
    {
      if (d % every != 0 && d != 1 && d != days)
        continue;
      const ReferralSimDay *day = referral_sim_day (sim, d);
      fprintf (f, "  %5" G_GUINT32_FORMAT " %9" G_GUINT32_FORMAT " %9" G_GUINT32_FORMAT
               " %7s %15s %15s %7s %13s %11s %7s\n", day->day, day->members, day->active,
               percent (day->saturation, p1), money (&m, day->sales_total),
               money (&m, day->rewards_total),
               g_ascii_formatd (r, sizeof r, "%.3f", day->payout_ratio),
               money (&m, day->held), money (&m, day->pool), percent (day->loss_share, p2));
    }
  if (s->rejected > 0)
    fprintf (f, "\n%" G_GUINT32_FORMAT " events were rejected by the scheme; the first: %s\n",
             s->rejected, referral_sim_first_rejection (sim));
}

/* ---- JSON ------------------------------------------------------------------- */

static void
json_columns (FILE *f, const Column *columns, gconstpointer base, guint decimals)
{
  char buf[REFERRAL_MONEY_BUF_SIZE];
  char real[G_ASCII_DTOSTR_BUF_SIZE];
  for (const Column *c = columns; c->name != NULL; c++)
    {
      fprintf (f, "%s\"%s\":", c == columns ? "" : ",", c->name);
      switch (c->type)
        {
        case COLUMN_U32:
        case COLUMN_U64:
          fprintf (f, "%" G_GUINT64_FORMAT, column_u64 (c, base));
          break;
        case COLUMN_MONEY:
          fprintf (f, "\"%s\"", referral_money_format_buf (column_money (c, base), decimals, buf));
          break;
        case COLUMN_REAL:
        default:
          fputs (format_real (column_real (c, base), real), f);
          break;
        }
    }
}

static void
json_ranks (FILE *f, const ReferralScheme *scheme, const guint32 *by_rank)
{
  fputs ("{", f);
  for (guint r = 0; r < referral_scheme_n_ranks (scheme); r++)
    {
      if (r)
        putc (',', f);
      put_json_string (f, referral_scheme_rank_name (scheme, (ReferralRank) r));
      fprintf (f, ":%" G_GUINT32_FORMAT, by_rank[r]);
    }
  fputs ("}", f);
}

static void
json_kinds (FILE *f, ReferralSim *sim, const GArray *kinds, guint day, guint decimals)
{
  const ReferralLedger *ledger = referral_engine_ledger (referral_sim_engine (sim));
  char buf[REFERRAL_MONEY_BUF_SIZE];
  fputs ("{", f);
  for (guint i = 0; i < kinds->len; i++)
    {
      ReferralKind k = g_array_index (kinds, ReferralKind, i);
      if (i)
        putc (',', f);
      put_json_string (f, referral_ledger_kind_name (ledger, k));
      fprintf (f, ":\"%s\"", referral_money_format_buf (
                 referral_sim_day_kind_rewards (sim, day, k), decimals, buf));
    }
  fputs ("}", f);
}

static void
json_group (FILE *f, const ReferralSimGroup *g, guint decimals)
{
  char buf[REFERRAL_MONEY_BUF_SIZE];
  char real[G_ASCII_DTOSTR_BUF_SIZE];
  fprintf (f, "\"members\":%" G_GUINT32_FORMAT ",\"losers\":%" G_GUINT32_FORMAT
           ",\"loss_share\":%s,\"net_total\":\"%s\"}", g->members, g->losers,
           format_real (g->loss_share, real),
           referral_money_format_buf (g->net_total, decimals, buf));
}

void
write_sim_json (FILE *f, ReferralSim *sim, const char *scheme_label)
{
  const ReferralSimSummary *s = referral_sim_summary (sim);
  ReferralEngine *engine = referral_sim_engine (sim);
  const ReferralScheme *scheme = referral_engine_scheme (engine);
  guint decimals = referral_scheme_decimals (scheme);
  g_autoptr (GArray) kinds = sim_reward_kinds (sim);

  fputs ("{\"scheme\":", f);
  put_json_string (f, scheme_label);
  fputs (",\"scheme_name\":", f);
  put_json_string (f, referral_scheme_name (scheme));
  fprintf (f, ",\"decimals\":%u,\"state_hash\":\"%016" G_GINT64_MODIFIER "x\",\n\"config\":{",
           decimals, referral_engine_state_hash (engine));
  const char *const *keys = referral_sim_config_keys ();
  for (guint i = 0; keys[i] != NULL; i++)
    {
      if (i)
        putc (',', f);
      put_json_string (f, keys[i]);
      putc (':', f);
      put_json_string (f, referral_sim_config_get (referral_sim_config (sim), keys[i]));
    }
  fputs ("},\n\"summary\":{", f);
  json_columns (f, sim_summary_columns, s, decimals);
  fputs (",\"by_rank\":", f);
  guint32 by_rank[REFERRAL_MAX_RANKS] = { 0 };
  for (guint r = 0; r < referral_scheme_n_ranks (scheme); r++)
    by_rank[r] = referral_sim_rank_group (sim, (ReferralRank) r)->members;
  json_ranks (f, scheme, by_rank);
  fputs (",\"rewards_by_kind\":", f);
  json_kinds (f, sim, kinds, 0, decimals);
  fputs ("},\n\"ranks\":[", f);
  for (guint r = 0; r < referral_scheme_n_ranks (scheme); r++)
    {
      fputs (r ? ",\n{\"rank\":" : "\n{\"rank\":", f);
      put_json_string (f, referral_scheme_rank_name (scheme, (ReferralRank) r));
      putc (',', f);
      json_group (f, referral_sim_rank_group (sim, (ReferralRank) r), decimals);
    }
  fputs ("],\n\"cohorts\":[", f);
  for (guint c = 0; c < referral_sim_n_cohorts (sim); c++)
    {
      const ReferralSimGroup *g = referral_sim_cohort (sim, c);
      fprintf (f, "%s{\"first_day\":%" G_GUINT32_FORMAT ",\"last_day\":%" G_GUINT32_FORMAT ",",
               c ? ",\n" : "\n", g->first_day, g->last_day);
      json_group (f, g, decimals);
    }
  fputs ("],\n\"days\":[", f);
  for (guint d = 1; d <= referral_sim_days_done (sim); d++)
    {
      const ReferralSimDay *day = referral_sim_day (sim, d);
      fputs (d > 1 ? ",\n{" : "\n{", f);
      json_columns (f, sim_day_columns, day, decimals);
      fputs (",\"by_rank\":", f);
      json_ranks (f, scheme, day->by_rank);
      fputs (",\"rewards_by_kind\":", f);
      json_kinds (f, sim, kinds, d, decimals);
      fputs ("}", f);
    }
  fputs ("]}\n", f);
}

/* ---- CSV ---------------------------------------------------------------------- */

static const char *const csv_files[] = {
  "daily.csv", "members.csv", "cohorts.csv", "ranks.csv", "summary.csv", "ledger.csv", NULL
};

gboolean
check_sim_csv_dir (const char *dir, gboolean force, GError **error)
{
  if (g_file_test (dir, G_FILE_TEST_EXISTS) && !g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                   "--csv %s: exists and is not a directory", dir);
      return FALSE;
    }
  for (guint i = 0; csv_files[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (dir, csv_files[i], NULL);
      if (g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                       "cannot write %s: not a regular file", path);
          return FALSE;
        }
      if (!force && g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                       "%s exists (use --force to replace it)", path);
          return FALSE;
        }
    }
  return TRUE;
}

static void
csv_value (FILE *f, const Column *c, gconstpointer base, guint decimals)
{
  char buf[REFERRAL_MONEY_BUF_SIZE];
  char real[G_ASCII_DTOSTR_BUF_SIZE];
  switch (c->type)
    {
    case COLUMN_U32:
    case COLUMN_U64:
      fprintf (f, "%" G_GUINT64_FORMAT, column_u64 (c, base));
      break;
    case COLUMN_MONEY:
      fputs (referral_money_format_buf (column_money (c, base), decimals, buf), f);
      break;
    case COLUMN_REAL:
    default:
      fputs (format_real (column_real (c, base), real), f);
      break;
    }
}

static void
csv_daily (FILE *f, ReferralSim *sim)
{
  ReferralEngine *engine = referral_sim_engine (sim);
  const ReferralScheme *scheme = referral_engine_scheme (engine);
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  guint decimals = referral_scheme_decimals (scheme);
  g_autoptr (GArray) kinds = sim_reward_kinds (sim);
  char buf[REFERRAL_MONEY_BUF_SIZE];
  for (const Column *c = sim_day_columns; c->name != NULL; c++)
    fprintf (f, "%s%s", c == sim_day_columns ? "" : ",", c->name);
  for (guint r = 0; r < referral_scheme_n_ranks (scheme); r++)
    {
      g_autofree char *name = g_strdup_printf ("rank:%s",
                                               referral_scheme_rank_name (scheme, (ReferralRank) r));
      putc (',', f);
      put_csv_field (f, name);
    }
  for (guint i = 0; i < kinds->len; i++)
    {
      g_autofree char *name = g_strdup_printf (
        "kind:%s", referral_ledger_kind_name (ledger, g_array_index (kinds, ReferralKind, i)));
      putc (',', f);
      put_csv_field (f, name);
    }
  putc ('\n', f);
  for (guint d = 1; d <= referral_sim_days_done (sim); d++)
    {
      const ReferralSimDay *day = referral_sim_day (sim, d);
      for (const Column *c = sim_day_columns; c->name != NULL; c++)
        {
          if (c != sim_day_columns)
            putc (',', f);
          csv_value (f, c, day, decimals);
        }
      for (guint r = 0; r < referral_scheme_n_ranks (scheme); r++)
        fprintf (f, ",%" G_GUINT32_FORMAT, day->by_rank[r]);
      for (guint i = 0; i < kinds->len; i++)
        fprintf (f, ",%s", referral_money_format_buf (
                   referral_sim_day_kind_rewards (sim, d, g_array_index (kinds, ReferralKind, i)),
                   decimals, buf));
      putc ('\n', f);
    }
}

static void
csv_members (FILE *f, ReferralSim *sim)
{
  ReferralEngine *engine = referral_sim_engine (sim);
  const ReferralScheme *scheme = referral_engine_scheme (engine);
  const ReferralTree *tree = referral_engine_tree (engine);
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  guint decimals = referral_scheme_decimals (scheme);
  char buf[REFERRAL_MONEY_BUF_SIZE];
  fputs ("member,sponsor,parent,rank,join_day,active,paid,rewards,net,available,held\n", f);
  for (ReferralMember m = 0; m < referral_tree_size (tree); m++)
    {
      ReferralMember sponsor = referral_tree_sponsor (tree, m);
      ReferralMember parent = referral_tree_parent (tree, m);
      put_csv_field (f, referral_tree_key (tree, m));
      putc (',', f);
      if (sponsor != REFERRAL_NO_MEMBER)
        put_csv_field (f, referral_tree_key (tree, sponsor));
      putc (',', f);
      if (parent != REFERRAL_NO_MEMBER)
        put_csv_field (f, referral_tree_key (tree, parent));
      putc (',', f);
      put_csv_field (f, referral_scheme_rank_name (scheme, referral_tree_rank (tree, m)));
      fprintf (f, ",%u,%d", referral_sim_member_join_day (sim, m),
               referral_sim_member_active (sim, m) ? 1 : 0);
      fprintf (f, ",%s", referral_money_format_buf (referral_sim_member_paid (sim, m), decimals, buf));
      fprintf (f, ",%s", referral_money_format_buf (referral_sim_member_rewards (sim, m), decimals, buf));
      fprintf (f, ",%s", referral_money_format_buf (referral_sim_member_net (sim, m), decimals, buf));
      fprintf (f, ",%s", referral_money_format_buf (
                 referral_ledger_balance (ledger, referral_ledger_member_account (ledger, m, FALSE)),
                 decimals, buf));
      fprintf (f, ",%s\n", referral_money_format_buf (
                 referral_ledger_balance (ledger, referral_ledger_member_account (ledger, m, TRUE)),
                 decimals, buf));
    }
}

static void
csv_group (FILE *f, const ReferralSimGroup *g, guint decimals)
{
  char buf[REFERRAL_MONEY_BUF_SIZE];
  char real[G_ASCII_DTOSTR_BUF_SIZE];
  fprintf (f, ",%" G_GUINT32_FORMAT ",%" G_GUINT32_FORMAT ",%s,%s\n", g->members, g->losers,
           format_real (g->loss_share, real), referral_money_format_buf (g->net_total, decimals, buf));
}

static void
csv_cohorts (FILE *f, ReferralSim *sim)
{
  guint decimals = referral_scheme_decimals (referral_engine_scheme (referral_sim_engine (sim)));
  fputs ("first_day,last_day,members,losers,loss_share,net_total\n", f);
  for (guint c = 0; c < referral_sim_n_cohorts (sim); c++)
    {
      const ReferralSimGroup *g = referral_sim_cohort (sim, c);
      fprintf (f, "%" G_GUINT32_FORMAT ",%" G_GUINT32_FORMAT, g->first_day, g->last_day);
      csv_group (f, g, decimals);
    }
}

static void
csv_ranks (FILE *f, ReferralSim *sim)
{
  const ReferralScheme *scheme = referral_engine_scheme (referral_sim_engine (sim));
  guint decimals = referral_scheme_decimals (scheme);
  fputs ("rank,members,losers,loss_share,net_total\n", f);
  for (guint r = 0; r < referral_scheme_n_ranks (scheme); r++)
    {
      put_csv_field (f, referral_scheme_rank_name (scheme, (ReferralRank) r));
      csv_group (f, referral_sim_rank_group (sim, (ReferralRank) r), decimals);
    }
}

static void
csv_summary (FILE *f, ReferralSim *sim)
{
  ReferralEngine *engine = referral_sim_engine (sim);
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  guint decimals = referral_scheme_decimals (referral_engine_scheme (engine));
  const ReferralSimSummary *s = referral_sim_summary (sim);
  char buf[REFERRAL_MONEY_BUF_SIZE];
  fputs ("metric,value\n", f);
  for (const Column *c = sim_summary_columns; c->name != NULL; c++)
    {
      fprintf (f, "%s,", c->name);
      csv_value (f, c, s, decimals);
      putc ('\n', f);
    }
  g_autoptr (GArray) kinds = sim_reward_kinds (sim);
  for (guint i = 0; i < kinds->len; i++)
    {
      ReferralKind k = g_array_index (kinds, ReferralKind, i);
      g_autofree char *name = g_strdup_printf ("kind:%s", referral_ledger_kind_name (ledger, k));
      put_csv_field (f, name);
      fprintf (f, ",%s\n", referral_money_format_buf (referral_sim_day_kind_rewards (sim, 0, k),
                                                     decimals, buf));
    }
}

typedef void (*CsvWriter) (FILE *f, ReferralSim *sim);

static void
csv_ledger (FILE *f, ReferralSim *sim)
{
  write_ledger_csv (f, referral_sim_engine (sim));
}

/* Writes one file under a temporary name, then renames it. */
static gboolean
write_csv_file (const char *dir, const char *name, CsvWriter writer, ReferralSim *sim,
                GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *tmp = g_strdup_printf ("%s.tmp-XXXXXX", path);
  int fd = output_mkstemp (tmp);
  FILE *f = fd >= 0 ? fdopen (fd, "w") : NULL;
  if (f == NULL)
    {
      int err = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "cannot write %s: %s", path,
                   g_strerror (err));
      if (fd >= 0)
        g_unlink (tmp);
      return FALSE;
    }
  writer (f, sim);
  gboolean ok = !ferror (f);
  int err = ok ? 0 : EIO;
  if (fclose (f) != 0 && ok)
    {
      ok = FALSE;
      err = errno;
    }
  if (ok && g_rename (tmp, path) != 0)
    {
      ok = FALSE;
      err = errno;
    }
  if (!ok)
    {
      g_unlink (tmp);
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "cannot write %s: %s", path,
                   g_strerror (err));
    }
  return ok;
}

gboolean
write_sim_csv (const char *dir, ReferralSim *sim, gboolean force, GError **error)
{
  if (!check_sim_csv_dir (dir, force, error))
    return FALSE;
  if (g_mkdir_with_parents (dir, 0777) != 0)
    {
      int err = errno;
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "cannot create directory %s: %s",
                   dir, g_strerror (err));
      return FALSE;
    }
  static const CsvWriter writers[] = {
    csv_daily, csv_members, csv_cohorts, csv_ranks, csv_summary, csv_ledger
  };
  for (guint i = 0; csv_files[i] != NULL; i++)
    if (!write_csv_file (dir, csv_files[i], writers[i], sim, error))
      return FALSE;
  return TRUE;
}
