/* Rule parameters: parsed from text against the rule type's declaration. */
#include <referral/error.h>

#include "scheme-private.h"

#include <string.h>

void
referral_params_free (ReferralParams *params)
{
  if (params == NULL)
    return;
  for (guint i = 0; i < params->n; i++)
    {
      g_free (params->values[i].text);
      g_strfreev (params->values[i].list);
    }
  g_free (params->values);
  g_free (params);
}

static gboolean
parse_value (ReferralParamValue *v, guint decimals, char **ranks, guint n_ranks,
             GError **error)
{
  const char *t = v->text;
  switch (v->spec->type)
    {
    case REFERRAL_PARAM_MONEY:
      return referral_money_parse (t, decimals, FALSE, &v->i, error);
    case REFERRAL_PARAM_RATE:
      return referral_rate_parse (t, &v->rate, error);
    case REFERRAL_PARAM_INT:
      {
        guint64 u;
        if (!g_ascii_string_to_unsigned (t, 10, 0, G_MAXINT32, &u, NULL) || t[0] == '+')
          {
            g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                         "\"%s\" is not a whole number from 0 to %d", t, G_MAXINT32);
            return FALSE;
          }
        v->i = (gint64) u;
        return TRUE;
      }
    case REFERRAL_PARAM_STRING:
      return TRUE;
    case REFERRAL_PARAM_RANK:
      if (*t == '\0')
        {
          v->i = 0; /* empty: the lowest rank */
          return TRUE;
        }
      for (guint r = 0; r < n_ranks; r++)
        if (strcmp (ranks[r], t) == 0)
          {
            v->i = r;
            return TRUE;
          }
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "\"%s\" is not a rank of the scheme", t);
      return FALSE;
    case REFERRAL_PARAM_BOOL:
      if (strcmp (t, "true") == 0 || strcmp (t, "false") == 0)
        {
          v->i = t[0] == 't';
          return TRUE;
        }
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "\"%s\" is not true or false", t);
      return FALSE;
    case REFERRAL_PARAM_LIST:
      {
        char **parts = g_strsplit (t, ",", -1);
        /* Owns its words until it is returned (freeing it on the error path
         * below must free the words already copied: found by fuzz-scheme). */
        GPtrArray *words = g_ptr_array_new_with_free_func (g_free);
        for (char **p = parts; *p; p++)
          {
            char *w = g_strstrip (*p);
            if (*w == '\0' && (p != parts || p[1] != NULL))
              {
                g_ptr_array_free (words, TRUE);
                g_strfreev (parts);
                g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                             "\"%s\" has an empty item", t);
                return FALSE;
              }
            if (*w)
              g_ptr_array_add (words, g_strdup (w));
          }
        g_ptr_array_add (words, NULL);
        v->list = (char **) g_ptr_array_free (words, FALSE);
        g_strfreev (parts);
        return TRUE;
      }
    default:
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "parameter type %d is unknown", v->spec->type);
      return FALSE;
    }
}

ReferralParams *
referral_params_parse (const ReferralRuleType *type, const char *const *kv,
                       guint decimals, char **ranks, guint n_ranks,
                       const char *where, char **bad_key, GError **error)
{
  ReferralParams *params = g_new0 (ReferralParams, 1);
  guint n = 0;
  for (const ReferralParamSpec *s = type->params; s && s->name; s++)
    n++;
  params->n = n;
  params->values = g_new0 (ReferralParamValue, n);
  for (guint i = 0; i < n; i++)
    params->values[i].spec = &type->params[i];

  for (const char *const *p = kv; p && p[0]; p += 2)
    {
      const char *key = p[0], *value = p[1];
      ReferralParamValue *v = NULL;
      for (guint i = 0; i < n; i++)
        if (strcmp (params->values[i].spec->name, key) == 0)
          v = &params->values[i];
      if (value == NULL)
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                       "%s: parameter \"%s\" has no value", where, key);
          goto fail_key;
        }
      if (v == NULL)
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                       "%s: unknown parameter \"%s\" for rule type %s", where, key,
                       type->name);
          goto fail_key;
        }
      if (v->is_set)
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                       "%s: parameter \"%s\" is set twice", where, key);
          goto fail_key;
        }
      v->text = g_strdup (value);
      v->is_set = TRUE;
      continue;
    fail_key:
      if (bad_key)
        *bad_key = g_strdup (key);
      referral_params_free (params);
      return NULL;
    }

  for (guint i = 0; i < n; i++)
    {
      ReferralParamValue *v = &params->values[i];
      if (!v->is_set)
        {
          if (v->spec->default_value == NULL)
            {
              g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                           "%s: required parameter \"%s\" is missing", where,
                           v->spec->name);
              referral_params_free (params);
              return NULL;
            }
          v->text = g_strdup (v->spec->default_value);
        }
      GError *local = NULL;
      if (!parse_value (v, decimals, ranks, n_ranks, &local))
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                       "%s: parameter \"%s\": %s", where, v->spec->name, local->message);
          g_error_free (local);
          if (bad_key && v->is_set)
            *bad_key = g_strdup (v->spec->name);
          referral_params_free (params);
          return NULL;
        }
    }
  return params;
}

static const ReferralParamValue *
find (const ReferralParams *params, const char *name, ReferralParamType type)
{
  g_return_val_if_fail (params != NULL && name != NULL, NULL);
  for (guint i = 0; i < params->n; i++)
    if (strcmp (params->values[i].spec->name, name) == 0)
      {
        g_return_val_if_fail (params->values[i].spec->type == type, NULL);
        return &params->values[i];
      }
  g_critical ("rule parameter \"%s\" is not declared", name);
  return NULL;
}

gint64
referral_params_money (const ReferralParams *params, const char *name)
{
  const ReferralParamValue *v = find (params, name, REFERRAL_PARAM_MONEY);
  return v ? v->i : 0;
}

ReferralRate
referral_params_rate (const ReferralParams *params, const char *name)
{
  const ReferralParamValue *v = find (params, name, REFERRAL_PARAM_RATE);
  return v ? v->rate : (ReferralRate) { 0, 1 };
}

gint64
referral_params_int (const ReferralParams *params, const char *name)
{
  const ReferralParamValue *v = find (params, name, REFERRAL_PARAM_INT);
  return v ? v->i : 0;
}

const char *
referral_params_string (const ReferralParams *params, const char *name)
{
  const ReferralParamValue *v = find (params, name, REFERRAL_PARAM_STRING);
  return v ? v->text : NULL;
}

ReferralRank
referral_params_rank (const ReferralParams *params, const char *name)
{
  const ReferralParamValue *v = find (params, name, REFERRAL_PARAM_RANK);
  return v ? (ReferralRank) v->i : 0;
}

gboolean
referral_params_bool (const ReferralParams *params, const char *name)
{
  const ReferralParamValue *v = find (params, name, REFERRAL_PARAM_BOOL);
  return v ? (gboolean) v->i : FALSE;
}

const char *const *
referral_params_list (const ReferralParams *params, const char *name)
{
  const ReferralParamValue *v = find (params, name, REFERRAL_PARAM_LIST);
  return v ? (const char *const *) v->list : NULL;
}

gboolean
referral_params_is_set (const ReferralParams *params, const char *name)
{
  g_return_val_if_fail (params != NULL && name != NULL, FALSE);
  for (guint i = 0; i < params->n; i++)
    if (strcmp (params->values[i].spec->name, name) == 0)
      return params->values[i].is_set;
  return FALSE;
}
