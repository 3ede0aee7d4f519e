/* The process-wide registry of rule types. */
#include <referral/error.h>
#include <referral/rule.h>

#include "rules/rules.h"
#include "scheme-private.h"

#include <stdlib.h>
#include <string.h>

static GMutex registry_lock;
static GHashTable *registry; /* name -> const ReferralRuleType*, under the lock */

static gboolean
valid_name (const char *name)
{
  if (name == NULL || *name == '\0')
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
      return FALSE;
  return TRUE;
}

static gboolean
register_locked (const ReferralRuleType *type, GError **error)
{
  if (type->abi_version == 0 || type->abi_version > REFERRAL_RULE_ABI_VERSION)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_ABI,
                   "rule type \"%s\" was built for rule ABI %u; this library supports 1 to %u",
                   type->name ? type->name : "(unnamed)", type->abi_version,
                   REFERRAL_RULE_ABI_VERSION);
      return FALSE;
    }
  if (!valid_name (type->name))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "rule type name \"%s\" is not made of a-z, 0-9 and _",
                   type->name ? type->name : "(null)");
      return FALSE;
    }
  if (type->init == NULL)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "rule type \"%s\" has no init hook", type->name);
      return FALSE;
    }
  for (const ReferralParamSpec *s = type->params; s && s->name; s++)
    if (!valid_name (s->name) || s->type < REFERRAL_PARAM_MONEY || s->type > REFERRAL_PARAM_LIST
        || strcmp (s->name, "type") == 0)
      {
        g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                     "rule type \"%s\": parameter \"%s\" is malformed", type->name, s->name);
        return FALSE;
      }
  if (g_hash_table_contains (registry, type->name))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "rule type \"%s\" is registered already", type->name);
      return FALSE;
    }
  g_hash_table_insert (registry, (gpointer) type->name, (gpointer) type);
  return TRUE;
}

void
referral_registry_ensure_builtins (void)
{
  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    {
      registry = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint i = 0; referral_builtin_rule_types[i]; i++)
        {
          GError *error = NULL;
          if (!register_locked (referral_builtin_rule_types[i], &error))
            g_error ("built-in rule type: %s", error->message); /* a bug in this library */
        }
    }
  g_mutex_unlock (&registry_lock);
}

gboolean
referral_rule_type_register (const ReferralRuleType *type, GError **error)
{
  g_return_val_if_fail (type != NULL, FALSE);
  referral_registry_ensure_builtins ();
  g_mutex_lock (&registry_lock);
  gboolean ok = register_locked (type, error);
  g_mutex_unlock (&registry_lock);
  return ok;
}

const ReferralRuleType *
referral_rule_type_lookup (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);
  referral_registry_ensure_builtins ();
  g_mutex_lock (&registry_lock);
  const ReferralRuleType *type = g_hash_table_lookup (registry, name);
  g_mutex_unlock (&registry_lock);
  return type;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

const char **
referral_rule_type_names (void)
{
  referral_registry_ensure_builtins ();
  g_mutex_lock (&registry_lock);
  guint n = 0;
  const char **names = (const char **) g_hash_table_get_keys_as_array (registry, &n);
  g_mutex_unlock (&registry_lock);
  qsort (names, n, sizeof (char *), compare_names);
  return names;
}
