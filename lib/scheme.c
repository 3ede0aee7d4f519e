/* Schemes: built in code (the builder) or loaded from key files. */
#include <referral/error.h>
#include <referral/scheme.h>
#include <referral/referral-plugin.h>

#include "builtin-schemes.h"
#include "scheme-private.h"

#include <string.h>

static const char *const builtin_kinds[REFERRAL_N_BUILTIN_KINDS] = {
  "sale", "withdraw", "hold", "release",
};

struct _ReferralSchemeBuilder {
  ReferralScheme *scheme;
};

static void
rule_instance_free (gpointer data)
{
  ReferralRuleInstance *ri = data;
  if (ri->config && ri->type->free_config)
    ri->type->free_config (ri->config);
  referral_params_free (ri->params);
  if (ri->posting_kinds)
    g_array_free (ri->posting_kinds, TRUE);
  g_free (ri->name);
  g_free (ri);
}

static void
decl_clear (gpointer data)
{
  g_free (((ReferralDataDecl *) data)->name);
}

static void
command_clear (gpointer data)
{
  g_free (((ReferralCommandDecl *) data)->name);
}

ReferralSchemeBuilder *
referral_scheme_builder_new (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);
  ReferralSchemeBuilder *b = g_new0 (ReferralSchemeBuilder, 1);
  ReferralScheme *s = g_new0 (ReferralScheme, 1);
  s->ref_count = 1;
  s->name = g_strdup (name);
  s->decimals = 2;
  s->ranks = g_new0 (char *, 2);
  s->ranks[0] = g_strdup ("user");
  s->n_ranks = 1;
  s->rules = g_ptr_array_new_with_free_func (rule_instance_free);
  s->kinds = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < REFERRAL_N_BUILTIN_KINDS; i++)
    g_ptr_array_add (s->kinds, g_strdup (builtin_kinds[i]));
  s->pools = g_ptr_array_new_with_free_func (g_free);
  s->fields = g_array_new (FALSE, FALSE, sizeof (ReferralDataDecl));
  g_array_set_clear_func (s->fields, decl_clear);
  s->lists = g_array_new (FALSE, FALSE, sizeof (ReferralDataDecl));
  g_array_set_clear_func (s->lists, decl_clear);
  s->commands = g_array_new (FALSE, FALSE, sizeof (ReferralCommandDecl));
  g_array_set_clear_func (s->commands, command_clear);
  b->scheme = s;
  return b;
}

void
referral_scheme_builder_free (ReferralSchemeBuilder *builder)
{
  if (builder == NULL)
    return;
  referral_scheme_unref (builder->scheme);
  g_free (builder);
}

gboolean
referral_scheme_builder_set_decimals (ReferralSchemeBuilder *builder, guint decimals,
                                      GError **error)
{
  g_return_val_if_fail (builder != NULL, FALSE);
  if (decimals > REFERRAL_MAX_DECIMALS)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "decimals %u is more than %u", decimals, REFERRAL_MAX_DECIMALS);
      return FALSE;
    }
  builder->scheme->decimals = decimals;
  return TRUE;
}

static gboolean
valid_word (const char *w)
{
  if (*w == '\0')
    return FALSE;
  for (const char *p = w; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

gboolean
referral_scheme_builder_set_ranks (ReferralSchemeBuilder *builder,
                                   const char *const *ranks, GError **error)
{
  g_return_val_if_fail (builder != NULL && ranks != NULL, FALSE);
  ReferralScheme *s = builder->scheme;
  if (s->rules->len > 0)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "ranks must be set before rules are added");
      return FALSE;
    }
  guint n = g_strv_length ((char **) ranks);
  if (n == 0 || n > REFERRAL_MAX_RANKS)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "a scheme needs 1 to %d ranks, not %u", REFERRAL_MAX_RANKS, n);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      if (!valid_word (ranks[i]))
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                       "rank name \"%s\" is not a word of letters, digits, _ and -", ranks[i]);
          return FALSE;
        }
      for (guint j = 0; j < i; j++)
        if (strcmp (ranks[i], ranks[j]) == 0)
          {
            g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                         "rank \"%s\" is listed twice", ranks[i]);
            return FALSE;
          }
    }
  g_strfreev (s->ranks);
  s->ranks = g_strdupv ((char **) ranks);
  s->n_ranks = n;
  return TRUE;
}

