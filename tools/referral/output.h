/* Outputs of the `referral` tool: balances as JSON Lines, the ledger as CSV,
 * and the run summary.  Shared by every command that ends with an engine's
 * state (run, and later simulate and replay). */
#ifndef REFERRAL_TOOL_OUTPUT_H
#define REFERRAL_TOOL_OUTPUT_H

#include <stdio.h>
#include <glib.h>
#include <referral/referral.h>

G_BEGIN_DECLS

/* An output file: @path, or standard output for "-". */
typedef struct {
  char *path;
  FILE *file;
} Output;

/* output_open:
 * Opens @path for writing ("-": standard output).
 * Returns: FALSE with a message in @error when it cannot be created. */
gboolean output_open (Output *out, const char *path, GError **error);

/* output_close:
 * Flushes and closes @out (standard output is only flushed).
 * Returns: FALSE with a message in @error when any write failed. */
gboolean output_close (Output *out, GError **error);

/* output_mkstemp:
 * As g_mkstemp() (@tmpl ends with XXXXXX, replaced), but the file gets the
 * permissions a new file gets from fopen() (0666 less the umask) rather
 * than 0600: it is an output that will be renamed into place.
 * Returns: the open descriptor, or -1 with errno set. */
int output_mkstemp (char *tmpl);

/* Writes @text as a JSON string (quoted, escaped). */
void put_json_string (FILE *file, const char *text);

/* Writes @text as a CSV field (RFC 4180), quoted only when it must be. */
void put_csv_field (FILE *file, const char *text);

/* write_balances:
 * One JSON object per member in join order, then one per pool:
 *   {"member":"B","rank":"partner","available":"560.00","held":"140.00"}
 *   {"account":"pool","balance":"0.00"} */
void write_balances (FILE *file, const ReferralEngine *engine);

/* write_ledger_csv:
 * Every posting, with the header
 *   index,event,event_id,kind,rule,from,to,amount,cause,reversal */
void write_ledger_csv (FILE *file, const ReferralEngine *engine);

/* Money totals of an engine's ledger, in minor units. */
typedef struct {
  gint64 money_in; /* sales (outside -> platform) minus their reversals */
  gint64 paid_out; /* credits from the platform or a pool to members, minus
                      their reversals */
  gint64 held;     /* every member's held funds */
  gboolean overflow; /* a total did not fit in int64 */
} Totals;

void compute_totals (const ReferralEngine *engine, Totals *totals);

/* write_summary:
 * The summary of a run, one "name: value" per line. */
void write_summary (FILE *file, const ReferralEngine *engine,
                    const ReferralRunStats *stats);

G_END_DECLS

#endif
