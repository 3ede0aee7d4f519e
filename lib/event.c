/* Events: names and the content fingerprint used for idempotency. */
#include <referral/event.h>

#include "engine-private.h"
#include "words.h"

#include <string.h>

const char *
referral_event_type_name (const ReferralEvent *event)
{
  g_return_val_if_fail (event != NULL, NULL);
  switch (event->type)
    {
    case REFERRAL_EVENT_JOIN: return "join";
    case REFERRAL_EVENT_ORDER: return "order";
    case REFERRAL_EVENT_REFUND: return "refund";
    case REFERRAL_EVENT_PERIOD_CLOSE: return "period_close";
    case REFERRAL_EVENT_WITHDRAW: return "withdraw";
    case REFERRAL_EVENT_PROMOTE: return "promote";
    case REFERRAL_EVENT_COMMAND: return event->command ? event->command : "command";
    case REFERRAL_EVENT_NONE:
    default: return "unknown";
    }
}

/* The fingerprint hash: eight bytes per step, little-endian words, so it is
 * the same on every machine; fixed here because fingerprints are stored (in
 * journals, by later versions) and compared across runs. */
typedef struct {
  guint64 h;
} Hash;

static inline guint64
mix (guint64 h, guint64 w)
{
  h ^= w;
  h *= 0x9e3779b97f4a7c15ull;
  return h ^ (h >> 29);
}

/* Both inlined into referral_event_fingerprint: a call per field cost
 * more than the hashing of a short key. */
G_ALWAYS_INLINE static inline void
hash_bytes (Hash *f, const void *data, gsize len)
{
  const guint8 *p = data;
  guint64 h = f->h;
  for (; len >= 8; p += 8, len -= 8)
    h = mix (h, referral_word_at (p));
  f->h = mix (h, referral_tail_word (p, len) ^ ((guint64) len << 56));
}

/* Each field contributes its tag and length, then its bytes, so that no
 * two different events can be made to feed the same word sequence. */
G_ALWAYS_INLINE static inline void
hash_sized (Hash *f, guint8 tag, const char *s, gsize len)
{
  f->h = mix (f->h, ((guint64) tag << 56) | (guint64) len);
  hash_bytes (f, s, len);
}

G_ALWAYS_INLINE static inline void
hash_field (Hash *f, guint8 tag, const char *s)
{
  if (s == NULL)
    return;
  hash_sized (f, tag, s, strlen (s));
}

/* The fingerprint, given the lengths of the id, member, sponsor and order
 * keys when known (@known), else measuring them. */
G_ALWAYS_INLINE static inline guint64
fingerprint (const ReferralEvent *ev, const EventHashes *known)
{
  Hash f = { 0x6a09e667f3bcc909ull ^ (guint64) ev->type };
  if (ev->id)
    hash_sized (&f, 1, ev->id, known ? known->id_len : strlen (ev->id));
  hash_field (&f, 2, ev->command);
  if (ev->member)
    hash_sized (&f, 3, ev->member, known ? known->member_len : strlen (ev->member));
  if (ev->sponsor)
    hash_sized (&f, 4, ev->sponsor, known ? known->sponsor_len : strlen (ev->sponsor));
  if (ev->order)
    hash_sized (&f, 5, ev->order, known ? known->order_len : strlen (ev->order));
  hash_field (&f, 6, ev->sku);
  hash_field (&f, 7, ev->period);
  hash_field (&f, 8, ev->old_member);
  hash_field (&f, 9, ev->new_member);
  hash_field (&f, 10, ev->rank);
  hash_field (&f, 11, ev->time);
  if (ev->amount_text)
    hash_field (&f, ev->amount_quoted ? 12 : 13, ev->amount_text);
  else if (ev->type == REFERRAL_EVENT_ORDER || ev->type == REFERRAL_EVENT_WITHDRAW
           || ev->amount != 0)
    {
      f.h = mix (f.h, (guint64) 14 << 56);
      f.h = mix (f.h, (guint64) ev->amount);
    }
  /* final avalanche */
  guint64 h = f.h;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

guint64
referral_event_fingerprint (const ReferralEvent *ev)
{
  g_return_val_if_fail (ev != NULL, 0);
  return fingerprint (ev, NULL);
}

guint64
referral_event_fingerprint_sized (const ReferralEvent *ev, const EventHashes *h)
{
  return fingerprint (ev, h);
}
