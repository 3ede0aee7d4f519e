/* libFuzzer target: the event pipeline on arbitrary event sequences.
 *
 * The input is decoded into events over a small key space (8 members, 12
 * orders) so that most of them meet each other: joins, orders (with and
 * without the gift sku), refunds, withdrawals, promotions, period closes,
 * transposes, re-sent events and conflicting re-sends.  The first byte picks
 * the scheme: chain21 or demo.  After every event:
 *   - the ledger is balanced (checked by the engine itself with
 *     referral_engine_set_check_invariants, by referral_ledger_is_balanced,
 *     and by summing every account here);
 *   - a rejected event changed nothing (same state hash) and says why;
 *   - a re-sent applied event is a duplicate that changes nothing, and a
 *     changed re-send of an applied id is an id conflict. */
#include "fuzz-common.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define MAX_EVENTS 200
#define N_MEMBERS 8
#define N_ORDERS 12

typedef struct {
  const uint8_t *p;
  size_t left;
} Input;

static guint
take (Input *in)
{
  if (in->left == 0)
    return 0;
  in->left--;
  return *in->p++;
}

static const char *const members[N_MEMBERS] = { "A", "B", "C", "D", "E", "F", "G", "H" };
static const char *const orders[N_ORDERS] = { "o0", "o1", "o2", "o3", "o4", "o5",
                                              "o6", "o7", "o8", "o9", "o10", "o11" };

static const char *
member (Input *in)
{
  return members[take (in) % N_MEMBERS];
}

/* Mostly small amounts; now and then zero, negative or near the int64 edge. */
static gint64
amount (Input *in)
{
  guint sel = take (in);
  gint64 a = (gint64) ((take (in) << 8) | take (in));
  switch (sel % 16)
    {
    case 0: return 0;
    case 1: return -a;
    case 2: return G_MAXINT64 - a;
    case 3: return a * 100000000;
    default: return a * 10;
    }
}

static ReferralScheme *
scheme_for (guint selector)
{
  static ReferralScheme *schemes[2];
  static const char *const names[2] = { "chain21", "demo" };
  guint i = selector % 2;
  if (schemes[i] == NULL)
    {
      GError *error = NULL;
      schemes[i] = referral_scheme_new_builtin (names[i], &error);
      FUZZ_ASSERT (schemes[i] != NULL);
    }
  return schemes[i];
}

static void
check_balanced (const ReferralEngine *engine)
{
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  FUZZ_ASSERT (referral_ledger_is_balanced (ledger));
  gint64 sum = 0;
  for (guint32 a = 0; a < referral_ledger_n_accounts (ledger); a++)
    sum += referral_ledger_balance (ledger, (ReferralAccount) a);
  FUZZ_ASSERT (sum == 0);
  GError *error = NULL;
  if (!referral_engine_check_invariants (engine, &error))
    {
      fprintf (stderr, "invariants: %s\n", error->message);
      FUZZ_ASSERT (!"invariants hold");
    }
}

