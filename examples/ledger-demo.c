/* ledger-demo: a small, complete libreferral program.
 *
 * It builds a two-rank scheme in code (a direct award to the buyer's sponsor
 * and a two-level unilevel commission), grows a small referral tree, applies
 * a few orders, a refund and a withdrawal (and one withdrawal the engine must
 * refuse), then prints every posting of the ledger and every balance.
 *
 * Build it against an installed libreferral with pkg-config alone:
 *
 *   cc ledger-demo.c $(pkg-config --cflags --libs referral) -o ledger-demo
 *
 * or with examples/Makefile.  Exit status: 0 on success, 1 when anything
 * went differently from what the program expects. */
#include <stdio.h>
#include <stdlib.h>

#include <referral/referral.h>

/* The scheme: ranks "user" and "agent".  On every order the buyer's sponsor
 * gets a direct award of 5% (a user) or 5.00 + 10% (an agent); the first two
 * sponsors up the chain that are agents get 3% and 1% (unilevel). */
static ReferralScheme *
build_scheme (GError **error)
{
  static const char *const ranks[] = { "user", "agent", NULL };
  static const char *const direct[] = {
    "amounts", "0.00, 5.00",
    "rates", "5%, 10%",
    "kind", "direct",
    NULL
  };
  static const char *const unilevel[] = {
    "levels", "2",
    "rates", "3%, 1%",
    "min_rank", "agent",
    NULL
  };
  ReferralSchemeBuilder *builder = referral_scheme_builder_new ("ledger-demo");

  if (!referral_scheme_builder_set_decimals (builder, 2, error)
      || !referral_scheme_builder_set_ranks (builder, ranks, error)
      || !referral_scheme_builder_add_rule (builder, "direct_award", "direct",
                                            direct, error)
      || !referral_scheme_builder_add_rule (builder, "unilevel", "unilevel",
                                            unilevel, error))
    {
      referral_scheme_builder_free (builder);
      return NULL;
    }
  return referral_scheme_builder_finish (builder, error);
}

/* One event of the demo, with its amount as decimal text. */
typedef struct {
  ReferralEventType type;
  const char *id;
  const char *member;
  const char *sponsor; /* join */
  const char *order;   /* order, refund */
  const char *amount;  /* order, withdraw */
  const char *rank;    /* promote */
} DemoEvent;

static const DemoEvent demo_events[] = {
  { REFERRAL_EVENT_JOIN, "e1", "A", NULL, NULL, NULL, NULL },
  { REFERRAL_EVENT_JOIN, "e2", "B", "A", NULL, NULL, NULL },
  { REFERRAL_EVENT_JOIN, "e3", "C", "B", NULL, NULL, NULL },
  { REFERRAL_EVENT_JOIN, "e4", "D", "B", NULL, NULL, NULL },
  { REFERRAL_EVENT_JOIN, "e5", "E", "C", NULL, NULL, NULL },
  { REFERRAL_EVENT_PROMOTE, "e6", "A", NULL, NULL, NULL, "agent" },
  { REFERRAL_EVENT_PROMOTE, "e7", "B", NULL, NULL, NULL, "agent" },
  { REFERRAL_EVENT_ORDER, "e8", "C", NULL, "o1", "699.00", NULL },
  { REFERRAL_EVENT_ORDER, "e9", "E", NULL, "o2", "100.00", NULL },
  { REFERRAL_EVENT_ORDER, "e10", "D", NULL, "o3", "250.00", NULL },
  { REFERRAL_EVENT_REFUND, "e11", NULL, NULL, "o2", NULL, NULL },
  { REFERRAL_EVENT_WITHDRAW, "e12", "B", NULL, NULL, "50.00", NULL },
};

/* Applies @demo; TRUE when it applied, FALSE with @error when refused. */
static gboolean
apply_demo_event (ReferralEngine *engine, const DemoEvent *demo,
                  GError **error)
{
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  guint decimals = referral_scheme_decimals (referral_engine_scheme (engine));

  ev.type = demo->type;
  ev.id = demo->id;
  ev.member = demo->member;
  ev.sponsor = demo->sponsor;
  ev.order = demo->order;
  ev.rank = demo->rank;
  if (demo->amount != NULL
      && !referral_money_parse (demo->amount, decimals, FALSE, &ev.amount, error))
    return FALSE;
  return referral_engine_apply (engine, &ev, NULL, error);
}