static gboolean
add_rule (ReferralSchemeBuilder *builder, const char *type_name, const char *name,
          const char *const *params, char **bad_key, GError **error)
{
  ReferralScheme *s = builder->scheme;
  const ReferralRuleType *type = referral_rule_type_lookup (type_name);
  if (type == NULL)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_UNKNOWN_RULE_TYPE,
                   "rule \"%s\": unknown rule type \"%s\"", name, type_name);
      return FALSE;
    }
  if (!valid_word (name))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "rule name \"%s\" is not a word of letters, digits, _ and -", name);
      return FALSE;
    }
  if (s->rules->len >= 255)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "a scheme has at most 255 rules");
      return FALSE;
    }
  for (guint i = 0; i < s->rules->len; i++)
    if (strcmp (((ReferralRuleInstance *) s->rules->pdata[i])->name, name) == 0)
      {
        g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                     "rule \"%s\" is defined twice", name);
        return FALSE;
      }
  g_autofree char *where = g_strdup_printf ("rule \"%s\"", name);
  ReferralParams *p = referral_params_parse (type, params, s->decimals, s->ranks,
                                             s->n_ranks, where, bad_key, error);
  if (p == NULL)
    return FALSE;

  /* Remember what the scheme had, so that a failing init leaves no trace. */
  guint n_kinds = s->kinds->len, n_pools = s->pools->len, n_fields = s->fields->len,
        n_lists = s->lists->len, n_commands = s->commands->len;
  ReferralSetup setup = { s, s->rules->len, NULL };
  gpointer config = NULL;
  GError *local = NULL;
  if (!type->init (&setup, p, &config, &local))
    {
      if (setup.posting_kinds)
        g_array_free (setup.posting_kinds, TRUE);
      if (config && type->free_config)
        type->free_config (config);
      g_ptr_array_set_size (s->kinds, n_kinds);
      g_ptr_array_set_size (s->pools, n_pools);
      g_array_set_size (s->fields, n_fields);
      g_array_set_size (s->lists, n_lists);
      g_array_set_size (s->commands, n_commands);
      referral_params_free (p);
      if (local == NULL)
        g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                     "%s: rule type %s refused its configuration", where, type->name);
      else
        {
          /* An init error that begins 'parameter "KEY"' is about a key the
           * scheme gave: name it, so that a file's error points at its line
           * (referral-plugin.h documents the convention). */
          if (bad_key != NULL && *bad_key == NULL && g_str_has_prefix (local->message, "parameter \""))
            {
              const char *k = local->message + strlen ("parameter \"");
              const char *end = strchr (k, '"');
              for (guint i = 0; end != NULL && params != NULL && params[i] != NULL; i += 2)
                if (strlen (params[i]) == (gsize) (end - k) && strncmp (params[i], k, end - k) == 0)
                  {
                    *bad_key = g_strdup (params[i]);
                    break;
                  }
            }
          g_propagate_prefixed_error (error, local, "%s: ", where);
        }
      return FALSE;
    }
  ReferralRuleInstance *ri = g_new0 (ReferralRuleInstance, 1);
  ri->name = g_strdup (name);
  ri->type = type;
  ri->params = p;
  ri->config = config;
  ri->posting_kinds = setup.posting_kinds;
  g_ptr_array_add (s->rules, ri);
  return TRUE;
}

gboolean
referral_scheme_builder_add_rule (ReferralSchemeBuilder *builder, const char *type,
                                  const char *name, const char *const *params,
                                  GError **error)
{
  g_return_val_if_fail (builder != NULL && type != NULL && name != NULL, FALSE);
  return add_rule (builder, type, name, params, NULL, error);
}

static void
fnv (guint64 *h, const char *s)
{
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    *h = (*h ^ *p) * 1099511628211ull;
  *h = (*h ^ 0xff) * 1099511628211ull; /* terminator, so "ab","c" != "a","bc" */
}

