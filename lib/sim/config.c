/* Simulation configuration: the keys, their defaults and syntax, and the
 * [sim] key-file reader.
 *
 * The reader is a small line parser rather than GKeyFile: it must name the
 * line of every bad key (GKeyFile keeps no line numbers) and refuse a key
 * given twice (GKeyFile keeps the last one silently). */
#include "sim-private.h"

#include <string.h>
#include <referral/error.h>

typedef struct {
  const char *name;
  SimType type;
  const char *default_value;
  guint64 min, max;        /* COUNT */
  const char *syntax;
  const char *description;
} SimKeyInfo;

/* Amount defaults are whole major units so that they suit a currency of any
 * number of decimals.  Per-rank defaults have two entries: members of the
 * entry rank (who have not bought) and members of any higher rank. */
static const SimKeyInfo keys[SIM_N_KEYS] = {
  [SIM_KEY_SEED] = { "seed", SIM_TYPE_U64, "1", 0, G_MAXUINT64, "N",
    "seed of every random draw: the same seed gives the same run" },
  [SIM_KEY_MEMBERS] = { "members", SIM_TYPE_COUNT, "100000", 1, 1u << 30, "N",
    "people in the market: at most this many ever join" },
  [SIM_KEY_DAYS] = { "days", SIM_TYPE_COUNT, "60", 1, 100000, "N",
    "days to simulate; each ends with a period close" },
  [SIM_KEY_FOUNDERS] = { "founders", SIM_TYPE_COUNT, "20", 1, 1u << 30, "N",
    "people who join on day 1 without a sponsor" },
  [SIM_KEY_FOUNDER_RANK] = { "founder_rank", SIM_TYPE_RANK, "", 0, 0, "RANK",
    "rank the founders are promoted to on day 1 (empty: they join like "
    "anyone and buy the entry product with probability entry_rate)" },
  [SIM_KEY_ENTRY_SKU] = { "entry_sku", SIM_TYPE_SKU, "gift", 0, 0, "SKU",
    "sku of the entry product every recruit is asked to buy" },
  [SIM_KEY_ENTRY_PRICE] = { "entry_price", SIM_TYPE_MONEY, "699", 0, 0, "AMOUNT",
    "price of the entry product" },
  [SIM_KEY_REPURCHASE_SKU] = { "repurchase_sku", SIM_TYPE_SKU, "refill", 0, 0, "SKU",
    "sku of the product members buy again (retail)" },
  [SIM_KEY_REPURCHASE_PRICE] = { "repurchase_price", SIM_TYPE_MONEY, "99", 0, 0, "AMOUNT",
    "price of the repurchase product" },
  [SIM_KEY_RECRUIT_RATES] = { "recruit_rates", SIM_TYPE_RATE_LIST, "2%, 30%", 0, 0,
    "RATE,...",
    "daily probability that an active member recruits one person, by rank "
    "(lowest first; the last entry applies to higher ranks), times the "
    "share of the market not yet joined (see recruit_saturation)" },
  [SIM_KEY_RECRUIT_SATURATION] = { "recruit_saturation", SIM_TYPE_BOOL, "true", 0, 0,
    "true|false",
    "scale recruit_rates by the share of the market not yet joined (false: "
    "recruiting stays as likely until the market is full)" },
  [SIM_KEY_ENTRY_RATE] = { "entry_rate", SIM_TYPE_RATE, "60%", 0, 0, "RATE",
    "probability that a new member buys the entry product the day it joins" },
  [SIM_KEY_ENTRY_LATER_RATE] = { "entry_later_rate", SIM_TYPE_RATE, "2%", 0, 0, "RATE",
    "daily probability that an active member who never bought the entry "
    "product buys it" },
  [SIM_KEY_REPURCHASE_RATE] = { "repurchase_rate", SIM_TYPE_RATE, "2%", 0, 0, "RATE",
    "daily probability that an active member who bought the entry product "
    "buys the repurchase product" },
  [SIM_KEY_CHURN_RATES] = { "churn_rates", SIM_TYPE_RATE_LIST, "5%, 1%", 0, 0,
    "RATE,...",
    "daily probability that an active member becomes inactive for good, by "
    "rank (as recruit_rates)" },
  [SIM_KEY_REFUND_RATE] = { "refund_rate", SIM_TYPE_RATE, "1%", 0, 0, "RATE",
    "probability that an order is refunded the next day" },
  [SIM_KEY_WITHDRAW_RATE] = { "withdraw_rate", SIM_TYPE_RATE, "5%", 0, 0, "RATE",
    "daily probability that an active member with positive available funds "
    "withdraws them all" },
  [SIM_KEY_COHORT_DAYS] = { "cohort_days", SIM_TYPE_COUNT, "7", 1, 100000, "N",
    "join days per cohort in the loss-by-cohort metrics" },
  [SIM_KEY_CHECK_INVARIANTS] = { "check_invariants", SIM_TYPE_BOOL, "false", 0, 0,
    "true|false",
    "check the ledger and tree after every event (O(members) per event: for "
    "tests on small markets)" },
};

