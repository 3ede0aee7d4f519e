/* Schemes: loading from files and text (every error path names file, line
 * and key), the builder, identity, built-in schemes, referral_scheme_open,
 * and the rule-type registry. */
#include "testutil.h"

#include <string.h>

/* ---- test_params: a rule type with one parameter of every type --------- */

typedef struct {
  gint64 money;
  ReferralRate rate;
  gint64 count;
  char *text;
  char *req;
  ReferralRank rank;
  gboolean flag;
  char **words;
  gboolean money_set, count_set;
  guint decimals, n_ranks;
} ParamsSeen;

/* What the last init saw (init runs while the scheme is built). */
static ParamsSeen seen;

static const ReferralParamSpec test_params_spec[] = {
  { "req", REFERRAL_PARAM_STRING, NULL, "a required parameter" },
  { "money", REFERRAL_PARAM_MONEY, "0", "an amount" },
  { "rate", REFERRAL_PARAM_RATE, "0%", "a rate" },
  { "count", REFERRAL_PARAM_INT, "0", "a count" },
  { "text", REFERRAL_PARAM_STRING, "", "a text" },
  { "rank", REFERRAL_PARAM_RANK, "user", "a rank" },
  { "flag", REFERRAL_PARAM_BOOL, "false", "a flag" },
  { "words", REFERRAL_PARAM_LIST, "", "a list" },
  { NULL, 0, NULL, NULL },
};

static gboolean
test_params_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
                  GError **error)
{
  g_free (seen.text);
  g_free (seen.req);
  g_strfreev (seen.words);
  seen.money = referral_params_money (params, "money");
  seen.rate = referral_params_rate (params, "rate");
  seen.count = referral_params_int (params, "count");
  seen.text = g_strdup (referral_params_string (params, "text"));
  seen.req = g_strdup (referral_params_string (params, "req"));
  seen.rank = referral_params_rank (params, "rank");
  seen.flag = referral_params_bool (params, "flag");
  seen.words = g_strdupv ((char **) referral_params_list (params, "words"));
  seen.money_set = referral_params_is_set (params, "money");
  seen.count_set = referral_params_is_set (params, "count");
  seen.decimals = referral_setup_decimals (setup);
  seen.n_ranks = referral_setup_n_ranks (setup);
  *config = NULL;
  return TRUE;
}

static const ReferralRuleType test_params_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "test_params",
  .description = "test rule: one parameter of every type",
  .params = test_params_spec,
  .init = test_params_init,
};

/* ---- helpers ------------------------------------------------------------ */

/* The message names the source, the line (as "SOURCE:LINE" or "line LINE")
 * and every given word. */
#define assert_where(err, source, line, ...) \
  assert_where_at (__FILE__, __LINE__, (err), (source), (line), __VA_ARGS__, NULL)
static void
assert_where_at (const char *file, int fline, const GError *err, const char *source,
                 guint line, ...)
{
  const char *msg = err->message;
  tu_assert_contains_at (file, fline, msg, source);
  if (line > 0)
    {
      g_autofree char *a = g_strdup_printf ("%s:%u", source, line);
      g_autofree char *b = g_strdup_printf ("line %u", line);
      const char *pa = strstr (msg, a), *pb = strstr (msg, b);
      /* Not a longer number ("...:7" must not match ":71"). */
      gboolean ok = (pa && !g_ascii_isdigit (pa[strlen (a)]))
                    || (pb && !g_ascii_isdigit (pb[strlen (b)]));
      if (!ok)
        _ck_assert_failed (file, fline, "no line", "message '%s' does not give line %u",
                           msg, line);
    }
  va_list ap;
  va_start (ap, line);
  for (const char *w = va_arg (ap, const char *); w; w = va_arg (ap, const char *))
    tu_assert_contains_at (file, fline, msg, w);
  va_end (ap);
}

/* Loads fixture @name, which must fail with @code; returns the error and
 * sets *@path to the file's path (both to free). */
static GError *
load_bad_fixture (const char *name, int code, char **path)
{
  g_autofree char *rel = g_build_filename ("schemes", name, NULL);
  *path = tu_fixture_path (rel);
  GError *err = NULL;
  ReferralScheme *s = referral_scheme_load_file (*path, &err);
  ck_assert_msg (s == NULL, "fixture %s was accepted", name);
  assert_error (err, code, NULL);
  return err;
}

#define bad_fixture(name, code, line, ...) do { \
    char *path_; \
    GError *err_ = load_bad_fixture ((name), (code), &path_); \
    assert_where (err_, path_, (line), __VA_ARGS__); \
    g_free (path_); \
    g_error_free (err_); \
  } while (0)

static const char *const demo_ranks[] = { "user", "member", NULL };

/* ---- loading: errors ------------------------------------------------------ */

