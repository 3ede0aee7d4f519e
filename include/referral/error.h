/* libreferral: errors.
 *
 * Every failure a caller can meet (bad input, unknown member, invalid event,
 * a rule's refusal) is reported as a GError in the REFERRAL_ERROR domain with
 * one of the codes below and a message that names the field and the reason.
 * Programmer errors (NULL handles, out-of-range indices) are caught with
 * g_return_val_if_fail and are not part of this list. */
#ifndef REFERRAL_ERROR_H
#define REFERRAL_ERROR_H

#include <glib.h>
#include <referral/export.h>

G_BEGIN_DECLS

/* The error domain of every GError the library returns. */
#define REFERRAL_ERROR (referral_error_quark ())

typedef enum {
  REFERRAL_ERROR_INVALID_MONEY,      /* malformed or out-of-range amount text */
  REFERRAL_ERROR_INVALID_RATE,       /* malformed rate text */
  REFERRAL_ERROR_OVERFLOW,           /* an amount or balance would overflow int64 */
  REFERRAL_ERROR_UNKNOWN_MEMBER,     /* an event names a member that does not exist */
  REFERRAL_ERROR_DUPLICATE_MEMBER,   /* join of a member that exists already */
  REFERRAL_ERROR_UNKNOWN_ORDER,      /* refund of an order that does not exist */
  REFERRAL_ERROR_DUPLICATE_ORDER,    /* order id used twice */
  REFERRAL_ERROR_ALREADY_REFUNDED,   /* second refund of the same order */
  REFERRAL_ERROR_INVALID_EVENT,      /* missing or malformed field, bad value */
  REFERRAL_ERROR_ID_CONFLICT,        /* same event id, different content */
  REFERRAL_ERROR_INSUFFICIENT_FUNDS, /* withdraw more than the available funds */
  REFERRAL_ERROR_INVALID_RANK,       /* unknown rank, or a promotion that is not upward */
  REFERRAL_ERROR_CYCLE,              /* a placement move that would create a cycle */
  REFERRAL_ERROR_UNKNOWN_COMMAND,    /* no rule of the scheme accepts this command */
  REFERRAL_ERROR_REJECTED,           /* a rule refused the event */
  REFERRAL_ERROR_SCHEME,             /* a scheme file or definition is invalid */
  REFERRAL_ERROR_UNKNOWN_RULE_TYPE,  /* a scheme names a rule type nobody registered */
  REFERRAL_ERROR_ABI,                /* a rule type built for an unknown ABI version */
  REFERRAL_ERROR_PARSE,              /* malformed JSON or event line */
  REFERRAL_ERROR_IO,                 /* a file could not be read or written */
  REFERRAL_ERROR_JOURNAL             /* a journal or snapshot is damaged, of another
                                        scheme, or cannot be used as asked */
} ReferralErrorCode;

/* referral_error_quark:
 * Returns: the GQuark of the REFERRAL_ERROR domain. */
REFERRAL_API GQuark referral_error_quark (void);

G_END_DECLS

#endif
