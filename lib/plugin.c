/* libreferral: loading rule plugins (shared objects) with GModule.
 *
 * See include/referral/referral-plugin.h for the contract.  Loaded plugins
 * are made resident: the rule types they register are referenced by
 * schemes for the rest of the process, so unloading them is never safe. */
#include <string.h>

#include <gmodule.h>

#include "referral/referral-plugin.h"

static GMutex plugin_lock;
static GHashTable *loaded_plugins; /* canonical path -> TRUE */

static char *
try_candidates (const char *dir, const char *name, GString *tried)
{
  /* NAME as given, then with the platform suffix, then libNAME.suffix. */
  const char *forms[3];
  g_autofree char *with_suffix = g_strconcat (name, "." G_MODULE_SUFFIX, NULL);
  g_autofree char *with_lib = g_strconcat ("lib", name, "." G_MODULE_SUFFIX, NULL);
  forms[0] = name;
  forms[1] = g_str_has_suffix (name, "." G_MODULE_SUFFIX) ? NULL : with_suffix;
  forms[2] = forms[1] ? with_lib : NULL;
  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      if (forms[i] == NULL)
        continue;
      char *path = dir ? g_build_filename (dir, forms[i], NULL) : g_strdup (forms[i]);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return path;
      g_string_append_printf (tried, "%s%s", tried->len ? ", " : "", path);
      g_free (path);
    }
  return NULL;
}

char *
referral_plugin_find (const char *name_or_path, const char *base_dir,
                      GError **error)
{
  g_return_val_if_fail (name_or_path != NULL, NULL);
  if (*name_or_path == '\0')
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                   "plugin name is empty");
      return NULL;
    }
  g_autoptr (GString) tried = g_string_new (NULL);
  char *found = NULL;
  if (strchr (name_or_path, '/') != NULL)
    {
      if (g_path_is_absolute (name_or_path))
        found = try_candidates (NULL, name_or_path, tried);
      else
        {
          if (base_dir != NULL)
            found = try_candidates (base_dir, name_or_path, tried);
          if (found == NULL)
            found = try_candidates (NULL, name_or_path, tried);
        }
    }
  else
    {
      const char *env = g_getenv ("REFERRAL_PLUGIN_PATH");
      if (env != NULL && *env != '\0')
        {
          g_auto (GStrv) dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
          for (char **d = dirs; *d && found == NULL; d++)
            if (**d != '\0')
              found = try_candidates (*d, name_or_path, tried);
        }
    }
  if (found == NULL)
    {
      if (tried->len == 0)
        g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                     "plugin \"%s\" not found: REFERRAL_PLUGIN_PATH is not set",
                     name_or_path);
      else
        g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                     "plugin \"%s\" not found (tried %s)", name_or_path, tried->str);
      return NULL;
    }
  /* Canonical, so that one file loaded under two spellings registers once. */
  char *canonical = g_canonicalize_filename (found, NULL);
  g_free (found);
  return canonical;
}

static gboolean
load_locked (const char *path, GError **error)
{
  if (loaded_plugins == NULL)
    loaded_plugins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (g_hash_table_contains (loaded_plugins, path))
    return TRUE;
  GModule *module = g_module_open (path, G_MODULE_BIND_LOCAL);
  if (module == NULL)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                   "plugin %s: cannot load: %s", path, g_module_error ());
      return FALSE;
    }
  gpointer abi_symbol = NULL;
  gpointer register_symbol = NULL;
  if (!g_module_symbol (module, REFERRAL_PLUGIN_ABI_SYMBOL, &abi_symbol) || abi_symbol == NULL)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_ABI,
                   "plugin %s: no symbol " REFERRAL_PLUGIN_ABI_SYMBOL
                   " (not a libreferral plugin; define it with REFERRAL_PLUGIN_DEFINE)",
                   path);
      g_module_close (module);
      return FALSE;
    }
  guint32 abi = *(const guint32 *) abi_symbol;
  if (abi == 0 || abi > REFERRAL_RULE_ABI_VERSION)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_ABI,
                   "plugin %s: built for rule ABI version %u, but this libreferral "
                   "supports versions 1 to %u; rebuild the plugin against this "
                   "library's headers or upgrade libreferral",
                   path, abi, (guint) REFERRAL_RULE_ABI_VERSION);
      g_module_close (module);
      return FALSE;
    }
  if (!g_module_symbol (module, REFERRAL_PLUGIN_REGISTER_SYMBOL, &register_symbol)
      || register_symbol == NULL)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "plugin %s: no function " REFERRAL_PLUGIN_REGISTER_SYMBOL, path);
      g_module_close (module);
      return FALSE;
    }
  /* Resident from here on: the registration function may have registered
   * some types before failing, and those must stay valid. */
  g_module_make_resident (module);
  /* ISO C has no cast from an object pointer to a function pointer;
   * POSIX guarantees they have the same representation. */
  ReferralPluginRegisterFunc reg;
  G_STATIC_ASSERT (sizeof reg == sizeof register_symbol);
  memcpy (&reg, &register_symbol, sizeof reg);
  GError *local = NULL;
  if (!reg (&local))
    {
      if (local == NULL)
        g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                     "plugin %s: registration failed without a reason", path);
      else
        {
          g_set_error (error, local->domain, local->code, "plugin %s: %s", path,
                       local->message);
          g_error_free (local);
        }
      return FALSE;
    }
  g_hash_table_add (loaded_plugins, g_strdup (path));
  return TRUE;
}

gboolean
referral_plugin_load_from (const char *name_or_path, const char *base_dir,
                           GError **error)
{
  g_return_val_if_fail (name_or_path != NULL, FALSE);
  g_autofree char *path = referral_plugin_find (name_or_path, base_dir, error);
  if (path == NULL)
    return FALSE;
  g_mutex_lock (&plugin_lock);
  gboolean ok = load_locked (path, error);
  g_mutex_unlock (&plugin_lock);
  return ok;
}

gboolean
referral_plugin_load (const char *name_or_path, GError **error)
{
  return referral_plugin_load_from (name_or_path, NULL, error);
}
