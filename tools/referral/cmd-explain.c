/* referral explain: every cent of one member, posting by posting, traced to
 * the event and the rule that caused it (holds and releases included), with
 * the running balances of its available and held funds. */
#include "commands.h"
#include "output.h"

#include <string.h>
#include <referral/referral.h>

typedef struct {
  char *scheme;
  gboolean keep_going;
} ExplainOptions;

/* What the subscriber records while the events are applied. */
typedef struct {
  const ReferralEngine *engine;
  guint decimals;
  const char *target;     /* the member's key */
  GPtrArray *described;   /* per event seq: its description */
  GString *paid;          /* the target's own orders and refunds */
  gint64 paid_total;
} Recorder;

static void
report_to_stderr (const char *file, guint64 line, const char *message, gpointer user_data)
{
  fprintf (stderr, "%s:%" G_GUINT64_FORMAT ": %s\n", file, line, message);
}

/* A one-line description of @ev, from the fields its type uses. */
static char *
describe_event (const ReferralEvent *ev, guint decimals)
{
  char buf[REFERRAL_MONEY_BUF_SIZE];
  switch (ev->type)
    {
    case REFERRAL_EVENT_JOIN:
      if (ev->sponsor != NULL)
        return g_strdup_printf ("join \"%s\" sponsored by \"%s\"", ev->member, ev->sponsor);
      return g_strdup_printf ("join \"%s\"", ev->member);
    case REFERRAL_EVENT_ORDER:
      return g_strdup_printf ("order \"%s\" by \"%s\", %s%s%s", ev->order, ev->member,
                              referral_money_format_buf (ev->amount, decimals, buf),
                              ev->sku ? ", sku " : "", ev->sku ? ev->sku : "");
    case REFERRAL_EVENT_REFUND:
      return g_strdup_printf ("refund of order \"%s\"", ev->order);
    case REFERRAL_EVENT_PERIOD_CLOSE:
      return g_strdup_printf ("period_close \"%s\"", ev->period);
    case REFERRAL_EVENT_WITHDRAW:
      return g_strdup_printf ("withdraw \"%s\", %s", ev->member,
                              referral_money_format_buf (ev->amount, decimals, buf));
    case REFERRAL_EVENT_PROMOTE:
      return g_strdup_printf ("promote \"%s\" to %s", ev->member, ev->rank);
    case REFERRAL_EVENT_COMMAND:
      return g_strdup_printf ("%s \"%s\"%s%s%s%s%s%s", ev->command,
                              ev->member ? ev->member : "",
                              ev->old_member ? ", old \"" : "",
                              ev->old_member ? ev->old_member : "",
                              ev->old_member ? "\"" : "",
                              ev->new_member ? ", new \"" : "",
                              ev->new_member ? ev->new_member : "",
                              ev->new_member ? "\"" : "");
    case REFERRAL_EVENT_NONE:
    default:
      return g_strdup ("?");
    }
}

static void
on_applied (gpointer user_data, const ReferralEvent *ev, guint32 seq)
{
  Recorder *r = user_data;
  char buf[REFERRAL_MONEY_BUF_SIZE];
  if (r->described->len <= seq)
    g_ptr_array_set_size (r->described, seq + 1);
  g_ptr_array_index (r->described, seq) = describe_event (ev, r->decimals);

  /* What the member paid is not in its accounts (a buyer pays from
   * outside), so it is followed here. */
  if (ev->type == REFERRAL_EVENT_ORDER && strcmp (ev->member, r->target) == 0)
    {
      r->paid_total += ev->amount;
      g_string_append_printf (r->paid, "  event %" G_GUINT32_FORMAT " \"%s\": order \"%s\" "
                              "paid %s\n", seq, ev->id, ev->order,
                              referral_money_format_buf (ev->amount, r->decimals, buf));
    }
  ReferralOrder order;
  if (ev->type == REFERRAL_EVENT_REFUND
      && referral_engine_lookup_order (r->engine, ev->order, &order)
      && strcmp (referral_tree_key (referral_engine_tree (r->engine), order.buyer),
                 r->target) == 0)
    {
      r->paid_total -= order.amount;
      g_string_append_printf (r->paid, "  event %" G_GUINT32_FORMAT " \"%s\": refund of "
                              "order \"%s\" returned %s\n", seq, ev->id, ev->order,
                              referral_money_format_buf (order.amount, r->decimals, buf));
    }
}