static const char *key_names[SIM_N_KEYS + 1];

static int
find_key (const char *name)
{
  if (name == NULL)
    return -1;
  for (int k = 0; k < SIM_N_KEYS; k++)
    if (strcmp (keys[k].name, name) == 0)
      return k;
  return -1;
}

const char *const *
referral_sim_config_keys (void)
{
  static gsize init = 0;
  if (g_once_init_enter (&init))
    {
      for (int k = 0; k < SIM_N_KEYS; k++)
        key_names[k] = keys[k].name;
      key_names[SIM_N_KEYS] = NULL;
      g_once_init_leave (&init, 1);
    }
  return key_names;
}

const char *
referral_sim_config_key_default (const char *key)
{
  int k = find_key (key);
  return k < 0 ? NULL : keys[k].default_value;
}

const char *
referral_sim_config_key_description (const char *key)
{
  int k = find_key (key);
  return k < 0 ? NULL : keys[k].description;
}

const char *
referral_sim_config_key_syntax (const char *key)
{
  int k = find_key (key);
  return k < 0 ? NULL : keys[k].syntax;
}

guint64
sim_rate_threshold (ReferralRate rate)
{
  gint64 t = 0;
  /* rate <= 1 was checked, so the result is at most 2^32. */
  if (!referral_money_mul_div (rate.num, G_GINT64_CONSTANT (1) << 32, rate.den, &t))
    g_assert_not_reached ();
  return (guint64) t;
}

/* Parses one probability; FALSE with a message in *@why. */
static gboolean
parse_probability (const char *text, ReferralRate *out, char **why)
{
  GError *local = NULL;
  if (!referral_rate_parse (text, out, &local))
    {
      *why = g_strdup (local->message);
      g_error_free (local);
      return FALSE;
    }
  if (out->num > out->den)
    {
      *why = g_strdup_printf ("\"%s\" is more than 100%%: a probability is at most 100%%",
                              text);
      return FALSE;
    }
  return TRUE;
}

/* Checks @text for key @k and stores the parsed value in @v (text and
 * where are left to the caller).  FALSE with a message in *@why. */
static gboolean
parse_value (int k, const char *text, SimValue *v, char **why)
{
  const SimKeyInfo *info = &keys[k];
  for (const char *c = text; *c; c++)
    if ((guchar) *c < 0x20 || *c == 0x7f)
      {
        *why = g_strdup ("contains a control character");
        return FALSE;
      }
  switch (info->type)
    {
    case SIM_TYPE_U64:
      if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &v->u, NULL))
        {
          *why = g_strdup_printf ("\"%s\" is not a whole number from 0 to %" G_GUINT64_FORMAT,
                                  text, G_MAXUINT64);
          return FALSE;
        }
      return TRUE;
    case SIM_TYPE_COUNT:
      if (!g_ascii_string_to_unsigned (text, 10, info->min, info->max, &v->u, NULL))
        {
          *why = g_strdup_printf ("\"%s\" is not a whole number from %" G_GUINT64_FORMAT
                                  " to %" G_GUINT64_FORMAT, text, info->min, info->max);
          return FALSE;
        }
      return TRUE;
    case SIM_TYPE_BOOL:
      if (strcmp (text, "true") == 0)
        v->u = 1;
      else if (strcmp (text, "false") == 0)
        v->u = 0;
      else
        {
          *why = g_strdup_printf ("\"%s\" is not true or false", text);
          return FALSE;
        }
      return TRUE;
    case SIM_TYPE_RANK:
      /* Checked against the scheme in referral_sim_new(). */
      return TRUE;
    case SIM_TYPE_SKU:
      if (*text == '\0')
        {
          *why = g_strdup ("is empty: a sku is required");
          return FALSE;
        }
      return TRUE;
    case SIM_TYPE_MONEY:
      {
        /* The syntax now; the scheme's decimals in referral_sim_new(). */
        gint64 amount;
        GError *local = NULL;
        if (!referral_money_parse (text, REFERRAL_MAX_DECIMALS, FALSE, &amount, &local))
          {
            *why = g_strdup (local->message);
            g_error_free (local);
            return FALSE;
          }
        if (amount == 0)
          {
            *why = g_strdup_printf ("\"%s\" is zero: a price must be positive", text);
            return FALSE;
          }
        return TRUE;
      }
    case SIM_TYPE_RATE:
      v->n_rates = 1;
      return parse_probability (text, &v->rates[0], why);
    case SIM_TYPE_RATE_LIST:
      {
        g_auto (GStrv) parts = g_strsplit (text, ",", -1);
        guint n = g_strv_length (parts);
        if (n == 0 || (n == 1 && *g_strstrip (parts[0]) == '\0'))
          {
            *why = g_strdup ("is empty: give one probability per rank, lowest first");
            return FALSE;
          }
        if (n > REFERRAL_MAX_RANKS)
          {
            *why = g_strdup_printf ("has %u entries: a scheme has at most %d ranks",
                                    n, REFERRAL_MAX_RANKS);
            return FALSE;
          }
        for (guint i = 0; i < n; i++)
          {
            char *part = g_strstrip (parts[i]);
            if (*part == '\0')
              {
                *why = g_strdup_printf ("entry %u is empty", i + 1);
                return FALSE;
              }
            if (!parse_probability (part, &v->rates[i], why))
              return FALSE;
          }
        v->n_rates = n;
        return TRUE;
      }
    default:
      g_assert_not_reached ();
    }
  return FALSE;
}

