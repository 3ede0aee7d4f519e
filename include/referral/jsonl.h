/* libreferral: JSON Lines event files (shared/spec/events.md).
 *
 * The reader turns one line at a time into a ReferralEvent; the runner
 * applies a whole file to an engine with the semantics of `referral run`. */
#ifndef REFERRAL_JSONL_H
#define REFERRAL_JSONL_H

#include <stdio.h>
#include <glib.h>
#include <referral/engine.h>
#include <referral/event.h>
#include <referral/export.h>
#include <referral/journal.h>

G_BEGIN_DECLS

typedef struct _ReferralJsonlReader ReferralJsonlReader;

/* referral_jsonl_reader_open:
 * Opens @path ("-" for standard input) for reading events with amounts in
 * a currency of @decimals decimals.
 * Returns: (transfer full): the reader, or NULL with REFERRAL_ERROR_IO. */
REFERRAL_API ReferralJsonlReader *referral_jsonl_reader_open (const char *path,
                                                              guint decimals,
                                                              GError **error);

/* referral_jsonl_reader_new_from_data:
 * A reader over @length bytes of @data (copied); @name names it in messages. */
REFERRAL_API ReferralJsonlReader *referral_jsonl_reader_new_from_data (const char *data,
                                                                       gsize length,
                                                                       const char *name,
                                                                       guint decimals);

/* Frees @reader and closes its file; NULL is a no-op. */
REFERRAL_API void referral_jsonl_reader_free (ReferralJsonlReader *reader);

/* referral_jsonl_reader_next:
 * Reads the next event, skipping blank lines and lines starting with '#'.
 * @event: (out): filled with strings borrowed from the reader, valid until
 *   the next call
 * Returns: 1 for an event, 0 at the end of input, -1 for a bad line (with
 * REFERRAL_ERROR_PARSE or REFERRAL_ERROR_INVALID_MONEY, message without the
 * FILE:LINE prefix; the reader moves past the line) or a read error
 * (REFERRAL_ERROR_IO). */
REFERRAL_API int referral_jsonl_reader_next (ReferralJsonlReader *reader,
                                             ReferralEvent *event,
                                             GError **error);

/* Returns: the line number (1-based) of the line last read. */
REFERRAL_API guint64 referral_jsonl_reader_line (const ReferralJsonlReader *reader);
/* Returns: (transfer none): the name used in messages (the path, or "-"
 * shown as "<stdin>"). */
REFERRAL_API const char *referral_jsonl_reader_name (const ReferralJsonlReader *reader);

/* What referral_engine_apply_jsonl() did. */
typedef struct {
  guint64 lines;      /* lines read */
  guint64 applied;    /* events applied */
  guint64 duplicates; /* events skipped as duplicates */
  guint64 errors;     /* bad lines and rejected events */
} ReferralRunStats;

/* How referral_engine_apply_jsonl() runs.
 * REFERRAL_RUN_KEEP_GOING: report and skip each bad line or rejected event
 *   instead of stopping at the first.
 * REFERRAL_RUN_ONE_THREAD: read, parse and apply on the calling thread only
 *   (by default a regular file is read and parsed on a second thread). */
typedef enum {
  REFERRAL_RUN_STOP_AT_ERROR = 0,
  REFERRAL_RUN_KEEP_GOING = 1 << 0,
  REFERRAL_RUN_ONE_THREAD = 1 << 1
} ReferralRunFlags;

/* Called for each bad line or rejected event with its file name, line number
 * and message (as in "FILE:LINE: message"). */
typedef void (*ReferralRunReportFunc) (const char *file, guint64 line,
                                       const char *message, gpointer user_data);

/* referral_engine_apply_jsonl:
 * Applies every event of @path ("-": standard input) to @engine, in file
 * order.  Without REFERRAL_RUN_KEEP_GOING it stops at the first bad line or
 * rejected event; with it, it reports and skips each.  Every event before a
 * stop stays applied.
 *
 * When the input is a regular file (standard input included, when it is
 * redirected from one) and REFERRAL_RUN_ONE_THREAD is not in @flags, a
 * second thread reads and parses the file a few batches of events ahead
 * while the calling thread applies them; it is stopped and joined before
 * the call returns, and may have read further than the line that stopped
 * the run.  Pipes, terminals and the like are read on the calling thread
 * (a stop must not wait for the next line), as is everything when the
 * thread cannot be started.  Either way the engine is used, and @report
 * called, only on the calling thread, and the results are the same: the
 * same events applied in the same order, the same reports, the same
 * @stats, the same errors.
 * @stats: (out) (optional): on a stop, `lines` is the line that stopped
 *   the run
 * Returns: TRUE when every event applied (or was a duplicate); FALSE when
 * any was bad (each reported through @report) or with @error set (only)
 * when the file could not be read (REFERRAL_ERROR_IO; the events before the
 * read error stay applied). */
REFERRAL_API gboolean referral_engine_apply_jsonl (ReferralEngine *engine,
                                                   const char *path,
                                                   ReferralRunFlags flags,
                                                   ReferralRunReportFunc report,
                                                   gpointer user_data,
                                                   ReferralRunStats *stats,
                                                   GError **error);

/* referral_journal_apply_jsonl:
 * As referral_engine_apply_jsonl(), applying each event through
 * referral_journal_apply() (so under the journal's sync policy), on the
 * calling thread, the file read by a second thread in the same cases.  A
 * REFERRAL_ERROR_IO or REFERRAL_ERROR_JOURNAL from the journal ends the run
 * with @error set (the event is not reported; `lines` in @stats is its
 * line); other refusals are rejected events as above.
 * @stats: (out) (optional)
 * Returns: as referral_engine_apply_jsonl(). */
REFERRAL_API gboolean referral_journal_apply_jsonl (ReferralJournal *journal,
                                                    const char *path,
                                                    ReferralRunFlags flags,
                                                    ReferralRunReportFunc report,
                                                    gpointer user_data,
                                                    ReferralRunStats *stats,
                                                    GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReferralJsonlReader, referral_jsonl_reader_free)

G_END_DECLS

#endif