static guint64
compute_identity (const ReferralScheme *s)
{
  guint64 h = 14695981039346656037ull;
  char num[32];
  fnv (&h, "referral-scheme-1");
  fnv (&h, s->name);
  g_snprintf (num, sizeof num, "%u", s->decimals);
  fnv (&h, num);
  for (guint r = 0; r < s->n_ranks; r++)
    fnv (&h, s->ranks[r]);
  for (guint i = 0; i < s->rules->len; i++)
    {
      const ReferralRuleInstance *ri = s->rules->pdata[i];
      fnv (&h, "rule");
      fnv (&h, ri->name);
      fnv (&h, ri->type->name);
      for (guint k = 0; k < ri->params->n; k++)
        {
          const ReferralParamValue *v = &ri->params->values[k];
          fnv (&h, v->spec->name);
          /* the value as parsed, so that "5%" and "0.05", or "a,b" and
           * "a, b", give the same identity */
          g_autofree char *canon = NULL;
          switch (v->spec->type)
            {
            case REFERRAL_PARAM_MONEY: canon = referral_money_format (v->i, s->decimals); break;
            case REFERRAL_PARAM_RATE: canon = referral_rate_format (v->rate); break;
            case REFERRAL_PARAM_LIST: canon = g_strjoinv ("\x1f", v->list); break;
            case REFERRAL_PARAM_INT:
            case REFERRAL_PARAM_RANK:
            case REFERRAL_PARAM_BOOL: canon = g_strdup_printf ("%" G_GINT64_FORMAT, v->i); break;
            case REFERRAL_PARAM_STRING:
            default: canon = g_strdup (v->text); break;
            }
          fnv (&h, canon);
        }
    }
  return h;
}

ReferralScheme *
referral_scheme_builder_finish (ReferralSchemeBuilder *builder, GError **error)
{
  g_return_val_if_fail (builder != NULL, NULL);
  ReferralScheme *s = builder->scheme;
  builder->scheme = NULL;
  referral_scheme_builder_free (builder);
  if (s->kinds->len > G_MAXUINT16)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "scheme \"%s\" declares more than %u posting kinds", s->name, G_MAXUINT16);
      referral_scheme_unref (s);
      return NULL;
    }
  s->identity = compute_identity (s);
  return s;
}

/* Loading from key files. */

/* The line of "[group]" (key NULL) or of "key =" inside it, or 0. */
static guint
find_line (const char *text, const char *group, const char *key)
{
  guint line = 0, group_line = 0;
  gboolean in_group = FALSE;
  gsize glen = strlen (group), klen = key ? strlen (key) : 0;
  for (const char *p = text; *p;)
    {
      line++;
      const char *end = strchr (p, '\n');
      gsize len = end ? (gsize) (end - p) : strlen (p);
      const char *q = p;
      while (q < p + len && (*q == ' ' || *q == '\t'))
        q++;
      if (*q == '[')
        {
          in_group = (gsize) (p + len - q) >= glen + 2 && strncmp (q + 1, group, glen) == 0
                     && q[glen + 1] == ']';
          if (in_group)
            {
              group_line = line;
              if (key == NULL)
                return line;
            }
        }
      else if (in_group && key && strncmp (q, key, klen) == 0)
        {
          const char *r = q + klen;
          while (*r == ' ' || *r == '\t')
            r++;
          if (*r == '=')
            return line;
        }
      if (!end)
        break;
      p = end + 1;
    }
  return key ? group_line : 0;
}

static gboolean
scheme_error (GError **error, ReferralErrorCode code, const char *source,
              const char *text, const char *group, const char *key, const char *message)
{
  guint line = group ? find_line (text, group, key) : 0;
  GString *where = g_string_new (source);
  if (line)
    g_string_append_printf (where, ":%u", line);
  if (group)
    g_string_append_printf (where, ": [%s]", group);
  if (key)
    g_string_append_printf (where, " key \"%s\"", key);
  g_set_error (error, REFERRAL_ERROR, code, "%s: %s", where->str, message);
  g_string_free (where, TRUE);
  return FALSE;
}

static const char *const scheme_keys[] = { "name", "decimals", "ranks", "plugins", NULL };