/* "direct 300.00, platform -> B:available, rule seller" */
static char *
describe_posting (const ReferralEngine *engine, const ReferralPosting *p)
{
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  const ReferralScheme *scheme = referral_engine_scheme (engine);
  char buf[REFERRAL_MONEY_BUF_SIZE];
  g_autofree char *from = referral_ledger_account_name (ledger, p->from);
  g_autofree char *to = referral_ledger_account_name (ledger, p->to);
  return g_strdup_printf ("%s%s %s, %s -> %s, rule %s",
                          (p->flags & REFERRAL_POSTING_REVERSAL) ? "reversal of " : "",
                          referral_ledger_kind_name (ledger, p->kind),
                          referral_money_format_buf (p->amount, referral_scheme_decimals (scheme),
                                                     buf),
                          from, to,
                          p->rule == 0 ? "engine" : referral_scheme_rule_name (scheme, p->rule - 1u));
}

static const char *
event_text (const Recorder *r, guint32 seq)
{
  if (seq < r->described->len && g_ptr_array_index (r->described, seq) != NULL)
    return g_ptr_array_index (r->described, seq);
  return "?";
}

/* Prints the chain of causes of posting @index, each with its event when
 * that differs from @event. */
static void
print_causes (FILE *f, const Recorder *r, const ReferralPosting *p, guint64 index)
{
  const ReferralLedger *ledger = referral_engine_ledger (r->engine);
  guint32 event = p->event;
  const char *verb = (p->flags & REFERRAL_POSTING_REVERSAL) ? "reverses" : "caused by";
  for (guint64 cause = referral_posting_cause (p, index); cause != REFERRAL_NO_POSTING;)
    {
      const ReferralPosting *c = referral_ledger_posting (ledger, cause);
      g_autofree char *what = describe_posting (r->engine, c);
      fprintf (f, "           %s posting %" G_GUINT64_FORMAT " (%s)\n", verb, cause, what);
      if (c->event != event)
        fprintf (f, "             in event %" G_GUINT32_FORMAT " \"%s\": %s\n", c->event,
                 referral_engine_event_id (r->engine, c->event), event_text (r, c->event));
      event = c->event;
      verb = (c->flags & REFERRAL_POSTING_REVERSAL) ? "which reverses" : "which was caused by";
      cause = referral_posting_cause (c, cause);
    }
}

typedef struct {
  gint64 available;
  gint64 held;
} Delta;

/* Prints every posting of @member; returns FALSE when the running totals
 * do not end at the ledger's balances (a broken ledger). */
