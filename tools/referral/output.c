/* Outputs of the `referral` tool: balances, ledger, summary. */
#include "output.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

gboolean
output_open (Output *out, const char *path, GError **error)
{
  out->path = g_strdup (path);
  if (strcmp (path, "-") == 0)
    {
      out->file = stdout;
      return TRUE;
    }
  out->file = fopen (path, "w");
  if (out->file == NULL)
    {
      int err = errno;
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                   "cannot write %s: %s", path, g_strerror (err));
      g_clear_pointer (&out->path, g_free);
      return FALSE;
    }
  return TRUE;
}

gboolean
output_close (Output *out, GError **error)
{
  if (out->file == NULL)
    return TRUE;
  gboolean ok = !ferror (out->file);
  int err = ok ? 0 : EIO;
  if (fflush (out->file) != 0 && ok)
    {
      ok = FALSE;
      err = errno;
    }
  if (out->file != stdout && fclose (out->file) != 0 && ok)
    {
      ok = FALSE;
      err = errno;
    }
  if (!ok)
    g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "cannot write %s: %s",
                 strcmp (out->path, "-") == 0 ? "standard output" : out->path,
                 g_strerror (err));
  out->file = NULL;
  g_clear_pointer (&out->path, g_free);
  return ok;
}

int
output_mkstemp (char *tmpl)
{
  int fd = g_mkstemp (tmpl);
  if (fd < 0)
    return -1;
  mode_t mask = umask (0);
  umask (mask);
  if (fchmod (fd, 0666 & ~mask) != 0)
    {
      int err = errno;
      close (fd);
      g_unlink (tmpl);
      errno = err;
      return -1;
    }
  return fd;
}

/* Writes @text as a JSON string. */
void
put_json_string (FILE *file, const char *text)
{
  putc ('"', file);
  for (const char *c = text; *c != '\0'; c++)
    {
      guchar b = (guchar) *c;
      switch (b)
        {
        case '"': fputs ("\\\"", file); break;
        case '\\': fputs ("\\\\", file); break;
        case '\n': fputs ("\\n", file); break;
        case '\r': fputs ("\\r", file); break;
        case '\t': fputs ("\\t", file); break;
        case '\b': fputs ("\\b", file); break;
        case '\f': fputs ("\\f", file); break;
        default:
          if (b < 0x20)
            fprintf (file, "\\u%04x", b);
          else
            putc ((char) b, file);
        }
    }
  putc ('"', file);
}

void
write_balances (FILE *file, const ReferralEngine *engine)
{
  const ReferralTree *tree = referral_engine_tree (engine);
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  const ReferralScheme *scheme = referral_engine_scheme (engine);
  guint decimals = referral_scheme_decimals (scheme);
  char buf[REFERRAL_MONEY_BUF_SIZE];

  guint32 n = referral_tree_size (tree);
  for (ReferralMember m = 0; m < n; m++)
    {
      fputs ("{\"member\":", file);
      put_json_string (file, referral_tree_key (tree, m));
      fputs (",\"rank\":", file);
      put_json_string (file, referral_scheme_rank_name (scheme,
                                                        referral_tree_rank (tree, m)));
      gint64 available = referral_ledger_balance (
        ledger, referral_ledger_member_account (ledger, m, FALSE));
      gint64 held = referral_ledger_balance (
        ledger, referral_ledger_member_account (ledger, m, TRUE));
      fprintf (file, ",\"available\":\"%s\"",
               referral_money_format_buf (available, decimals, buf));
      fprintf (file, ",\"held\":\"%s\"}\n",
               referral_money_format_buf (held, decimals, buf));
    }
  guint n_pools = referral_ledger_n_pools (ledger);
  for (guint p = 0; p < n_pools; p++)
    {
      fputs ("{\"account\":", file);
      put_json_string (file, referral_ledger_pool_name (ledger, p));
      gint64 balance = referral_ledger_balance (ledger,
                                                referral_ledger_pool_account (ledger, p));
      fprintf (file, ",\"balance\":\"%s\"}\n",
               referral_money_format_buf (balance, decimals, buf));
    }
}

/* Writes @text as a CSV field (RFC 4180): quoted only when it must be. */
void
put_csv_field (FILE *file, const char *text)
{
  if (strpbrk (text, ",\"\r\n") == NULL)
    {
      fputs (text, file);
      return;
    }
  putc ('"', file);
  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == '"')
        putc ('"', file);
      putc (*c, file);
    }
  putc ('"', file);
}

/* The name of @account, made on first use and kept in @names. */
static const char *
account_name (const ReferralLedger *ledger, char **names, guint32 n_accounts,
              ReferralAccount account)
{
  if (account >= n_accounts)
    return "?";
  if (names[account] == NULL)
    names[account] = referral_ledger_account_name (ledger, account);
  return names[account];
}