START_TEST (test_file_errors)
{
  bad_fixture ("missing-scheme.ini", REFERRAL_ERROR_SCHEME, 0, "scheme");
  bad_fixture ("bad-decimals.ini", REFERRAL_ERROR_SCHEME, 3, "decimals");
  bad_fixture ("empty-ranks.ini", REFERRAL_ERROR_SCHEME, 4, "ranks");
  bad_fixture ("duplicate-ranks.ini", REFERRAL_ERROR_SCHEME, 4, "ranks", "user");
  bad_fixture ("too-many-ranks.ini", REFERRAL_ERROR_SCHEME, 4, "ranks");
  bad_fixture ("unknown-group.ini", REFERRAL_ERROR_SCHEME, 6, "rules direct");
  bad_fixture ("rule-without-type.ini", REFERRAL_ERROR_SCHEME, 6, "direct", "type");
  bad_fixture ("unknown-type.ini", REFERRAL_ERROR_UNKNOWN_RULE_TYPE, 7, "no_such_rule");
  bad_fixture ("unknown-rule-key.ini", REFERRAL_ERROR_SCHEME, 8, "ratez");
  bad_fixture ("unknown-scheme-key.ini", REFERRAL_ERROR_SCHEME, 4, "currency");
  bad_fixture ("bad-int.ini", REFERRAL_ERROR_SCHEME, 8, "levels", "three");
  bad_fixture ("bad-rank.ini", REFERRAL_ERROR_SCHEME, 10, "min_rank", "boss");
  bad_fixture ("bad-bool.ini", REFERRAL_ERROR_SCHEME, 10, "compress", "maybe");
  bad_fixture ("bad-money.ini", REFERRAL_ERROR_SCHEME, 10, "money", "1.234");
  bad_fixture ("bad-rate.ini", REFERRAL_ERROR_SCHEME, 11, "rate", "5%%");
  bad_fixture ("missing-param.ini", REFERRAL_ERROR_SCHEME, 7, "req");
  /* an error of the rule's init that names a parameter: that key's line */
  bad_fixture ("init-refuses-param.ini", REFERRAL_ERROR_SCHEME, 11, "key \"rates\"", "needs 3");
}
END_TEST

/* Two groups [rule direct]: GKeyFile would merge them silently.  In the
 * first fixture the second group sets only keys the first does not. */
static void
check_duplicate_rule (const char *fixture)
{
  char *path;
  GError *err = load_bad_fixture (fixture, REFERRAL_ERROR_SCHEME, &path);
  assert_where (err, path, 0, "direct");
  gboolean line_ok = FALSE;
  for (guint line = 6; line <= 11; line += (line == 6 ? 4 : 1))
    {
      g_autofree char *a = g_strdup_printf ("%s:%u:", path, line);
      g_autofree char *b = g_strdup_printf ("line %u", line);
      line_ok |= strstr (err->message, a) != NULL || strstr (err->message, b) != NULL;
    }
  ck_assert_msg (line_ok, "message '%s' gives no line of a [rule direct] group", err->message);
  g_free (path);
  g_error_free (err);
}

START_TEST (test_duplicate_rule_name)
{
  check_duplicate_rule ("duplicate-rule.ini");
  check_duplicate_rule ("duplicate-rule-keys.ini");
}
END_TEST

START_TEST (test_unreadable)
{
  GError *err = NULL;
  ck_assert_ptr_null (referral_scheme_load_file ("/nonexistent/dir/scheme.ini", &err));
  assert_error (err, REFERRAL_ERROR_IO, NULL);
  g_clear_error (&err);
  ck_assert_ptr_null (referral_scheme_open ("/nonexistent/dir/scheme.ini", &err));
  assert_error (err, REFERRAL_ERROR_IO, NULL);
  g_clear_error (&err);
}
END_TEST

/* load_data: a text that must fail with @code naming "mem.ini", @line and
 * @word. */
#define bad_text(text, code, line, ...) do { \
    GError *err_ = NULL; \
    ReferralScheme *s_ = referral_scheme_load_data ((text), -1, "mem.ini", &err_); \
    ck_assert_msg (s_ == NULL, "text accepted:\n%s", (text)); \
    assert_error (err_, (code), NULL); \
    assert_where (err_, "mem.ini", (line), __VA_ARGS__); \
    g_error_free (err_); \
  } while (0)

#define HEAD "[scheme]\nname = t\ndecimals = 2\nranks = user, member\n"
/* HEAD is lines 1-4; "[rule p]" is line 5, its keys from line 6. */
#define P_RULE HEAD "[rule p]\ntype = test_params\nreq = r\n"