static gboolean
explain (FILE *f, const Recorder *r, ReferralMember member)
{
  const ReferralEngine *engine = r->engine;
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  const ReferralTree *tree = referral_engine_tree (engine);
  const ReferralScheme *scheme = referral_engine_scheme (engine);
  guint decimals = r->decimals;
  ReferralAccount avail = referral_ledger_member_account (ledger, member, FALSE);
  ReferralAccount held = referral_ledger_member_account (ledger, member, TRUE);
  char b1[REFERRAL_MONEY_BUF_SIZE], b2[REFERRAL_MONEY_BUF_SIZE];
  char b3[REFERRAL_MONEY_BUF_SIZE], b4[REFERRAL_MONEY_BUF_SIZE];

  g_autoptr (GArray) postings = referral_ledger_explain (ledger, member);
  fprintf (f, "Member \"%s\" (rank %s) under scheme %s: %u posting%s\n",
           referral_tree_key (tree, member),
           referral_scheme_rank_name (scheme, referral_tree_rank (tree, member)),
           referral_scheme_name (scheme), postings->len, postings->len == 1 ? "" : "s");
  fprintf (f, "\n%9s %-18s %13s %13s %13s %13s\n", "posting", "kind", "available +/-",
           "held +/-", "available", "held");

  /* Totals by kind, in kind order. */
  GArray *by_kind = g_array_new (FALSE, TRUE, sizeof (Delta));
  gint64 a = 0, h = 0;
  gint64 rewards = 0, withdrawn = 0;
  guint32 last_event = G_MAXUINT32;
  for (guint i = 0; i < postings->len; i++)
    {
      guint64 index = g_array_index (postings, guint64, i);
      const ReferralPosting *p = referral_ledger_posting (ledger, index);
      if (p->event != last_event)
        {
          fprintf (f, "event %" G_GUINT32_FORMAT " \"%s\": %s\n", p->event,
                   referral_engine_event_id (engine, p->event), event_text (r, p->event));
          last_event = p->event;
        }
      gint64 da = (p->to == avail ? p->amount : 0) - (p->from == avail ? p->amount : 0);
      gint64 dh = (p->to == held ? p->amount : 0) - (p->from == held ? p->amount : 0);
      a += da;
      h += dh;
      /* Rewards come from the platform or a pool (and go back there on a
       * refund); money out of the scheme is withdrawn. */
      gboolean from_member = referral_ledger_account_member (ledger, p->from, NULL) != REFERRAL_NO_MEMBER;
      gboolean to_member = referral_ledger_account_member (ledger, p->to, NULL) != REFERRAL_NO_MEMBER;
      if (!from_member && p->from != REFERRAL_ACCOUNT_OUTSIDE && to_member)
        rewards += p->amount;
      else if (from_member && !to_member && p->to != REFERRAL_ACCOUNT_OUTSIDE)
        rewards -= p->amount;
      else if (from_member && p->to == REFERRAL_ACCOUNT_OUTSIDE)
        withdrawn += p->amount;
      if (by_kind->len <= p->kind)
        g_array_set_size (by_kind, p->kind + 1u);
      Delta *k = &g_array_index (by_kind, Delta, p->kind);
      k->available += da;
      k->held += dh;
      g_autofree char *kind = g_strdup_printf ("%s%s",
                                               referral_ledger_kind_name (ledger, p->kind),
                                               (p->flags & REFERRAL_POSTING_REVERSAL)
                                                 ? " (reversal)" : "");
      fprintf (f, "%9" G_GUINT64_FORMAT " %-18s %13s %13s %13s %13s\n", index, kind,
               da ? referral_money_format_buf (da, decimals, b1) : "",
               dh ? referral_money_format_buf (dh, decimals, b2) : "",
               referral_money_format_buf (a, decimals, b3),
               referral_money_format_buf (h, decimals, b4));
      g_autofree char *from = referral_ledger_account_name (ledger, p->from);
      g_autofree char *to = referral_ledger_account_name (ledger, p->to);
      fprintf (f, "           %s -> %s, rule %s\n", from, to,
               p->rule == 0 ? "engine" : referral_scheme_rule_name (scheme, p->rule - 1u));
      print_causes (f, r, p, index);
    }

  fprintf (f, "\n%-28s %13s %13s\n", "totals by kind", "available", "held");
  for (guint k = 0; k < by_kind->len; k++)
    {
      const Delta *d = &g_array_index (by_kind, Delta, k);
      if (d->available == 0 && d->held == 0)
        continue;
      fprintf (f, "  %-26s %13s %13s\n", referral_ledger_kind_name (ledger, (ReferralKind) k),
               referral_money_format_buf (d->available, decimals, b1),
               referral_money_format_buf (d->held, decimals, b2));
    }
  g_array_unref (by_kind);
  fprintf (f, "  %-26s %13s %13s\n", "total", referral_money_format_buf (a, decimals, b1),
           referral_money_format_buf (h, decimals, b2));
  gint64 balance_a = referral_ledger_balance (ledger, avail);
  gint64 balance_h = referral_ledger_balance (ledger, held);
  gboolean equal = balance_a == a && balance_h == h;
  fprintf (f, "  %-26s %13s %13s  (%s)\n", "balances in the ledger",
           referral_money_format_buf (balance_a, decimals, b1),
           referral_money_format_buf (balance_h, decimals, b2),
           equal ? "equal to the totals" : "DIFFERENT FROM THE TOTALS");

  fprintf (f, "\nRewards received, net of reversals: %s; withdrawn: %s\n",
           referral_money_format_buf (rewards, decimals, b1),
           referral_money_format_buf (withdrawn, decimals, b2));
  fprintf (f, "Paid for its own orders, less refunds: %s\n",
           referral_money_format_buf (r->paid_total, decimals, b1));
  fputs (r->paid->str, f);
  fprintf (f, "Net result (rewards received - paid): %s\n",
           referral_money_format_buf (rewards - r->paid_total, decimals, b1));
  return equal;
}

