/* libFuzzer target: the JSON Lines event reader on arbitrary bytes.
 *
 * Every line must give an event (with an id and a known type, every string
 * readable), or a REFERRAL_ERROR with a message; the reader must end, and
 * never read more events than the input has lines. */
#include "fuzz-common.h"

#include <string.h>

static void
check_event (const ReferralEvent *ev)
{
  FUZZ_ASSERT (ev->type > REFERRAL_EVENT_NONE && ev->type <= REFERRAL_EVENT_COMMAND);
  FUZZ_ASSERT (ev->id != NULL && ev->id[0] != '\0');
  FUZZ_ASSERT (ev->type != REFERRAL_EVENT_COMMAND || ev->command != NULL);
  /* Touch every string, so that ASan sees a dangling or unterminated one. */
  const char *strings[] = { ev->id, ev->command, ev->member, ev->sponsor, ev->order,
                            ev->sku, ev->period, ev->old_member, ev->new_member,
                            ev->rank, ev->time, ev->amount_text };
  gsize total = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    if (strings[i] != NULL)
      total += strlen (strings[i]);
  (void) total;
  (void) referral_event_type_name (ev);
  (void) referral_event_fingerprint (ev);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  gsize lines = 1;
  for (gsize i = 0; i < size; i++)
    lines += data[i] == '\n';
  /* Two currencies: 2 decimals (the examples') and 0 (whole units). */
  for (guint decimals = 0; decimals <= 2; decimals += 2)
    {
      ReferralJsonlReader *reader =
        referral_jsonl_reader_new_from_data ((const char *) data, size, "fuzz.jsonl", decimals);
      FUZZ_ASSERT (reader != NULL);
      gsize calls = 0;
      for (;;)
        {
          ReferralEvent ev = REFERRAL_EVENT_INIT;
          GError *error = NULL;
          int r = referral_jsonl_reader_next (reader, &ev, &error);
          FUZZ_ASSERT (++calls <= lines + 1);
          if (r == 0)
            {
              FUZZ_ASSERT (error == NULL);
              break;
            }
          if (r > 0)
            {
              FUZZ_ASSERT (error == NULL);
              check_event (&ev);
            }
          else
            {
              FUZZ_ASSERT (r == -1);
              FUZZ_ASSERT (error != NULL && error->domain == REFERRAL_ERROR);
              FUZZ_ASSERT (error->code == REFERRAL_ERROR_PARSE
                           || error->code == REFERRAL_ERROR_INVALID_MONEY);
              FUZZ_ASSERT (error->message != NULL && error->message[0] != '\0');
              g_error_free (error);
            }
          FUZZ_ASSERT (referral_jsonl_reader_line (reader) <= lines);
        }
      referral_jsonl_reader_free (reader);
    }
  return 0;
}