START_TEST (test_text_errors)
{
  bad_text ("this is not a key file\n", REFERRAL_ERROR_SCHEME, 0, "mem.ini");
  bad_text ("", REFERRAL_ERROR_SCHEME, 0, "scheme");
  bad_text ("[scheme]\nname = t\ndecimals = two\nranks = user\n", REFERRAL_ERROR_SCHEME, 3,
            "decimals");
  bad_text ("[scheme]\nname = t\ndecimals = -1\nranks = user\n", REFERRAL_ERROR_SCHEME, 3,
            "decimals");
  bad_text ("[scheme]\nname = t\ndecimals = 2\nranks = user, , agent\n",
            REFERRAL_ERROR_SCHEME, 4, "ranks");
  bad_text ("[scheme]\nname = t\ndecimals = 2\nranks = user\nfoo = bar\n",
            REFERRAL_ERROR_SCHEME, 5, "foo");
  bad_text (HEAD "[other]\nkey = 1\n", REFERRAL_ERROR_SCHEME, 5, "other");
  bad_text (HEAD "[rule]\ntype = direct_award\n", REFERRAL_ERROR_SCHEME, 5, "rule");
  /* Values of every parameter type. */
  bad_text (P_RULE "money = 1.234\n", REFERRAL_ERROR_SCHEME, 8, "money");
  bad_text (P_RULE "money = 1e3\n", REFERRAL_ERROR_SCHEME, 8, "money");
  bad_text (P_RULE "money = abc\n", REFERRAL_ERROR_SCHEME, 8, "money");
  bad_text (P_RULE "rate = -5%\n", REFERRAL_ERROR_SCHEME, 8, "rate");
  bad_text (P_RULE "rate = five\n", REFERRAL_ERROR_SCHEME, 8, "rate");
  bad_text (P_RULE "count = -1\n", REFERRAL_ERROR_SCHEME, 8, "count");
  bad_text (P_RULE "count = 2.5\n", REFERRAL_ERROR_SCHEME, 8, "count");
  bad_text (P_RULE "count = 1x\n", REFERRAL_ERROR_SCHEME, 8, "count");
  bad_text (P_RULE "count = 99999999999999999999999\n", REFERRAL_ERROR_SCHEME, 8, "count");
  bad_text (P_RULE "rank = partner\n", REFERRAL_ERROR_SCHEME, 8, "rank", "partner");
  bad_text (P_RULE "flag = maybe\n", REFERRAL_ERROR_SCHEME, 8, "flag");
  bad_text (P_RULE "nope = 1\n", REFERRAL_ERROR_SCHEME, 8, "nope");
  bad_text (HEAD "[rule p]\ntype = test_params\nmoney = 1.00\n", REFERRAL_ERROR_SCHEME, 5,
            "req");
  bad_text (HEAD "[rule x]\ntype = Direct_Award\n", REFERRAL_ERROR_UNKNOWN_RULE_TYPE, 6,
            "Direct_Award");
  /* A rule's own validation (unilevel needs one rate per level). */
  bad_text (HEAD "[rule u]\ntype = unilevel\nlevels = 3\nrates = 5%, 3%\n",
            REFERRAL_ERROR_SCHEME, 0, "u");
}
END_TEST

/* ---- loading: success -------------------------------------------------- */

START_TEST (test_good_file)
{
  g_autofree char *path = tu_fixture_path ("schemes/good.ini");
  g_autoptr (GError) err = NULL;
  g_autoptr (ReferralScheme) s = referral_scheme_load_file (path, &err);
  assert_no_error (err);
  ck_assert_str_eq (referral_scheme_name (s), "good");
  ck_assert_uint_eq (referral_scheme_decimals (s), 3);
  ck_assert_uint_eq (referral_scheme_n_ranks (s), 3);
  ck_assert_str_eq (referral_scheme_rank_name (s, 0), "user");
  ck_assert_str_eq (referral_scheme_rank_name (s, 1), "agent");
  ck_assert_str_eq (referral_scheme_rank_name (s, 2), "partner");
  ck_assert_ptr_null (referral_scheme_rank_name (s, 3));
  ReferralRank r = 99;
  ck_assert (referral_scheme_lookup_rank (s, "partner", &r));
  ck_assert_uint_eq (r, 2);
  r = 99;
  ck_assert (!referral_scheme_lookup_rank (s, "boss", &r));
  ck_assert_uint_eq (r, 99);
  ck_assert_uint_eq (referral_scheme_n_rules (s), 2);
  ck_assert_str_eq (referral_scheme_rule_name (s, 0), "p");
  ck_assert_str_eq (referral_scheme_rule_type (s, 0), "test_params");
  ck_assert_str_eq (referral_scheme_rule_name (s, 1), "direct");
  ck_assert_str_eq (referral_scheme_rule_type (s, 1), "direct_award");

  /* What test_params' init saw. */
  ck_assert_int_eq (seen.money, 12345);
  ck_assert_int_eq (seen.rate.num * 1000, 125 * seen.rate.den);
  ck_assert_int_eq (seen.count, 7);
  ck_assert_str_eq (seen.text, "hello world");
  ck_assert_str_eq (seen.req, "required text");
  ck_assert_uint_eq (seen.rank, 1);
  ck_assert (seen.flag);
  ck_assert_uint_eq (g_strv_length (seen.words), 3);
  ck_assert_str_eq (seen.words[0], "direct");
  ck_assert_str_eq (seen.words[1], "team");
  ck_assert_str_eq (seen.words[2], "peer");
  ck_assert (seen.money_set);
  ck_assert_uint_eq (seen.decimals, 3);
  ck_assert_uint_eq (seen.n_ranks, 3);
}
END_TEST