static void
value_clear (SimValue *v)
{
  g_free (v->text);
  g_free (v->where);
  memset (v, 0, sizeof *v);
}

ReferralSimConfig *
referral_sim_config_new (void)
{
  ReferralSimConfig *c = g_new0 (ReferralSimConfig, 1);
  for (int k = 0; k < SIM_N_KEYS; k++)
    {
      SimValue *v = &c->values[k];
      char *why = NULL;
      if (!parse_value (k, keys[k].default_value, v, &why))
        g_error ("default of simulation key %s is invalid: %s", keys[k].name, why);
      v->text = g_strdup (keys[k].default_value);
      v->where = g_strdup_printf ("key \"%s\" (default)", keys[k].name);
    }
  return c;
}

ReferralSimConfig *
referral_sim_config_copy (const ReferralSimConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);
  ReferralSimConfig *c = g_new0 (ReferralSimConfig, 1);
  for (int k = 0; k < SIM_N_KEYS; k++)
    {
      c->values[k] = config->values[k];
      c->values[k].text = g_strdup (config->values[k].text);
      c->values[k].where = g_strdup (config->values[k].where);
    }
  return c;
}

void
referral_sim_config_free (ReferralSimConfig *config)
{
  if (config == NULL)
    return;
  for (int k = 0; k < SIM_N_KEYS; k++)
    value_clear (&config->values[k]);
  g_free (config);
}

gboolean
referral_sim_config_set (ReferralSimConfig *config, const char *key, const char *value,
                         const char *where, GError **error)
{
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (key != NULL && value != NULL, FALSE);
  g_autofree char *default_where = where ? NULL : g_strdup_printf ("key \"%s\"", key);
  if (where == NULL)
    where = default_where;
  int k = find_key (key);
  if (k < 0)
    {
      g_autofree char *known = g_strjoinv (", ", (char **) referral_sim_config_keys ());
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "%s: unknown simulation key (known keys: %s)", where, known);
      return FALSE;
    }
  /* Surrounding white space is ignored, as in a key file. */
  g_autofree char *stripped = g_strstrip (g_strdup (value));
  value = stripped;
  SimValue parsed;
  memset (&parsed, 0, sizeof parsed);
  char *why = NULL;
  if (!parse_value (k, value, &parsed, &why))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME, "%s: %s", where, why);
      g_free (why);
      return FALSE;
    }
  parsed.text = g_strdup (value);
  parsed.where = g_strdup (where);
  parsed.is_set = TRUE;
  value_clear (&config->values[k]);
  config->values[k] = parsed;
  return TRUE;
}

const char *
referral_sim_config_get (const ReferralSimConfig *config, const char *key)
{
  g_return_val_if_fail (config != NULL, NULL);
  int k = find_key (key);
  return k < 0 ? NULL : config->values[k].text;
}

gboolean
referral_sim_config_is_set (const ReferralSimConfig *config, const char *key)
{
  g_return_val_if_fail (config != NULL, FALSE);
  int k = find_key (key);
  return k >= 0 && config->values[k].is_set;
}

/* One "key = value" line of a [sim] file, remembered until every line was
 * read so that a bad file changes nothing. */
typedef struct {
  char *key;
  char *value;
  guint line;
} Assignment;

static void
assignment_clear (gpointer p)
{
  Assignment *a = p;
  g_free (a->key);
  g_free (a->value);
}

static gboolean
syntax_error (GError **error, const char *source, guint line, const char *message)
{
  g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME, "%s:%u: %s", source, line,
               message);
  return FALSE;
}

