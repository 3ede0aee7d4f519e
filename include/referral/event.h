/* libreferral: events.
 *
 * An event is the only way state changes.  The engine folds events in order;
 * the same scheme and the same events give the same state, byte for byte.
 * The fields mirror shared/spec/events.md.  Strings are borrowed: the engine
 * copies what it keeps. */
#ifndef REFERRAL_EVENT_H
#define REFERRAL_EVENT_H

#include <glib.h>
#include <referral/export.h>

G_BEGIN_DECLS

typedef enum {
  REFERRAL_EVENT_NONE = 0,
  REFERRAL_EVENT_JOIN,         /* member; sponsor (optional) */
  REFERRAL_EVENT_ORDER,        /* order, member (the buyer), amount; sku (optional) */
  REFERRAL_EVENT_REFUND,       /* order */
  REFERRAL_EVENT_PERIOD_CLOSE, /* period */
  REFERRAL_EVENT_WITHDRAW,     /* member, amount */
  REFERRAL_EVENT_PROMOTE,      /* member, rank */
  REFERRAL_EVENT_COMMAND       /* command: a scheme's own command ("transpose"),
                                  with member, old_member, new_member */
} ReferralEventType;

typedef struct {
  ReferralEventType type;
  const char *id;         /* required, non-empty: the idempotency key */
  const char *command;    /* REFERRAL_EVENT_COMMAND: the command's name */
  const char *member;
  const char *sponsor;
  const char *order;
  const char *sku;
  const char *period;
  const char *old_member;
  const char *new_member;
  const char *rank;       /* rank name, for promote */
  const char *time;       /* optional RFC 3339 text; never interpreted */
  gint64 amount;          /* minor units, for order and withdraw */
  /* How the amount was written in the source, so that "699" and 699 (or
   * "699" and "699.00") count as different content for idempotency.  NULL
   * for events built in code: then the fingerprint uses `amount`. */
  const char *amount_text;
  gboolean amount_quoted; /* TRUE when amount_text was a JSON string */
} ReferralEvent;

/* An all-empty event, to initialise a ReferralEvent before filling it. */
#define REFERRAL_EVENT_INIT { REFERRAL_EVENT_NONE, NULL, NULL, NULL, NULL, NULL, \
                              NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, FALSE }

/* referral_event_type_name:
 * Returns: (transfer none): "join", "order", "refund", "period_close",
 * "withdraw", "promote", or the command's name for a command. */
REFERRAL_API const char *referral_event_type_name (const ReferralEvent *event);

/* referral_event_fingerprint:
 * Returns: a 64-bit digest of the event's content (type and every field that
 * is set, amounts as written).  Two events with the same id are "the same
 * event" when their fingerprints are equal.  Stable across runs, machines and
 * versions of the same major version. */
REFERRAL_API guint64 referral_event_fingerprint (const ReferralEvent *event);

G_END_DECLS

#endif