START_TEST (test_defaults)
{
  g_autoptr (ReferralScheme) s = tu_scheme_from_text (HEAD "[rule p]\ntype = test_params\nreq = x\n");
  ck_assert_uint_eq (referral_scheme_n_rules (s), 1);
  ck_assert_int_eq (seen.money, 0);
  ck_assert_int_eq (seen.rate.num, 0);
  ck_assert_int_eq (seen.count, 0);
  ck_assert_str_eq (seen.text, "");
  ck_assert_str_eq (seen.req, "x");
  ck_assert_uint_eq (seen.rank, 0);
  ck_assert (!seen.flag);
  ck_assert_uint_eq (g_strv_length (seen.words), 0);
  ck_assert (!seen.money_set);
  ck_assert (!seen.count_set);
  ck_assert_uint_eq (seen.decimals, 2);
}
END_TEST

/* ---- builder -------------------------------------------------------------- */

START_TEST (test_builder_errors)
{
  GError *err = NULL;
  ReferralSchemeBuilder *b = referral_scheme_builder_new ("b");
  ck_assert (!referral_scheme_builder_set_decimals (b, 10, &err));
  assert_error (err, REFERRAL_ERROR_SCHEME, NULL);
  g_clear_error (&err);
  ck_assert (referral_scheme_builder_set_decimals (b, 9, &err));
  ck_assert (referral_scheme_builder_set_decimals (b, 0, &err));

  ck_assert (!referral_scheme_builder_set_ranks (b, (const char *const[]) { NULL }, &err));
  assert_error (err, REFERRAL_ERROR_SCHEME, NULL);
  g_clear_error (&err);
  ck_assert (!referral_scheme_builder_set_ranks (b, (const char *const[]) { "a", "b", "a", NULL },
                                                 &err));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "a");
  g_clear_error (&err);
  ck_assert (!referral_scheme_builder_set_ranks (b, (const char *const[]) { "a", "", NULL }, &err));
  assert_error (err, REFERRAL_ERROR_SCHEME, NULL);
  g_clear_error (&err);
  const char *seventeen[18], *sixteen[17];
  char names[17][8];
  for (guint i = 0; i < 17; i++)
    {
      g_snprintf (names[i], sizeof names[i], "r%u", i);
      seventeen[i] = names[i];
      if (i < 16)
        sixteen[i] = names[i];
    }
  seventeen[17] = NULL;
  sixteen[16] = NULL;
  ck_assert (!referral_scheme_builder_set_ranks (b, seventeen, &err));
  assert_error (err, REFERRAL_ERROR_SCHEME, NULL);
  g_clear_error (&err);
  ck_assert (referral_scheme_builder_set_ranks (b, sixteen, &err));
  assert_no_error (err);
  ck_assert (referral_scheme_builder_set_ranks (b, demo_ranks, &err));
  ck_assert (referral_scheme_builder_set_decimals (b, 2, &err));

  /* Rules. */
  ck_assert (!referral_scheme_builder_add_rule (b, "no_such_type", "x", NULL, &err));
  assert_error_has (err, REFERRAL_ERROR_UNKNOWN_RULE_TYPE, "no_such_type");
  g_clear_error (&err);
  ck_assert (!referral_scheme_builder_add_rule (
    b, "direct_award", "d", (const char *const[]) { "ratez", "5%", NULL }, &err));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "ratez");
  g_clear_error (&err);
  ck_assert (!referral_scheme_builder_add_rule (
    b, "test_params", "p", (const char *const[]) { "req", "x", "money", "1.234", NULL }, &err));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "money");
  g_clear_error (&err);
  ck_assert (!referral_scheme_builder_add_rule (
    b, "test_params", "p", (const char *const[]) { "req", "x", "rank", "boss", NULL }, &err));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "rank");
  g_clear_error (&err);
  ck_assert (!referral_scheme_builder_add_rule (
    b, "test_params", "p", (const char *const[]) { "count", "3", NULL }, &err));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "req");
  g_clear_error (&err);
  ck_assert (!referral_scheme_builder_add_rule (
    b, "unilevel", "u", (const char *const[]) { "levels", "2", "rates", "1%", NULL }, &err));
  assert_error (err, REFERRAL_ERROR_SCHEME, NULL);
  g_clear_error (&err);

  ck_assert (referral_scheme_builder_add_rule (
    b, "direct_award", "d", (const char *const[]) { "rates", "5%, 10%", NULL }, &err));
  assert_no_error (err);
  ck_assert (!referral_scheme_builder_add_rule (
    b, "unilevel", "d", (const char *const[]) { "levels", "1", "rates", "1%", NULL }, &err));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "d");
  g_clear_error (&err);
  ck_assert (referral_scheme_builder_add_rule (
    b, "unilevel", "u", (const char *const[]) { "levels", "1", "rates", "1%", NULL }, &err));

  /* The failed calls left nothing behind. */
  g_autoptr (ReferralScheme) s = referral_scheme_builder_finish (b, &err);
  assert_no_error (err);
  ck_assert_uint_eq (referral_scheme_n_rules (s), 2);
  ck_assert_str_eq (referral_scheme_rule_name (s, 0), "d");
  ck_assert_str_eq (referral_scheme_rule_name (s, 1), "u");
  ck_assert_str_eq (referral_scheme_rule_type (s, 1), "unilevel");
  ck_assert_uint_eq (referral_scheme_decimals (s), 2);
  ck_assert_uint_eq (referral_scheme_n_ranks (s), 2);
  ck_assert_str_eq (referral_scheme_name (s), "b");
  referral_scheme_builder_free (NULL);
}
END_TEST