void
write_ledger_csv (FILE *file, const ReferralEngine *engine)
{
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  const ReferralScheme *scheme = referral_engine_scheme (engine);
  guint decimals = referral_scheme_decimals (scheme);
  char buf[REFERRAL_MONEY_BUF_SIZE];
  /* Account names, made once each: a ledger has far more postings than
   * accounts. */
  guint32 n_accounts = referral_ledger_n_accounts (ledger);
  char **names = g_new0 (char *, n_accounts);

  fputs ("index,event,event_id,kind,rule,from,to,amount,cause,reversal\n", file);
  guint64 n = referral_ledger_n_postings (ledger);
  for (guint64 i = 0; i < n; i++)
    {
      const ReferralPosting *p = referral_ledger_posting (ledger, i);

      fprintf (file, "%" G_GUINT64_FORMAT ",%" G_GUINT32_FORMAT ",", i, p->event);
      put_csv_field (file, referral_engine_event_id (engine, p->event));
      putc (',', file);
      put_csv_field (file, referral_ledger_kind_name (ledger, p->kind));
      putc (',', file);
      put_csv_field (file, p->rule == 0 ? "engine"
                                        : referral_scheme_rule_name (scheme, p->rule - 1u));
      putc (',', file);
      put_csv_field (file, account_name (ledger, names, n_accounts, p->from));
      putc (',', file);
      put_csv_field (file, account_name (ledger, names, n_accounts, p->to));
      fprintf (file, ",%s,", referral_money_format_buf (p->amount, decimals, buf));
      guint64 cause = referral_posting_cause (p, i);
      if (cause != REFERRAL_NO_POSTING)
        fprintf (file, "%" G_GUINT64_FORMAT, cause);
      fprintf (file, ",%d\n", (p->flags & REFERRAL_POSTING_REVERSAL) ? 1 : 0);
    }
  for (guint32 a = 0; a < n_accounts; a++)
    g_free (names[a]);
  g_free (names);
}

static gboolean
is_member_account (const ReferralLedger *ledger, ReferralAccount account)
{
  return referral_ledger_account_member (ledger, account, NULL) != REFERRAL_NO_MEMBER;
}

/* The platform and the pools: where rewards come from. */
static gboolean
is_scheme_account (const ReferralLedger *ledger, ReferralAccount account)
{
  return account != REFERRAL_ACCOUNT_OUTSIDE && !is_member_account (ledger, account);
}

static void
add_to (gint64 *total, gint64 amount, gboolean *overflow)
{
  if (!referral_money_add (*total, amount, total))
    *overflow = TRUE;
}

void
compute_totals (const ReferralEngine *engine, Totals *t)
{
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  const ReferralTree *tree = referral_engine_tree (engine);
  memset (t, 0, sizeof *t);

  guint64 n = referral_ledger_n_postings (ledger);
  for (guint64 i = 0; i < n; i++)
    {
      const ReferralPosting *p = referral_ledger_posting (ledger, i);
      gboolean reversal = (p->flags & REFERRAL_POSTING_REVERSAL) != 0;
      if (p->kind == REFERRAL_KIND_SALE)
        add_to (&t->money_in, reversal ? -p->amount : p->amount, &t->overflow);
      else if (!reversal && is_scheme_account (ledger, p->from)
               && is_member_account (ledger, p->to))
        add_to (&t->paid_out, p->amount, &t->overflow);
      else if (reversal && is_member_account (ledger, p->from)
               && is_scheme_account (ledger, p->to))
        add_to (&t->paid_out, -p->amount, &t->overflow);
    }
  guint32 members = referral_tree_size (tree);
  for (ReferralMember m = 0; m < members; m++)
    add_to (&t->held,
            referral_ledger_balance (ledger, referral_ledger_member_account (ledger, m, TRUE)),
            &t->overflow);
}

void
write_summary (FILE *file, const ReferralEngine *engine, const ReferralRunStats *stats)
{
  guint decimals = referral_scheme_decimals (referral_engine_scheme (engine));
  char buf[REFERRAL_MONEY_BUF_SIZE];
  Totals t;
  compute_totals (engine, &t);

  fprintf (file, "events applied: %" G_GUINT64_FORMAT "\n", stats->applied);
  fprintf (file, "duplicates: %" G_GUINT64_FORMAT "\n", stats->duplicates);
  fprintf (file, "errors: %" G_GUINT64_FORMAT "\n", stats->errors);
  if (t.overflow)
    {
      fputs ("money totals: too large to add up in 64 bits\n", file);
      return;
    }
  fprintf (file, "money in: %s\n", referral_money_format_buf (t.money_in, decimals, buf));
  fprintf (file, "paid out: %s\n", referral_money_format_buf (t.paid_out, decimals, buf));
  fprintf (file, "held: %s\n", referral_money_format_buf (t.held, decimals, buf));
}