static void
print_ledger (const ReferralEngine *engine)
{
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  guint decimals = referral_scheme_decimals (referral_engine_scheme (engine));
  guint64 n = referral_ledger_n_postings (ledger);

  printf ("ledger: %" G_GUINT64_FORMAT " postings\n", n);
  for (guint64 i = 0; i < n; i++)
    {
      const ReferralPosting *p = referral_ledger_posting (ledger, i);
      char amount[REFERRAL_MONEY_BUF_SIZE];
      char *from = referral_ledger_account_name (ledger, p->from);
      char *to = referral_ledger_account_name (ledger, p->to);
      guint64 cause = referral_posting_cause (p, i);

      printf ("  #%-3" G_GUINT64_FORMAT " %-4s %-9s %-12s -> %-12s %10s",
              i, referral_engine_event_id (engine, p->event),
              referral_ledger_kind_name (ledger, p->kind), from, to,
              referral_money_format_buf (p->amount, decimals, amount));
      if (cause != REFERRAL_NO_POSTING)
        printf ("  %s #%" G_GUINT64_FORMAT,
                (p->flags & REFERRAL_POSTING_REVERSAL) ? "reverses" : "caused by",
                cause);
      printf ("\n");
      g_free (from);
      g_free (to);
    }
}

static void
print_balances (const ReferralEngine *engine)
{
  const ReferralScheme *scheme = referral_engine_scheme (engine);
  const ReferralTree *tree = referral_engine_tree (engine);
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  guint decimals = referral_scheme_decimals (scheme);
  char available[REFERRAL_MONEY_BUF_SIZE];
  char held[REFERRAL_MONEY_BUF_SIZE];
  char balance[REFERRAL_MONEY_BUF_SIZE];

  printf ("balances:\n");
  for (ReferralMember m = 0; m < referral_tree_size (tree); m++)
    {
      ReferralMember sponsor = referral_tree_sponsor (tree, m);
      gint64 avail = referral_ledger_balance (ledger,
                                              referral_ledger_member_account (ledger, m, FALSE));
      gint64 hold = referral_ledger_balance (ledger,
                                             referral_ledger_member_account (ledger, m, TRUE));

      printf ("  %-2s sponsor %-2s rank %-6s available %10s  held %10s\n",
              referral_tree_key (tree, m),
              sponsor == REFERRAL_NO_MEMBER ? "-" : referral_tree_key (tree, sponsor),
              referral_scheme_rank_name (scheme, referral_tree_rank (tree, m)),
              referral_money_format_buf (avail, decimals, available),
              referral_money_format_buf (hold, decimals, held));
    }
  /* The outside world, the platform and the pools: every account that does
   * not belong to a member. */
  for (ReferralAccount a = 0; a < referral_ledger_n_accounts (ledger); a++)
    {
      char *name;

      if (referral_ledger_account_member (ledger, a, NULL) != REFERRAL_NO_MEMBER)
        continue;
      name = referral_ledger_account_name (ledger, a);
      printf ("  %-12s %10s\n", name,
              referral_money_format_buf (referral_ledger_balance (ledger, a),
                                         decimals, balance));
      g_free (name);
    }
}

int
main (void)
{
  GError *error = NULL;
  ReferralScheme *scheme;
  ReferralEngine *engine;
  ReferralEvent overdraw = REFERRAL_EVENT_INIT;
  int status = EXIT_SUCCESS;

  scheme = build_scheme (&error);
  if (scheme == NULL)
    {
      fprintf (stderr, "ledger-demo: scheme: %s\n", error->message);
      g_error_free (error);
      return EXIT_FAILURE;
    }
  engine = referral_engine_new (scheme, &error);
  referral_scheme_unref (scheme); /* the engine holds its own reference */
  if (engine == NULL)
    {
      fprintf (stderr, "ledger-demo: engine: %s\n", error->message);
      g_error_free (error);
      return EXIT_FAILURE;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (demo_events); i++)
    {
      if (!apply_demo_event (engine, &demo_events[i], &error))
        {
          fprintf (stderr, "ledger-demo: event %s: %s\n",
                   demo_events[i].id, error->message);
          g_error_free (error);
          referral_engine_free (engine);
          return EXIT_FAILURE;
        }
    }

  /* B cannot take out more than it has: the engine refuses the event and
   * leaves everything as it was. */
  overdraw.type = REFERRAL_EVENT_WITHDRAW;
  overdraw.id = "e13";
  overdraw.member = "B";
  overdraw.amount = 1000000; /* 10000.00 */
  if (referral_engine_apply (engine, &overdraw, NULL, &error))
    {
      fprintf (stderr, "ledger-demo: the overdraft was not refused\n");
      status = EXIT_FAILURE;
    }
  else
    {
      printf ("refused: %s\n", error->message);
      g_clear_error (&error);
    }

  print_ledger (engine);
  print_balances (engine);

  if (!referral_ledger_is_balanced (referral_engine_ledger (engine)))
    {
      fprintf (stderr, "ledger-demo: the ledger does not sum to zero\n");
      status = EXIT_FAILURE;
    }
  printf ("%u events applied\n", referral_engine_n_events (engine));
  if (referral_engine_n_events (engine) != G_N_ELEMENTS (demo_events))
    {
      fprintf (stderr, "ledger-demo: expected %u events applied\n",
               (guint) G_N_ELEMENTS (demo_events));
      status = EXIT_FAILURE;
    }
  referral_engine_free (engine);
  return status;
}
