/* Events: names and the content fingerprint used for idempotency. */
#include <referral/event.h>

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

/* FNV-1a over 64 bits: fixed, documented, and the same on every machine. */
typedef struct {
  guint64 h;
} Fnv;

static void
fnv_bytes (Fnv *f, const void *data, gsize len)
{
  const guint8 *p = data;
  for (gsize i = 0; i < len; i++)
    f->h = (f->h ^ p[i]) * 1099511628211ull;
}

/* Each field contributes a tag byte, then its length and bytes, so that no
 * two different events can be made to feed the same byte sequence. */
static void
fnv_field (Fnv *f, guint8 tag, const char *s)
{
  if (s == NULL)
    return;
  guint32 len = (guint32) strlen (s);
  fnv_bytes (f, &tag, 1);
  guint8 le[4] = { len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >> 24 };
  fnv_bytes (f, le, 4);
  fnv_bytes (f, s, len);
}

guint64
referral_event_fingerprint (const ReferralEvent *ev)
{
  g_return_val_if_fail (ev != NULL, 0);
  Fnv f = { 14695981039346656037ull };
  guint8 type = (guint8) ev->type;
  fnv_bytes (&f, &type, 1);
  fnv_field (&f, 1, ev->id);
  fnv_field (&f, 2, ev->command);
  fnv_field (&f, 3, ev->member);
  fnv_field (&f, 4, ev->sponsor);
  fnv_field (&f, 5, ev->order);
  fnv_field (&f, 6, ev->sku);
  fnv_field (&f, 7, ev->period);
  fnv_field (&f, 8, ev->old_member);
  fnv_field (&f, 9, ev->new_member);
  fnv_field (&f, 10, ev->rank);
  fnv_field (&f, 11, ev->time);
  if (ev->amount_text)
    fnv_field (&f, ev->amount_quoted ? 12 : 13, ev->amount_text);
  else if (ev->type == REFERRAL_EVENT_ORDER || ev->type == REFERRAL_EVENT_WITHDRAW
           || ev->amount != 0)
    {
      guint8 tag = 14, le[8];
      guint64 a = (guint64) ev->amount;
      for (int i = 0; i < 8; i++)
        le[i] = (a >> (8 * i)) & 0xff;
      fnv_bytes (&f, &tag, 1);
      fnv_bytes (&f, le, 8);
    }
  return f.h;
}