static gboolean
load_scheme_group (GKeyFile *kf, ReferralSchemeBuilder *b, const char *source,
                   const char *text, GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (kf, "scheme", NULL, NULL);
  for (char **k = keys; k && *k; k++)
    if (!g_strv_contains (scheme_keys, *k))
      return scheme_error (error, REFERRAL_ERROR_SCHEME, source, text, "scheme", *k,
                           "unknown key (expected name, decimals, ranks or plugins)");
  g_autofree char *name = g_key_file_get_string (kf, "scheme", "name", NULL);
  if (name == NULL || *name == '\0')
    return scheme_error (error, REFERRAL_ERROR_SCHEME, source, text, "scheme", NULL,
                         "the scheme has no name (key \"name\")");
  g_free (b->scheme->name);
  b->scheme->name = g_strdup (name);
  if (g_key_file_has_key (kf, "scheme", "decimals", NULL))
    {
      g_autofree char *d = g_key_file_get_string (kf, "scheme", "decimals", NULL);
      guint64 dec;
      GError *local = NULL;
      if (!d || !g_ascii_string_to_unsigned (d, 10, 0, REFERRAL_MAX_DECIMALS, &dec, NULL)
          || !referral_scheme_builder_set_decimals (b, (guint) dec, &local))
        {
          g_clear_error (&local);
          g_autofree char *msg = g_strdup_printf ("\"%s\" is not a whole number from 0 to %d",
                                                  d ? d : "", REFERRAL_MAX_DECIMALS);
          return scheme_error (error, REFERRAL_ERROR_SCHEME, source, text, "scheme",
                               "decimals", msg);
        }
    }
  if (g_key_file_has_key (kf, "scheme", "ranks", NULL))
    {
      g_autofree char *r = g_key_file_get_string (kf, "scheme", "ranks", NULL);
      g_auto (GStrv) parts = g_strsplit (r ? r : "", ",", -1);
      for (char **p = parts; *p; p++)
        g_strstrip (*p);
      GError *local = NULL;
      if (!referral_scheme_builder_set_ranks (b, (const char *const *) parts, &local))
        {
          scheme_error (error, REFERRAL_ERROR_SCHEME, source, text, "scheme", "ranks",
                        local->message);
          g_error_free (local);
          return FALSE;
        }
    }
  /* plugins: rule plugins to load before the rules are added (plugin.c). */
  if (g_key_file_has_key (kf, "scheme", "plugins", NULL))
    {
      g_autofree char *p = g_key_file_get_string (kf, "scheme", "plugins", NULL);
      g_auto (GStrv) parts = g_strsplit (p ? p : "", ",", -1);
      g_autofree char *base_dir = g_path_get_dirname (source);
      for (char **w = parts; *w; w++)
        {
          g_strstrip (*w);
          if (**w == '\0')
            continue;
          GError *local = NULL;
          if (!referral_plugin_load_from (*w, base_dir, &local))
            {
              scheme_error (error, local->code, source, text, "scheme", "plugins",
                            local->message);
              g_error_free (local);
              return FALSE;
            }
        }
    }
  return TRUE;
}

static gboolean
load_rule_group (GKeyFile *kf, ReferralSchemeBuilder *b, const char *group,
                 const char *source, const char *text, GError **error)
{
  const char *name = group + strlen ("rule ");
  g_autofree char *type = g_key_file_get_string (kf, group, "type", NULL);
  if (type == NULL || *type == '\0')
    return scheme_error (error, REFERRAL_ERROR_SCHEME, source, text, group, NULL,
                         "the rule has no type (key \"type\")");
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);
  GPtrArray *kv = g_ptr_array_new_with_free_func (g_free);
  for (char **k = keys; k && *k; k++)
    {
      if (strcmp (*k, "type") == 0)
        continue;
      GError *local = NULL;
      char *v = g_key_file_get_string (kf, group, *k, &local);
      if (v == NULL)
        {
          scheme_error (error, REFERRAL_ERROR_SCHEME, source, text, group, *k, local->message);
          g_error_free (local);
          g_ptr_array_free (kv, TRUE);
          return FALSE;
        }
      g_ptr_array_add (kv, g_strdup (*k));
      g_ptr_array_add (kv, v);
    }
  g_ptr_array_add (kv, NULL);
  char *bad_key = NULL;
  GError *local = NULL;
  gboolean ok = add_rule (b, type, name, (const char *const *) kv->pdata, &bad_key, &local);
  g_ptr_array_free (kv, TRUE);
  if (!ok)
    {
      scheme_error (error, local->code, source, text, group,
                    local->code == REFERRAL_ERROR_UNKNOWN_RULE_TYPE ? "type" : bad_key,
                    local->message);
      g_error_free (local);
      g_free (bad_key);
      return FALSE;
    }
  return TRUE;
}

/* GKeyFile merges groups of the same name; a scheme must not, since a
 * second [rule NAME] would silently change the first rule.  Returns FALSE
 * with the line of the first repeated group. */
