/* The "lua" rule type: reward rules written in Lua, run in a sandbox.
 *
 * Compiled into two objects: the plugin referral-lua-rules.so (linked with
 * liblua5.4, for C programs and the referral tool) and the Lua module
 * referral.so (which uses the Lua of the interpreter that loaded it).
 * See docs/plugins.md for what a script may do. */
#ifndef REFERRAL_LUA_RULES_H
#define REFERRAL_LUA_RULES_H

#include <glib.h>

G_BEGIN_DECLS

/* referral_lua_rules_register:
 * Registers rule type "lua" unless a rule type of that name is already
 * registered (by the other object of the two).
 * Returns: FALSE with an error from referral_rule_type_register(). */
gboolean referral_lua_rules_register (GError **error);

G_END_DECLS

#endif
