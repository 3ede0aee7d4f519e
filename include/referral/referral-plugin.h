/* libreferral: the extension API, for authors of rule plugins.
 *
 * A plugin is a shared object that adds rule types to the process-wide
 * registry.  It includes this header (which brings in rule.h, the rule
 * vtable and the context API) and defines its entry point with
 * REFERRAL_PLUGIN_DEFINE:
 *
 *   #include <referral/referral-plugin.h>
 *
 *   static const ReferralRuleType my_rule = {
 *     .abi_version = REFERRAL_RULE_ABI_VERSION,
 *     .name = "my_rule", .init = my_init, .on_order = my_on_order,
 *   };
 *
 *   static gboolean
 *   my_register (GError **error)
 *   {
 *     return referral_rule_type_register (&my_rule, error);
 *   }
 *
 *   REFERRAL_PLUGIN_DEFINE (my_register)
 *
 * and is built with `cc -shared -fPIC $(pkg-config --cflags --libs referral)`.
 * A scheme file names the plugins it needs in its [scheme] group:
 *
 *   [scheme]
 *   name = mine
 *   plugins = my-plugin, ./build/other.so
 *
 * A word without '/' is searched for in the directories of the environment
 * variable REFERRAL_PLUGIN_PATH (separated by ':'), as NAME, NAME.so and
 * libNAME.so; a word with '/' is a path, relative to the scheme file's
 * directory when the file is there, else to the current directory.
 *
 * Trust: a plugin is native code in the host process, with full trust.  Only
 * rules written in Lua (type "lua", see docs/plugins.md) are sandboxed.
 *
 * ABI: the plugin records the rule ABI it was compiled for
 * (REFERRAL_RULE_ABI_VERSION, from rule.h); a library older than that
 * refuses to load it with REFERRAL_ERROR_ABI.  Newer libraries accept older
 * plugins: the rule vtable is only ever appended to. */
#ifndef REFERRAL_PLUGIN_H
#define REFERRAL_PLUGIN_H

#include <glib.h>
#include <referral/referral.h>

G_BEGIN_DECLS

/* Marks a plugin's entry points as exported even when the plugin is built
 * with hidden visibility. */
#if defined(__GNUC__)
#define REFERRAL_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define REFERRAL_PLUGIN_EXPORT
#endif

/* The names of the two symbols a plugin exports. */
#define REFERRAL_PLUGIN_ABI_SYMBOL "referral_plugin_abi_version"
#define REFERRAL_PLUGIN_REGISTER_SYMBOL "referral_plugin_register"

/* The signature of a plugin's registration function: it registers its rule
 * types with referral_rule_type_register() and returns FALSE with an error
 * to refuse to load.  Called once per process, under the loader's lock. */
typedef gboolean (*ReferralPluginRegisterFunc) (GError **error);

/* REFERRAL_PLUGIN_DEFINE:
 * Defines the exported entry points of a plugin whose registration function
 * is @register_func (a ReferralPluginRegisterFunc). */
#define REFERRAL_PLUGIN_DEFINE(register_func)                                 \
  REFERRAL_PLUGIN_EXPORT const guint32 referral_plugin_abi_version =                 \
      REFERRAL_RULE_ABI_VERSION;                                              \
  REFERRAL_PLUGIN_EXPORT gboolean referral_plugin_register (GError **error);         \
  REFERRAL_PLUGIN_EXPORT gboolean referral_plugin_register (GError **error)          \
  {                                                                           \
    return (register_func) (error);                                           \
  }

/* referral_plugin_find:
 * Resolves @name_or_path as a scheme's `plugins` key does (see above);
 * @base_dir (may be NULL) is the directory relative paths are tried in
 * first.
 * Returns: (transfer full): the path of an existing file, or NULL with
 * REFERRAL_ERROR_IO naming every place that was tried. */
REFERRAL_API char *referral_plugin_find (const char *name_or_path,
                                         const char *base_dir,
                                         GError **error);

/* referral_plugin_load:
 * Finds (with referral_plugin_find() and no base directory) and loads
 * plugin @name_or_path and calls its registration function.  Loading the
 * same file again does nothing and returns TRUE.  A loaded plugin is never
 * unloaded (its rule types stay registered for the life of the process).
 * Thread-safe.
 * Returns: FALSE with REFERRAL_ERROR_IO (not found, or not a loadable
 * shared object), REFERRAL_ERROR_ABI (no ABI symbol, or built for a newer
 * rule ABI than this library's REFERRAL_RULE_ABI_VERSION),
 * REFERRAL_ERROR_SCHEME (no registration function) or whatever error the
 * registration function returned. */
REFERRAL_API gboolean referral_plugin_load (const char *name_or_path,
                                            GError **error);

/* referral_plugin_load_from:
 * As referral_plugin_load(), trying relative paths in @base_dir (may be
 * NULL) first.  Scheme files use it with their own directory. */
REFERRAL_API gboolean referral_plugin_load_from (const char *name_or_path,
                                                 const char *base_dir,
                                                 GError **error);

G_END_DECLS

#endif