static gboolean
check_unique_groups (const char *text, const char *source, GError **error)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint line = 0;
  for (const char *p = text; *p;)
    {
      line++;
      const char *end = strchr (p, '\n');
      gsize len = end ? (gsize) (end - p) : strlen (p);
      const char *q = p;
      while (q < p + len && (*q == ' ' || *q == '\t'))
        q++;
      const char *close = q < p + len && *q == '[' ? memchr (q, ']', (gsize) (p + len - q)) : NULL;
      if (close)
        {
          char *group = g_strndup (q + 1, (gsize) (close - q - 1));
          if (g_hash_table_contains (seen, group))
            {
              g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                           "%s:%u: [%s]: the group appears twice", source, line, group);
              g_free (group);
              return FALSE;
            }
          g_hash_table_add (seen, group);
        }
      if (!end)
        break;
      p = end + 1;
    }
  return TRUE;
}

ReferralScheme *
referral_scheme_load_data (const char *data, gssize length, const char *source,
                           GError **error)
{
  g_return_val_if_fail (data != NULL, NULL);
  if (source == NULL)
    source = "<scheme>";
  g_autofree char *text = length < 0 ? g_strdup (data) : g_strndup (data, (gsize) length);
  if (!check_unique_groups (text, source, error))
    return NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  GError *local = NULL;
  if (!g_key_file_load_from_data (kf, text, (gsize) -1, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME, "%s: %s", source,
                   local->message);
      g_error_free (local);
      return NULL;
    }
  if (!g_key_file_has_group (kf, "scheme"))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "%s: no [scheme] group", source);
      return NULL;
    }
  ReferralSchemeBuilder *b = referral_scheme_builder_new ("");
  if (!load_scheme_group (kf, b, source, text, error))
    {
      referral_scheme_builder_free (b);
      return NULL;
    }
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
  for (char **g = groups; *g; g++)
    {
      if (strcmp (*g, "scheme") == 0)
        continue;
      if (!g_str_has_prefix (*g, "rule ") || (*g)[5] == '\0')
        {
          scheme_error (error, REFERRAL_ERROR_SCHEME, source, text, *g, NULL,
                        "unknown group (expected [scheme] or [rule NAME])");
          referral_scheme_builder_free (b);
          return NULL;
        }
      if (!load_rule_group (kf, b, *g, source, text, error))
        {
          referral_scheme_builder_free (b);
          return NULL;
        }
    }
  return referral_scheme_builder_finish (b, error);
}

ReferralScheme *
referral_scheme_load_file (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *text = NULL;
  gsize len = 0;
  GError *local = NULL;
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO, "%s", local->message);
      g_error_free (local);
      return NULL;
    }
  if (memchr (text, '\0', len) != NULL || !g_utf8_validate (text, (gssize) len, NULL))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "%s: not a UTF-8 text file", path);
      return NULL;
    }
  return referral_scheme_load_data (text, (gssize) len, path, error);
}

const char *const *
referral_scheme_builtin_names (void)
{
  static const char *names[64];
  static gsize init = 0;
  if (g_once_init_enter (&init))
    {
      guint n = 0;
      for (const ReferralBuiltinScheme *b = referral_builtin_schemes; b->name && n < 63; b++)
        names[n++] = b->name;
      names[n] = NULL;
      g_once_init_leave (&init, 1);
    }
  return names;
}

const char *
referral_scheme_builtin_text (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);
  for (const ReferralBuiltinScheme *b = referral_builtin_schemes; b->name; b++)
    if (strcmp (b->name, name) == 0)
      return b->text;
  return NULL;
}

ReferralScheme *
referral_scheme_new_builtin (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);
  const char *text = referral_scheme_builtin_text (name);
  if (text == NULL)
    {
      g_autofree char *list = g_strjoinv (", ", (char **) referral_scheme_builtin_names ());
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "no built-in scheme is called \"%s\" (there are: %s)", name, list);
      return NULL;
    }
  g_autofree char *source = g_strdup_printf ("<built-in scheme %s>", name);
  return referral_scheme_load_data (text, -1, source, error);
}

ReferralScheme *
referral_scheme_open (const char *name_or_path, GError **error)
{
  g_return_val_if_fail (name_or_path != NULL, NULL);
  if (referral_scheme_builtin_text (name_or_path) != NULL)
    return referral_scheme_new_builtin (name_or_path, error);
  return referral_scheme_load_file (name_or_path, error);
}