START_TEST (test_builder_defaults)
{
  ReferralSchemeBuilder *b = referral_scheme_builder_new ("plain");
  g_autoptr (GError) err = NULL;
  g_autoptr (ReferralScheme) s = referral_scheme_builder_finish (b, &err);
  assert_no_error (err);
  ck_assert_uint_eq (referral_scheme_decimals (s), 2);
  ck_assert_uint_eq (referral_scheme_n_ranks (s), 1);
  ck_assert_str_eq (referral_scheme_rank_name (s, 0), "user");
  ck_assert_uint_eq (referral_scheme_n_rules (s), 0);
  /* An engine with no rules still takes events. */
  g_autoptr (ReferralEngine) e = tu_engine_new (s);
  ev_join (e, "j", "A", NULL);
  ev_order (e, "o", "o1", "A", 100, NULL);
  ck_assert_int_eq (tu_platform (e), 100);
}
END_TEST

/* ---- identity ---------------------------------------------------------- */

static guint64
identity_of_demo_variant (const char *direct_rates, const char *levels,
                          const char *uni_rates, const char *min_rank,
                          const char *compress, gboolean explicit_kinds,
                          guint decimals, const char *name)
{
  g_autoptr (GError) err = NULL;
  ReferralSchemeBuilder *b = referral_scheme_builder_new (name);
  ck_assert (referral_scheme_builder_set_decimals (b, decimals, &err));
  ck_assert (referral_scheme_builder_set_ranks (b, demo_ranks, &err));
  const char *dp[] = { "rates", direct_rates, explicit_kinds ? "kind" : NULL, "direct", NULL };
  ck_assert (referral_scheme_builder_add_rule (b, "direct_award", "direct", dp, &err));
  const char *up[] = { "levels", levels, "rates", uni_rates, "min_rank", min_rank,
                       "compress", compress,
                       explicit_kinds ? "kind" : NULL, "unilevel", NULL };
  ck_assert_msg (referral_scheme_builder_add_rule (b, "unilevel", "unilevel", up, &err),
                 "%s", err ? err->message : "");
  g_autoptr (ReferralScheme) s = referral_scheme_builder_finish (b, &err);
  assert_no_error (err);
  return referral_scheme_identity (s);
}