/* Decodes the next event into @ev (strings static or in @chunk). */
static void
decode (Input *in, ReferralScheme *scheme, guint n, GStringChunk *chunk, ReferralEvent *ev)
{
  *ev = (ReferralEvent) REFERRAL_EVENT_INIT;
  char id[32];
  g_snprintf (id, sizeof id, "e%u", n);
  ev->id = g_string_chunk_insert (chunk, id);
  switch (take (in) % 7)
    {
    case 0:
      ev->type = REFERRAL_EVENT_JOIN;
      ev->member = member (in);
      {
        guint s = take (in) % (N_MEMBERS + 1);
        ev->sponsor = s < N_MEMBERS ? members[s] : NULL;
      }
      break;
    case 1:
      ev->type = REFERRAL_EVENT_ORDER;
      ev->order = orders[take (in) % N_ORDERS];
      ev->member = member (in);
      ev->amount = amount (in);
      {
        guint s = take (in) % 3;
        ev->sku = s == 0 ? "gift" : s == 1 ? "retail" : NULL;
      }
      break;
    case 2:
      ev->type = REFERRAL_EVENT_REFUND;
      ev->order = orders[take (in) % N_ORDERS];
      break;
    case 3:
      {
        char period[32];
        ev->type = REFERRAL_EVENT_PERIOD_CLOSE;
        g_snprintf (period, sizeof period, "p%u", n);
        ev->period = g_string_chunk_insert (chunk, period);
      }
      break;
    case 4:
      ev->type = REFERRAL_EVENT_WITHDRAW;
      ev->member = member (in);
      ev->amount = amount (in);
      break;
    case 5:
      {
        ev->type = REFERRAL_EVENT_PROMOTE;
        ev->member = member (in);
        guint r = take (in) % (referral_scheme_n_ranks (scheme) + 1);
        ev->rank = r < referral_scheme_n_ranks (scheme)
                     ? referral_scheme_rank_name (scheme, (ReferralRank) r) : "no_such_rank";
      }
      break;
    default:
      ev->type = REFERRAL_EVENT_COMMAND;
      ev->command = take (in) % 8 ? "transpose" : "no_such_command";
      ev->member = member (in);
      ev->old_member = member (in);
      ev->new_member = member (in);
      break;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  Input in = { data, size };
  ReferralScheme *scheme = scheme_for (take (&in));
  GError *error = NULL;
  ReferralEngine *engine = referral_engine_new (scheme, &error);
  FUZZ_ASSERT (engine != NULL);
  referral_engine_set_check_invariants (engine, TRUE);
  GStringChunk *chunk = g_string_chunk_new (256);
  ReferralEvent sent[MAX_EVENTS];
  gboolean applied[MAX_EVENTS];
  guint n = 0;
  /* Every event in the order it was applied, and whether it was refused:
   * replayed at the end through referral_engine_apply_many(). */
  GArray *all = g_array_new (FALSE, FALSE, sizeof (ReferralEvent));
  GArray *refused = g_array_new (FALSE, FALSE, sizeof (gboolean));

  while (in.left > 0 && n < MAX_EVENTS)
    {
      guint op = take (&in);
      ReferralEvent ev;
      gboolean resend = FALSE, conflict = FALSE;
      guint earlier = 0;
      if (op % 8 == 7 && n > 0)
        {
          /* Re-send an earlier event, as it was or with another amount. */
          earlier = take (&in) % n;
          ev = sent[earlier];
          resend = TRUE;
          if (op & 0x80)
            {
              ev.amount = ev.amount == G_MAXINT64 ? 0 : ev.amount + 1;
              ev.amount_text = NULL;
              conflict = referral_event_fingerprint (&ev)
                         != referral_event_fingerprint (&sent[earlier]);
            }
        }
      else
        decode (&in, scheme, n, chunk, &ev);

      guint64 before = referral_engine_state_hash (engine);
      ReferralApplyResult result;
      gboolean ok = referral_engine_apply (engine, &ev, &result, &error);
      guint64 after = referral_engine_state_hash (engine);
      g_array_append_val (all, ev);
      gboolean was_refused = !ok;
      g_array_append_val (refused, was_refused);
      if (!ok)
        {
          FUZZ_ASSERT (error != NULL && error->domain == REFERRAL_ERROR);
          FUZZ_ASSERT (error->message[0] != '\0');
          FUZZ_ASSERT (before == after);
          FUZZ_ASSERT (!resend || !applied[earlier] || conflict);
          if (resend && applied[earlier])
            FUZZ_ASSERT (error->code == REFERRAL_ERROR_ID_CONFLICT);
          g_clear_error (&error);
        }
      else if (result.status == REFERRAL_DUPLICATE)
        {
          FUZZ_ASSERT (resend && !conflict);
          FUZZ_ASSERT (before == after);
          FUZZ_ASSERT (result.n_postings == 0);
        }
      else
        FUZZ_ASSERT (!resend || !applied[earlier]);
      if (resend && ok && result.status == REFERRAL_APPLIED)
        {
          /* An earlier rejected event went through this time. */
          sent[earlier] = ev;
          applied[earlier] = TRUE;
        }
      if (!resend)
        {
          sent[n] = ev;
          applied[n] = ok;
          n++;
        }
      check_balanced (engine);
    }

  /* The batch call, resumed after each refusal, refuses the same events
   * and ends in the same state. */
  ReferralEngine *batch = referral_engine_new (scheme, &error);
  FUZZ_ASSERT (batch != NULL);
  const ReferralEvent *evs = (const ReferralEvent *) (void *) all->data;
  gsize i = 0;
  while (i < all->len)
    {
      gsize done = 0;
      gboolean ok = referral_engine_apply_many (batch, evs + i, all->len - i, &done, NULL, &error);
      for (gsize k = i; k < i + done; k++)
        FUZZ_ASSERT (!g_array_index (refused, gboolean, k));
      i += done;
      if (ok)
        break;
      FUZZ_ASSERT (error != NULL && g_array_index (refused, gboolean, i));
      g_clear_error (&error);
      i++;
    }
  FUZZ_ASSERT (referral_engine_state_hash (batch) == referral_engine_state_hash (engine));
  referral_engine_free (batch);
  g_array_unref (all);
  g_array_unref (refused);

  referral_engine_free (engine);
  g_string_chunk_free (chunk);
  return 0;
}