/* Splits @text into assignments of the [sim] group. */
static gboolean
read_lines (const char *text, const char *source, GArray *out, GError **error)
{
  gboolean in_sim = FALSE;
  guint line = 0;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean seen_group = FALSE;
  for (const char *p = text; *p != '\0';)
    {
      line++;
      const char *end = strchr (p, '\n');
      gsize len = end ? (gsize) (end - p) : strlen (p);
      g_autofree char *raw = g_strndup (p, len);
      char *s = g_strstrip (raw);
      p = end ? end + 1 : p + len;
      if (*s == '\0' || *s == '#' || *s == ';')
        continue;
      if (*s == '[')
        {
          if (strcmp (s, "[sim]") != 0)
            {
              g_autofree char *msg = g_strdup_printf ("unknown group %s (a simulation "
                                                      "file has only [sim])", s);
              return syntax_error (error, source, line, msg);
            }
          if (seen_group)
            return syntax_error (error, source, line, "[sim]: the group appears twice");
          in_sim = seen_group = TRUE;
          continue;
        }
      char *eq = strchr (s, '=');
      if (eq == NULL)
        {
          g_autofree char *msg = g_strdup_printf ("\"%s\" is not \"key = value\"", s);
          return syntax_error (error, source, line, msg);
        }
      *eq = '\0';
      char *key = g_strstrip (s);
      char *value = g_strstrip (eq + 1);
      if (!in_sim)
        {
          g_autofree char *msg = g_strdup_printf ("key \"%s\" is outside the [sim] group", key);
          return syntax_error (error, source, line, msg);
        }
      if (find_key (key) < 0)
        {
          g_autofree char *known = g_strjoinv (", ", (char **) referral_sim_config_keys ());
          g_autofree char *msg = g_strdup_printf ("[sim] key \"%s\": unknown simulation key "
                                                  "(known keys: %s)", key, known);
          return syntax_error (error, source, line, msg);
        }
      gpointer first = g_hash_table_lookup (seen, key);
      if (first != NULL)
        {
          g_autofree char *msg = g_strdup_printf ("[sim] key \"%s\" appears twice (first on "
                                                  "line %u)", key, GPOINTER_TO_UINT (first));
          return syntax_error (error, source, line, msg);
        }
      g_hash_table_insert (seen, g_strdup (key), GUINT_TO_POINTER (line));
      Assignment a = { g_strdup (key), g_strdup (value), line };
      g_array_append_val (out, a);
    }
  if (!seen_group)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME, "%s: no [sim] group", source);
      return FALSE;
    }
  return TRUE;
}

gboolean
referral_sim_config_load_data (ReferralSimConfig *config, const char *data, gssize length,
                               const char *source, GError **error)
{
  g_return_val_if_fail (config != NULL && data != NULL, FALSE);
  if (source == NULL)
    source = "<sim>";
  g_autofree char *text = length < 0 ? g_strdup (data) : g_strndup (data, (gsize) length);
  if (length >= 0 && strlen (text) != (gsize) length)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "%s: contains a NUL byte: not a text file", source);
      return FALSE;
    }
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME, "%s: not UTF-8 text", source);
      return FALSE;
    }
  g_autoptr (GArray) lines = g_array_new (FALSE, FALSE, sizeof (Assignment));
  g_array_set_clear_func (lines, assignment_clear);
  if (!read_lines (text, source, lines, error))
    return FALSE;
  /* Set a copy, so that a bad value leaves @config as it was. */
  ReferralSimConfig *copy = referral_sim_config_copy (config);
  for (guint i = 0; i < lines->len; i++)
    {
      const Assignment *a = &g_array_index (lines, Assignment, i);
      g_autofree char *where = g_strdup_printf ("%s:%u: [sim] key \"%s\"", source, a->line,
                                                a->key);
      if (!referral_sim_config_set (copy, a->key, a->value, where, error))
        {
          referral_sim_config_free (copy);
          return FALSE;
        }
    }
  for (int k = 0; k < SIM_N_KEYS; k++)
    {
      value_clear (&config->values[k]);
      config->values[k] = copy->values[k];
    }
  g_free (copy);
  return TRUE;
}

gboolean
referral_sim_config_load_file (ReferralSimConfig *config, const char *path, GError **error)
{
  g_return_val_if_fail (config != NULL && path != NULL, FALSE);
  g_autofree char *text = NULL;
  gsize length = 0;
  GError *local = NULL;
  if (!g_file_get_contents (path, &text, &length, &local))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  return referral_sim_config_load_data (config, text, (gssize) length, path, error);
}

char *
referral_sim_config_to_data (const ReferralSimConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);
  GString *s = g_string_new ("[sim]\n");
  for (int k = 0; k < SIM_N_KEYS; k++)
    g_string_append_printf (s, "%s = %s\n", keys[k].name, config->values[k].text);
  return g_string_free (s, FALSE);
}