START_TEST (test_identity)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (ReferralScheme) builtin = referral_scheme_new_builtin ("demo", &err);
  assert_no_error (err);
  guint64 id = referral_scheme_identity (builtin);

  g_autoptr (ReferralScheme) from_text =
    referral_scheme_load_data (referral_scheme_builtin_text ("demo"), -1, "other-name.ini", &err);
  assert_no_error (err);
  ck_assert_uint_eq (referral_scheme_identity (from_text), id);

  g_autofree char *path = tu_source_path ("examples/schemes/demo.ini");
  g_autoptr (ReferralScheme) from_file = referral_scheme_load_file (path, &err);
  assert_no_error (err);
  ck_assert_uint_eq (referral_scheme_identity (from_file), id);

  /* The same definition built in code, with and without the defaults
   * written out. */
  ck_assert_uint_eq (identity_of_demo_variant ("5%, 10%", "3", "5%, 3%, 1%", "member", "false",
                                               TRUE, 2, "demo"), id);
  ck_assert_uint_eq (identity_of_demo_variant ("5%, 10%", "3", "5%, 3%, 1%", "member", "false",
                                               FALSE, 2, "demo"), id);
  /* Any change of the definition changes it. */
  ck_assert_uint_ne (identity_of_demo_variant ("5%, 11%", "3", "5%, 3%, 1%", "member", "false",
                                               TRUE, 2, "demo"), id);
  ck_assert_uint_ne (identity_of_demo_variant ("5%, 10%", "3", "5%, 3%, 2%", "member", "false",
                                               TRUE, 2, "demo"), id);
  ck_assert_uint_ne (identity_of_demo_variant ("5%, 10%", "2", "5%, 3%", "member", "false",
                                               TRUE, 2, "demo"), id);
  ck_assert_uint_ne (identity_of_demo_variant ("5%, 10%", "3", "5%, 3%, 1%", "user", "false",
                                               TRUE, 2, "demo"), id);
  ck_assert_uint_ne (identity_of_demo_variant ("5%, 10%", "3", "5%, 3%, 1%", "member", "true",
                                               TRUE, 2, "demo"), id);
  ck_assert_uint_ne (identity_of_demo_variant ("5%, 10%", "3", "5%, 3%, 1%", "member", "false",
                                               TRUE, 3, "demo"), id);
  ck_assert_uint_ne (identity_of_demo_variant ("5%, 10%", "3", "5%, 3%, 1%", "member", "false",
                                               TRUE, 2, "demo2"), id);
  /* A different kind name is a different definition. */
  g_autoptr (ReferralScheme) other_kind = tu_scheme_from_text (
    "[scheme]\nname = demo\ndecimals = 2\nranks = user, member\n"
    "[rule direct]\ntype = direct_award\nrates = 5%, 10%\nkind = bonus\n"
    "[rule unilevel]\ntype = unilevel\nlevels = 3\nrates = 5%, 3%, 1%\nmin_rank = member\n");
  ck_assert_uint_ne (referral_scheme_identity (other_kind), id);
  /* Rule order matters. */
  g_autoptr (ReferralScheme) swapped = tu_scheme_from_text (
    "[scheme]\nname = demo\ndecimals = 2\nranks = user, member\n"
    "[rule unilevel]\ntype = unilevel\nlevels = 3\nrates = 5%, 3%, 1%\nmin_rank = member\n"
    "[rule direct]\ntype = direct_award\nrates = 5%, 10%\n");
  ck_assert_uint_ne (referral_scheme_identity (swapped), id);
  /* Comments, blank lines and spaces around '=' do not. */
  g_autoptr (ReferralScheme) spaced = tu_scheme_from_text (
    "# comment\n[scheme]\nname=demo\ndecimals =2\nranks=  user, member\n\n"
    "[rule direct]\ntype=direct_award\n# another\n\nrates=5%, 10%\n"
    "[rule unilevel]\ntype= unilevel\nlevels=3\nrates =5%, 3%, 1%\nmin_rank=member\n");
  ck_assert_uint_eq (referral_scheme_identity (spaced), id);
  /* Parameters count as parsed: list spacing does not matter... */
  g_autoptr (ReferralScheme) lists = tu_scheme_from_text (
    "[scheme]\nname = demo\ndecimals = 2\nranks = user,member\n"
    "[rule direct]\ntype = direct_award\nrates = 5%,10%\n"
    "[rule unilevel]\ntype = unilevel\nlevels = 3\nrates = 5%,3%,  1%\nmin_rank = member\n");
  ck_assert_uint_eq (referral_scheme_identity (lists), id);
  /* ...nor how a money, rate, int or bool parameter is written. */
  g_autoptr (ReferralScheme) p1 = tu_scheme_from_text (
    HEAD "[rule p]\ntype = test_params\nreq = r\nmoney = 1.5\nrate = 5%\ncount = 7\nflag = true\n");
  g_autoptr (ReferralScheme) p2 = tu_scheme_from_text (
    HEAD "[rule p]\ntype = test_params\nreq = r\nmoney = 1.50\nrate = 0.05\ncount = 007\nflag = true\n");
  g_autoptr (ReferralScheme) p3 = tu_scheme_from_text (
    HEAD "[rule p]\ntype = test_params\nreq = r\nmoney = 1.51\nrate = 0.05\ncount = 7\nflag = true\n");
  ck_assert_uint_eq (referral_scheme_identity (p1), referral_scheme_identity (p2));
  ck_assert_uint_ne (referral_scheme_identity (p1), referral_scheme_identity (p3));
}
END_TEST

/* ---- built-ins and open ---------------------------------------------- */

