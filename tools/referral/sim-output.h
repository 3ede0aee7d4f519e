/* Outputs of `referral simulate`: the text report, JSON, CSV files.
 *
 * The daily and summary figures are described once, as column tables, so
 * that the report, the JSON, the CSV files and the SQLite tables
 * (sqlite-out.c) name and format them the same way. */
#ifndef REFERRAL_TOOL_SIM_OUTPUT_H
#define REFERRAL_TOOL_SIM_OUTPUT_H

#include <stdio.h>
#include <glib.h>
#include <referral/referral.h>

G_BEGIN_DECLS

typedef enum {
  COLUMN_U32,
  COLUMN_U64,
  COLUMN_MONEY, /* gint64 minor units: text in CSV and JSON, INTEGER in SQLite */
  COLUMN_REAL   /* double */
} ColumnType;

typedef struct {
  const char *name;
  ColumnType type;
  gsize offset;     /* in ReferralSimDay or ReferralSimSummary */
  const char *description;
} Column;

/* The columns of ReferralSimDay (without by_rank, which has one entry per
 * rank) and of ReferralSimSummary; each list ends with a NULL name. */
extern const Column sim_day_columns[];
extern const Column sim_summary_columns[];

/* Reads column @c of the struct at @base. */
guint64 column_u64 (const Column *c, gconstpointer base);
gint64 column_money (const Column *c, gconstpointer base);
double column_real (const Column *c, gconstpointer base);

/* Formats a ratio with 6 decimals and a '.' whatever the locale. */
char *format_real (double value, char buf[G_ASCII_DTOSTR_BUF_SIZE]);

/* The kinds of posting that ever paid a reward in @sim (net of reversals
 * or not), in kind order: the columns of the per-kind figures. */
GArray *sim_reward_kinds (ReferralSim *sim);

/* The text report (stdout of `referral simulate`).  @scheme_label names
 * the scheme as the user gave it. */
void write_sim_report (FILE *file, ReferralSim *sim, const char *scheme_label);

/* The same figures as one JSON object. */
void write_sim_json (FILE *file, ReferralSim *sim, const char *scheme_label);

/* write_sim_csv:
 * Writes daily.csv, members.csv, cohorts.csv, ranks.csv, summary.csv and
 * ledger.csv into directory @dir (created when missing).  Each file is
 * written under a temporary name and renamed when complete.  Unless
 * @force, refuses (before writing anything) when one of them exists.
 * Returns: FALSE with REFERRAL_ERROR_IO. */
gboolean write_sim_csv (const char *dir, ReferralSim *sim, gboolean force, GError **error);

/* check_sim_csv_dir: the refusal of write_sim_csv() alone, so that it can
 * be checked before a long simulation.  Returns: FALSE with a message. */
gboolean check_sim_csv_dir (const char *dir, gboolean force, GError **error);

G_END_DECLS

#endif