static int
run_explain (const ExplainOptions *o, const char *events, const char *key)
{
  g_autoptr (GError) error = NULL;
  if (referral_scheme_builtin_text (o->scheme) == NULL
      && !g_file_test (o->scheme, G_FILE_TEST_EXISTS))
    {
      g_autofree char *names = g_strjoinv (", ", (char **) referral_scheme_builtin_names ());
      command_error ("explain", "scheme %s is neither a built-in scheme (%s) nor a file",
                     o->scheme, names);
      return EXIT_USAGE;
    }
  g_autoptr (ReferralScheme) scheme = referral_scheme_open (o->scheme, &error);
  if (scheme == NULL)
    {
      command_error ("explain", "cannot use scheme %s: %s", o->scheme, error->message);
      return EXIT_USAGE;
    }
  g_autoptr (ReferralEngine) engine = referral_engine_new (scheme, &error);
  if (engine == NULL)
    {
      command_error ("explain", "cannot set up scheme %s: %s", o->scheme, error->message);
      return EXIT_USAGE;
    }
  Recorder r = { engine, referral_scheme_decimals (scheme), key,
                 g_ptr_array_new_with_free_func (g_free), g_string_new (NULL), 0 };
  ReferralSubscriber subscriber = { REFERRAL_SUBSCRIBER_VERSION, on_applied, NULL, NULL, NULL,
                                    NULL, NULL, NULL };
  referral_engine_subscribe (engine, &subscriber, &r, NULL);

  ReferralRunStats stats;
  gboolean all_applied = referral_engine_apply_jsonl (
    engine, events, o->keep_going ? REFERRAL_RUN_KEEP_GOING : REFERRAL_RUN_STOP_AT_ERROR,
    report_to_stderr, NULL, &stats, &error);
  int status = all_applied ? EXIT_ALL_APPLIED : EXIT_REJECTED;
  if (error != NULL)
    {
      command_error ("explain", "%s", error->message);
      status = EXIT_USAGE;
    }
  else
    {
      ReferralMember member = referral_tree_lookup (referral_engine_tree (engine), key);
      if (member == REFERRAL_NO_MEMBER)
        {
          command_error ("explain", "member \"%s\" does not exist after %" G_GUINT64_FORMAT
                         " events", key, stats.applied);
          status = EXIT_USAGE;
        }
      else if (!explain (stdout, &r, member))
        {
          command_error ("explain", "the postings of \"%s\" do not add up to its balances", key);
          status = EXIT_REJECTED;
        }
      if (fflush (stdout) != 0 || ferror (stdout))
        {
          command_error ("explain", "cannot write standard output");
          status = EXIT_USAGE;
        }
    }
  g_ptr_array_unref (r.described);
  g_string_free (r.paid, TRUE);
  return status;
}

int
command_explain (int argc, char **argv)
{
  ExplainOptions o = { NULL, FALSE };
  const GOptionEntry entries[] = {
    { "scheme", 's', 0, G_OPTION_ARG_FILENAME, &o.scheme,
      "A built-in scheme's name or a scheme file (required)", "SCHEME" },
    { "keep-going", 'k', 0, G_OPTION_ARG_NONE, &o.keep_going,
      "Report and skip each bad event instead of stopping at the first", NULL },
    G_OPTION_ENTRY_NULL
  };
  int status;
  if (!command_parse_options ("explain", "EVENTS|- MEMBER",
                              "Apply a JSON Lines file of events to a scheme, then show every "
                              "posting of MEMBER:\nthe event and rule that caused it, the "
                              "chain of postings behind it, and the\nrunning balances of its "
                              "available and held funds.",
                              "The totals by kind add up to the member's balances in the "
                              "ledger; the\nmember's own payments (orders less refunds) are "
                              "listed after them.\n\n"
                              "Exit status: 0 when every event applied, 1 when any was "
                              "rejected (the\nmember is explained as of the stop), 2 for bad "
                              "usage, an unreadable input,\nan unusable scheme or an unknown "
                              "member.",
                              entries, &argc, &argv))
    status = EXIT_USAGE;
  else if (o.scheme == NULL)
    {
      command_error ("explain", "--scheme is required (see \"referral explain --help\")");
      status = EXIT_USAGE;
    }
  else if (argc != 3)
    {
      command_error ("explain", "give an events file (or -) and a member's key (see "
                     "\"referral explain --help\")");
      status = EXIT_USAGE;
    }
  else
    status = run_explain (&o, argv[1], argv[2]);
  g_free (o.scheme);
  return status;
}
