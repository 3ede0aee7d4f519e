/* libFuzzer target: the scheme loader on arbitrary text.
 *
 * A text is either refused with a REFERRAL_ERROR whose message names the
 * source, or gives a scheme whose every accessor answers and on which an
 * engine can be made and fed a join and an order with the ledger balanced. */
#include "fuzz-common.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
exercise (ReferralScheme *scheme)
{
  FUZZ_ASSERT (referral_scheme_name (scheme) != NULL);
  FUZZ_ASSERT (referral_scheme_decimals (scheme) <= 9);
  guint n_ranks = referral_scheme_n_ranks (scheme);
  FUZZ_ASSERT (n_ranks >= 1);
  for (guint r = 0; r < n_ranks; r++)
    {
      const char *name = referral_scheme_rank_name (scheme, (ReferralRank) r);
      ReferralRank found;
      FUZZ_ASSERT (name != NULL);
      FUZZ_ASSERT (referral_scheme_lookup_rank (scheme, name, &found) && found == r);
    }
  for (guint i = 0; i < referral_scheme_n_rules (scheme); i++)
    {
      FUZZ_ASSERT (referral_scheme_rule_name (scheme, i) != NULL);
      FUZZ_ASSERT (referral_scheme_rule_type (scheme, i) != NULL);
      for (guint k = 0; k < referral_scheme_rule_n_params (scheme, i); k++)
        {
          const char *name = NULL, *value = NULL;
          FUZZ_ASSERT (referral_scheme_rule_param (scheme, i, k, &name, &value, NULL));
          FUZZ_ASSERT (name != NULL && value != NULL);
        }
    }
  (void) referral_scheme_identity (scheme);

  GError *error = NULL;
  ReferralEngine *engine = referral_engine_new (scheme, &error);
  FUZZ_ASSERT (engine != NULL);
  referral_engine_set_check_invariants (engine, TRUE);
  ReferralEvent join_a = REFERRAL_EVENT_INIT, join_b = REFERRAL_EVENT_INIT,
                order = REFERRAL_EVENT_INIT;
  join_a.type = join_b.type = REFERRAL_EVENT_JOIN;
  join_a.id = "j1";
  join_a.member = "A";
  join_b.id = "j2";
  join_b.member = "B";
  join_b.sponsor = "A";
  order.type = REFERRAL_EVENT_ORDER;
  order.id = "o1";
  order.order = "o1";
  order.member = "B";
  order.amount = 69900;
  const ReferralEvent *events[] = { &join_a, &join_b, &order };
  for (gsize i = 0; i < G_N_ELEMENTS (events); i++)
    {
      /* A rule may refuse (a scheme can be strict); the engine stays whole. */
      if (!referral_engine_apply (engine, events[i], NULL, &error))
        {
          FUZZ_ASSERT (error != NULL && error->message[0] != '\0');
          g_clear_error (&error);
        }
      FUZZ_ASSERT (referral_ledger_is_balanced (referral_engine_ledger (engine)));
    }
  FUZZ_ASSERT (referral_engine_check_invariants (engine, NULL));
  referral_engine_free (engine);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* A scheme can name rule plugins (shared objects) to load: never let
   * fuzz input choose code to run. */
  if (g_strstr_len ((const char *) data, (gssize) size, "plugins") != NULL)
    return 0;
  GError *error = NULL;
  ReferralScheme *scheme = referral_scheme_load_data ((const char *) data, (gssize) size,
                                                      "fuzz.ini", &error);
  if (scheme == NULL)
    {
      FUZZ_ASSERT (error != NULL && error->domain == REFERRAL_ERROR);
      FUZZ_ASSERT (g_str_has_prefix (error->message, "fuzz.ini"));
      g_error_free (error);
      return 0;
    }
  FUZZ_ASSERT (error == NULL);
  exercise (scheme);
  referral_scheme_unref (scheme);
  return 0;
}