START_TEST (test_builtins)
{
  const char *const *names = referral_scheme_builtin_names ();
  ck_assert_ptr_nonnull (names);
  gboolean demo = FALSE;
  for (guint i = 0; names[i]; i++)
    {
      demo |= strcmp (names[i], "demo") == 0;
      ck_assert_ptr_nonnull (referral_scheme_builtin_text (names[i]));
      g_autoptr (GError) err = NULL;
      g_autoptr (ReferralScheme) s = referral_scheme_new_builtin (names[i], &err);
      assert_no_error (err);
      ck_assert_str_eq (referral_scheme_name (s), names[i]);
    }
  ck_assert (demo);

  /* The built-in text is the example file, byte for byte. */
  g_autofree char *path = tu_source_path ("examples/schemes/demo.ini");
  g_autofree char *text = NULL;
  ck_assert (g_file_get_contents (path, &text, NULL, NULL));
  ck_assert_str_eq (referral_scheme_builtin_text ("demo"), text);
  ck_assert_ptr_null (referral_scheme_builtin_text ("no-such-scheme"));

  GError *err = NULL;
  ck_assert_ptr_null (referral_scheme_new_builtin ("no-such-scheme", &err));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "no-such-scheme");
  g_clear_error (&err);

  g_autoptr (ReferralScheme) demo_s = referral_scheme_new_builtin ("demo", &err);
  ck_assert_str_eq (referral_scheme_name (demo_s), "demo");
  ck_assert_uint_eq (referral_scheme_decimals (demo_s), 2);
  ck_assert_uint_eq (referral_scheme_n_ranks (demo_s), 2);
  ck_assert_str_eq (referral_scheme_rank_name (demo_s, 0), "user");
  ck_assert_str_eq (referral_scheme_rank_name (demo_s, 1), "member");
  ck_assert_uint_eq (referral_scheme_n_rules (demo_s), 2);
  ck_assert_str_eq (referral_scheme_rule_name (demo_s, 0), "direct");
  ck_assert_str_eq (referral_scheme_rule_type (demo_s, 0), "direct_award");
  ck_assert_str_eq (referral_scheme_rule_name (demo_s, 1), "unilevel");
  ck_assert_str_eq (referral_scheme_rule_type (demo_s, 1), "unilevel");
}
END_TEST

START_TEST (test_open)
{
  GError *err = NULL;
  g_autoptr (ReferralScheme) by_name = referral_scheme_open ("demo", &err);
  assert_no_error (err);
  ck_assert_str_eq (referral_scheme_name (by_name), "demo");

  g_autofree char *path = tu_fixture_path ("schemes/good.ini");
  g_autoptr (ReferralScheme) by_path = referral_scheme_open (path, &err);
  assert_no_error (err);
  ck_assert_str_eq (referral_scheme_name (by_path), "good");

  g_autofree char *bad = tu_fixture_path ("schemes/bad-int.ini");
  ck_assert_ptr_null (referral_scheme_open (bad, &err));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "levels");
  g_clear_error (&err);

  ck_assert_ptr_null (referral_scheme_open ("no-such-scheme-or-file", &err));
  assert_error (err, REFERRAL_ERROR_IO, NULL);
  g_clear_error (&err);
}
END_TEST

START_TEST (test_refcount)
{
  g_autoptr (GError) err = NULL;
  ReferralScheme *s = referral_scheme_new_builtin ("demo", &err);
  ck_assert_ptr_eq (referral_scheme_ref (s), s);
  referral_scheme_unref (s);
  referral_scheme_unref (NULL);
  ReferralEngine *e = tu_engine_new (s);
  referral_scheme_unref (s);   /* the engine keeps its own reference */
  ck_assert_ptr_eq (referral_engine_scheme (e), s);
  ck_assert_str_eq (referral_scheme_name (referral_engine_scheme (e)), "demo");
  ev_join (e, "j", "A", NULL);
  referral_engine_free (e);
  referral_engine_free (NULL);
}
END_TEST

/* ---- registry ------------------------------------------------------------ */

static gboolean
custom_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
             GError **error)
{
  *config = NULL;
  return TRUE;
}

static const ReferralParamSpec none[] = { { NULL, 0, NULL, NULL } };