ReferralScheme *
referral_scheme_ref (ReferralScheme *scheme)
{
  g_return_val_if_fail (scheme != NULL, NULL);
  g_atomic_int_inc (&scheme->ref_count);
  return scheme;
}

void
referral_scheme_unref (ReferralScheme *scheme)
{
  if (scheme == NULL || !g_atomic_int_dec_and_test (&scheme->ref_count))
    return;
  /* Rules first: their configs may refer to nothing else, but free them
   * while the rest of the scheme still exists. */
  g_ptr_array_free (scheme->rules, TRUE);
  g_ptr_array_free (scheme->kinds, TRUE);
  g_ptr_array_free (scheme->pools, TRUE);
  g_array_free (scheme->fields, TRUE);
  g_array_free (scheme->lists, TRUE);
  g_array_free (scheme->commands, TRUE);
  g_strfreev (scheme->ranks);
  g_free (scheme->name);
  g_free (scheme);
}

const char *
referral_scheme_name (const ReferralScheme *scheme)
{
  g_return_val_if_fail (scheme != NULL, NULL);
  return scheme->name;
}

guint
referral_scheme_decimals (const ReferralScheme *scheme)
{
  g_return_val_if_fail (scheme != NULL, 0);
  return scheme->decimals;
}

guint
referral_scheme_n_ranks (const ReferralScheme *scheme)
{
  g_return_val_if_fail (scheme != NULL, 0);
  return scheme->n_ranks;
}

const char *
referral_scheme_rank_name (const ReferralScheme *scheme, ReferralRank rank)
{
  g_return_val_if_fail (scheme != NULL, NULL);
  return rank < scheme->n_ranks ? scheme->ranks[rank] : NULL;
}

gboolean
referral_scheme_lookup_rank (const ReferralScheme *scheme, const char *name,
                             ReferralRank *rank)
{
  g_return_val_if_fail (scheme != NULL && name != NULL, FALSE);
  for (guint r = 0; r < scheme->n_ranks; r++)
    if (strcmp (scheme->ranks[r], name) == 0)
      {
        if (rank)
          *rank = (ReferralRank) r;
        return TRUE;
      }
  return FALSE;
}

guint
referral_scheme_n_rules (const ReferralScheme *scheme)
{
  g_return_val_if_fail (scheme != NULL, 0);
  return scheme->rules->len;
}

const char *
referral_scheme_rule_name (const ReferralScheme *scheme, guint index)
{
  g_return_val_if_fail (scheme != NULL && index < scheme->rules->len, NULL);
  return ((ReferralRuleInstance *) scheme->rules->pdata[index])->name;
}

const char *
referral_scheme_rule_type (const ReferralScheme *scheme, guint index)
{
  g_return_val_if_fail (scheme != NULL && index < scheme->rules->len, NULL);
  return ((ReferralRuleInstance *) scheme->rules->pdata[index])->type->name;
}

guint
referral_scheme_rule_n_params (const ReferralScheme *scheme, guint rule)
{
  g_return_val_if_fail (scheme != NULL, 0);
  if (rule >= scheme->rules->len)
    return 0;
  return ((ReferralRuleInstance *) scheme->rules->pdata[rule])->params->n;
}

gboolean
referral_scheme_rule_param (const ReferralScheme *scheme, guint rule, guint index,
                            const char **name, const char **value, gboolean *is_set)
{
  g_return_val_if_fail (scheme != NULL, FALSE);
  if (rule >= scheme->rules->len)
    return FALSE;
  const ReferralParams *params = ((ReferralRuleInstance *) scheme->rules->pdata[rule])->params;
  if (index >= params->n)
    return FALSE;
  const ReferralParamValue *v = &params->values[index];
  if (name != NULL)
    *name = v->spec->name;
  if (value != NULL)
    *value = v->text;
  if (is_set != NULL)
    *is_set = v->is_set;
  return TRUE;
}

guint64
referral_scheme_identity (const ReferralScheme *scheme)
{
  g_return_val_if_fail (scheme != NULL, 0);
  return scheme->identity;
}

/* Setup: what rules declare from init. */

