/* referral-lua-rules: the plugin that gives C programs and the referral
 * tool the "lua" rule type.  A scheme file asks for it with
 *
 *   [scheme]
 *   plugins = referral-lua-rules
 *
 * (with REFERRAL_PLUGIN_PATH naming its directory).  It links liblua5.4;
 * inside the Lua interpreter, `require "referral"` registers the same type
 * using the interpreter's own Lua, and loading this plugin then does
 * nothing. */
#include <referral/referral-plugin.h>

#include "lua-rules.h"

REFERRAL_PLUGIN_DEFINE (referral_lua_rules_register)