START_TEST (test_registry)
{
  static const ReferralRuleType custom = {
    .abi_version = REFERRAL_RULE_ABI_VERSION, .name = "test_custom",
    .description = "d", .params = none, .init = custom_init,
  };
  static const ReferralRuleType custom_again = {
    .abi_version = REFERRAL_RULE_ABI_VERSION, .name = "test_custom",
    .description = "other", .params = none, .init = custom_init,
  };
  static const ReferralRuleType steals_builtin = {
    .abi_version = REFERRAL_RULE_ABI_VERSION, .name = "direct_award",
    .description = "d", .params = none, .init = custom_init,
  };
  static const ReferralRuleType abi0 = {
    .abi_version = 0, .name = "test_abi0", .description = "d", .params = none,
    .init = custom_init,
  };
  static const ReferralRuleType abi_future = {
    .abi_version = REFERRAL_RULE_ABI_VERSION + 1, .name = "test_abi_future",
    .description = "d", .params = none, .init = custom_init,
  };
  static const ReferralRuleType bad_name = {
    .abi_version = REFERRAL_RULE_ABI_VERSION, .name = "Bad-Name",
    .description = "d", .params = none, .init = custom_init,
  };
  static const ReferralRuleType empty_name = {
    .abi_version = REFERRAL_RULE_ABI_VERSION, .name = "",
    .description = "d", .params = none, .init = custom_init,
  };
  static const ReferralRuleType no_init = {
    .abi_version = REFERRAL_RULE_ABI_VERSION, .name = "test_no_init",
    .description = "d", .params = none, .init = NULL,
  };

  ck_assert_ptr_nonnull (referral_rule_type_lookup ("direct_award"));
  ck_assert_ptr_nonnull (referral_rule_type_lookup ("unilevel"));
  ck_assert_ptr_null (referral_rule_type_lookup ("test_custom"));

  GError *err = NULL;
  ck_assert (referral_rule_type_register (&custom, &err));
  assert_no_error (err);
  ck_assert_ptr_eq (referral_rule_type_lookup ("test_custom"), &custom);

  ck_assert (!referral_rule_type_register (&custom, &err));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "test_custom");
  g_clear_error (&err);
  ck_assert (!referral_rule_type_register (&custom_again, &err));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "test_custom");
  g_clear_error (&err);
  ck_assert_ptr_eq (referral_rule_type_lookup ("test_custom"), &custom);
  const ReferralRuleType *da = referral_rule_type_lookup ("direct_award");
  ck_assert (!referral_rule_type_register (&steals_builtin, &err));
  assert_error (err, REFERRAL_ERROR_SCHEME, NULL);
  g_clear_error (&err);
  ck_assert_ptr_eq (referral_rule_type_lookup ("direct_award"), da);

  ck_assert (!referral_rule_type_register (&abi0, &err));
  assert_error (err, REFERRAL_ERROR_ABI, NULL);
  g_clear_error (&err);
  ck_assert_ptr_null (referral_rule_type_lookup ("test_abi0"));
  ck_assert (!referral_rule_type_register (&abi_future, &err));
  assert_error (err, REFERRAL_ERROR_ABI, NULL);
  g_clear_error (&err);
  ck_assert_ptr_null (referral_rule_type_lookup ("test_abi_future"));

  ck_assert (!referral_rule_type_register (&bad_name, &err));
  assert_error (err, REFERRAL_ERROR_SCHEME, NULL);
  g_clear_error (&err);
  ck_assert_ptr_null (referral_rule_type_lookup ("Bad-Name"));
  ck_assert (!referral_rule_type_register (&empty_name, &err));
  assert_error (err, REFERRAL_ERROR_SCHEME, NULL);
  g_clear_error (&err);
  ck_assert (!referral_rule_type_register (&no_init, &err));
  assert_error (err, REFERRAL_ERROR_SCHEME, NULL);
  g_clear_error (&err);
  ck_assert_ptr_null (referral_rule_type_lookup ("test_no_init"));

  /* Names: sorted, with the built-ins and ours, without the refused. */
  const char **names = referral_rule_type_names ();
  guint n = 0;
  gboolean has_custom = FALSE, has_da = FALSE, has_uni = FALSE, has_params = FALSE;
  for (; names[n]; n++)
    {
      if (n > 0)
        ck_assert_msg (strcmp (names[n - 1], names[n]) < 0, "names not sorted: %s, %s",
                       names[n - 1], names[n]);
      has_custom |= strcmp (names[n], "test_custom") == 0;
      has_da |= strcmp (names[n], "direct_award") == 0;
      has_uni |= strcmp (names[n], "unilevel") == 0;
      has_params |= strcmp (names[n], "test_params") == 0;
      ck_assert (strcmp (names[n], "test_abi0") != 0);
      ck_assert (strcmp (names[n], "test_no_init") != 0);
    }
  g_free (names);
  ck_assert (has_custom && has_da && has_uni && has_params);

  /* A registered type can be used by a scheme file. */
  g_autoptr (ReferralScheme) s = tu_scheme_from_text (HEAD "[rule c]\ntype = test_custom\n");
  ck_assert_str_eq (referral_scheme_rule_type (s, 0), "test_custom");
}
END_TEST

int
main (void)
{
  g_autoptr (GError) err = NULL;
  if (!referral_rule_type_register (&test_params_type, &err))
    g_error ("registering test_params: %s", err->message);
  Suite *s = suite_create ("scheme");
  TCase *tc = tu_tcase (s, "load", 30);
  tcase_add_test (tc, test_file_errors);
  tcase_add_test (tc, test_duplicate_rule_name);
  tcase_add_test (tc, test_unreadable);
  tcase_add_test (tc, test_text_errors);
  tcase_add_test (tc, test_good_file);
  tcase_add_test (tc, test_defaults);
  tc = tu_tcase (s, "builder", 30);
  tcase_add_test (tc, test_builder_errors);
  tcase_add_test (tc, test_builder_defaults);
  tcase_add_test (tc, test_identity);
  tc = tu_tcase (s, "builtin", 30);
  tcase_add_test (tc, test_builtins);
  tcase_add_test (tc, test_open);
  tcase_add_test (tc, test_refcount);
  tc = tu_tcase (s, "registry", 30);
  tcase_add_test (tc, test_registry);
  int rc = tu_run_suites (s, NULL);
  g_free (seen.text);
  g_free (seen.req);
  g_strfreev (seen.words);
  return rc;
}