ReferralKind
referral_setup_kind (ReferralSetup *setup, const char *name)
{
  g_return_val_if_fail (setup != NULL && name != NULL, 0);
  GPtrArray *kinds = setup->scheme->kinds;
  for (guint i = 0; i < kinds->len; i++)
    if (strcmp (kinds->pdata[i], name) == 0)
      return (ReferralKind) i;
  g_ptr_array_add (kinds, g_strdup (name));
  return (ReferralKind) (kinds->len - 1);
}

gboolean
referral_setup_posting_kind (ReferralSetup *setup, ReferralKind kind, GError **error)
{
  g_return_val_if_fail (setup != NULL, FALSE);
  if (kind >= setup->scheme->kinds->len)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "posting kind %u is not a kind of scheme %s", kind, setup->scheme->name);
      return FALSE;
    }
  if (setup->posting_kinds == NULL)
    setup->posting_kinds = g_array_new (FALSE, FALSE, sizeof (ReferralKind));
  for (guint i = 0; i < setup->posting_kinds->len; i++)
    if (g_array_index (setup->posting_kinds, ReferralKind, i) == kind)
      return TRUE;
  g_array_append_val (setup->posting_kinds, kind);
  return TRUE;
}

ReferralAccount
referral_setup_pool (ReferralSetup *setup, const char *name)
{
  g_return_val_if_fail (setup != NULL && name != NULL, REFERRAL_NO_ACCOUNT);
  GPtrArray *pools = setup->scheme->pools;
  for (guint i = 0; i < pools->len; i++)
    if (strcmp (pools->pdata[i], name) == 0)
      return 2 + i;
  g_ptr_array_add (pools, g_strdup (name));
  return 2 + (pools->len - 1);
}

static gint
declare_data (GArray *decls, const char *what, const char *name, guint n_words,
              GError **error)
{
  if (n_words == 0 || n_words > 64)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "%s \"%s\": %u words is not between 1 and 64", what, name, n_words);
      return -1;
    }
  for (guint i = 0; i < decls->len; i++)
    {
      ReferralDataDecl *d = &g_array_index (decls, ReferralDataDecl, i);
      if (strcmp (d->name, name) == 0)
        {
          if (d->n_words != n_words)
            {
              g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                           "%s \"%s\" is declared with %u words and with %u",
                           what, name, d->n_words, n_words);
              return -1;
            }
          return (gint) i;
        }
    }
  ReferralDataDecl d = { g_strdup (name), n_words };
  g_array_append_val (decls, d);
  return (gint) decls->len - 1;
}

gint
referral_setup_field (ReferralSetup *setup, const char *name, guint n_words, GError **error)
{
  g_return_val_if_fail (setup != NULL && name != NULL, -1);
  return declare_data (setup->scheme->fields, "field", name, n_words, error);
}

gint
referral_setup_list (ReferralSetup *setup, const char *name, guint n_words, GError **error)
{
  g_return_val_if_fail (setup != NULL && name != NULL, -1);
  return declare_data (setup->scheme->lists, "list", name, n_words, error);
}

gboolean
referral_setup_command (ReferralSetup *setup, const char *name, GError **error)
{
  g_return_val_if_fail (setup != NULL && name != NULL, FALSE);
  GArray *cmds = setup->scheme->commands;
  static const char *const reserved[] = { "join", "order", "refund", "period_close",
                                          "withdraw", "promote", NULL };
  if (g_strv_contains (reserved, name))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "command \"%s\" is a built-in event type", name);
      return FALSE;
    }
  for (guint i = 0; i < cmds->len; i++)
    if (strcmp (g_array_index (cmds, ReferralCommandDecl, i).name, name) == 0)
      {
        g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                     "command \"%s\" is handled by another rule already", name);
        return FALSE;
      }
  ReferralCommandDecl c = { g_strdup (name), setup->rule_index };
  g_array_append_val (cmds, c);
  return TRUE;
}

guint
referral_setup_decimals (const ReferralSetup *setup)
{
  g_return_val_if_fail (setup != NULL, 0);
  return setup->scheme->decimals;
}

guint
referral_setup_n_ranks (const ReferralSetup *setup)
{
  g_return_val_if_fail (setup != NULL, 0);
  return setup->scheme->n_ranks;
}

gboolean
referral_setup_lookup_rank (const ReferralSetup *setup, const char *name, ReferralRank *rank)
{
  g_return_val_if_fail (setup != NULL, FALSE);
  return referral_scheme_lookup_rank (setup->scheme, name, rank);
}
