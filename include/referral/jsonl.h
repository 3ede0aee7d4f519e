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

typedef enum {
  REFERRAL_RUN_STOP_AT_ERROR = 0,
  REFERRAL_RUN_KEEP_GOING = 1 << 0
} ReferralRunFlags;

/* Called for each bad line or rejected event with its file name, line number
 * and message (as in "FILE:LINE: message"). */
typedef void (*ReferralRunReportFunc) (const char *file, guint64 line,
                                       const char *message, gpointer user_data);

/* referral_engine_apply_jsonl:
 * Applies every event of @path ("-": standard input) to @engine.  Without
 * REFERRAL_RUN_KEEP_GOING it stops at the first bad event; with it, it
 * reports and skips each.  Every event before a stop stays applied.
 * @stats: (out) (optional)
 * Returns: TRUE when every event applied (or was a duplicate); FALSE when
 * any was bad (each reported through @report) or with @error set (only)
 * when the file could not be read. */
REFERRAL_API gboolean referral_engine_apply_jsonl (ReferralEngine *engine,
                                                   const char *path,
                                                   ReferralRunFlags flags,
                                                   ReferralRunReportFunc report,
                                                   gpointer user_data,
                                                   ReferralRunStats *stats,
                                                   GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReferralJsonlReader, referral_jsonl_reader_free)

G_END_DECLS

#endif
