/* The JSON Lines event reader and referral_engine_apply_jsonl()
 * (shared/spec/events.md). */
#include "testutil.h"

#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

/* ---- helpers ------------------------------------------------------------ */

/* The reader of the last read_one(); events borrow its strings. */
static ReferralJsonlReader *last_reader;

static void
drop_reader (void)
{
  g_clear_pointer (&last_reader, referral_jsonl_reader_free);
}

/* Reads the first event of @text (amounts with @decimals decimals).
 * Returns: what referral_jsonl_reader_next() returned. */
static int
read_one (const char *text, guint decimals, ReferralEvent *ev, GError **error)
{
  drop_reader ();
  last_reader = referral_jsonl_reader_new_from_data (text, strlen (text), "t.jsonl",
                                                     decimals);
  return referral_jsonl_reader_next (last_reader, ev, error);
}

/* Fails unless @line is refused with REFERRAL_ERROR @code and exactly @msg. */
#define assert_line_error(line, code, msg) \
  assert_line_error_at (__FILE__, __LINE__, (line), (code), (msg))
static void
assert_line_error_at (const char *file, int line, const char *text, int code,
                      const char *msg)
{
  ReferralEvent ev;
  GError *error = NULL;
  int r = read_one (text, 2, &ev, &error);
  if (r != -1)
    _ck_assert_failed (file, line, "line accepted",
                       "expected line %s to be refused, next() returned %d", text, r);
  tu_assert_error_at (file, line, error, code, msg);
  g_error_free (error);
  drop_reader ();
}

/* Reads @line, which must give an event. */
#define read_ok(line, ev) read_ok_at (__FILE__, __LINE__, (line), (ev))
static void
read_ok_at (const char *file, int line, const char *text, ReferralEvent *ev)
{
  GError *error = NULL;
  int r = read_one (text, 2, ev, &error);
  tu_assert_no_error_at (file, line, error);
  if (r != 1)
    _ck_assert_failed (file, line, "no event", "expected an event from %s, got %d",
                       text, r);
}

/* ---- every type --------------------------------------------------------- */

START_TEST (test_every_type)
{
  ReferralEvent ev;

  read_ok ("{\"type\":\"join\",\"id\":\"e1\",\"member\":\"B\",\"sponsor\":\"A\","
           "\"time\":\"2024-01-02T03:04:05Z\"}", &ev);
  ck_assert_int_eq (ev.type, REFERRAL_EVENT_JOIN);
  ck_assert_str_eq (ev.id, "e1");
  ck_assert_str_eq (ev.member, "B");
  ck_assert_str_eq (ev.sponsor, "A");
  ck_assert_str_eq (ev.time, "2024-01-02T03:04:05Z");
  ck_assert_ptr_null (ev.order);
  ck_assert_ptr_null (ev.amount_text);
  ck_assert_ptr_null (ev.command);

  read_ok ("{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\"}", &ev);
  ck_assert_ptr_null (ev.sponsor);
  ck_assert_ptr_null (ev.time);

  read_ok ("{\"type\":\"order\",\"id\":\"e2\",\"order\":\"o1\",\"member\":\"B\","
           "\"amount\":\"699.00\",\"sku\":\"gift\"}", &ev);
  ck_assert_int_eq (ev.type, REFERRAL_EVENT_ORDER);
  ck_assert_str_eq (ev.order, "o1");
  ck_assert_str_eq (ev.member, "B");
  ck_assert_int_eq (ev.amount, 69900);
  ck_assert_str_eq (ev.sku, "gift");

  read_ok ("{\"type\":\"order\",\"id\":\"e2\",\"order\":\"o1\",\"member\":\"B\","
           "\"amount\":\"1\"}", &ev);
  ck_assert_ptr_null (ev.sku);
  ck_assert_int_eq (ev.amount, 100);

  read_ok ("{\"type\":\"refund\",\"id\":\"e3\",\"order\":\"o1\"}", &ev);
  ck_assert_int_eq (ev.type, REFERRAL_EVENT_REFUND);
  ck_assert_str_eq (ev.order, "o1");

  read_ok ("{\"type\":\"period_close\",\"id\":\"e4\",\"period\":\"2024-01\"}", &ev);
  ck_assert_int_eq (ev.type, REFERRAL_EVENT_PERIOD_CLOSE);
  ck_assert_str_eq (ev.period, "2024-01");

  read_ok ("{\"type\":\"transpose\",\"id\":\"e5\",\"member\":\"A\",\"old\":\"B\","
           "\"new\":\"C\"}", &ev);
  ck_assert_int_eq (ev.type, REFERRAL_EVENT_COMMAND);
  ck_assert_str_eq (ev.command, "transpose");
  ck_assert_str_eq (ev.member, "A");
  ck_assert_str_eq (ev.old_member, "B");
  ck_assert_str_eq (ev.new_member, "C");
  ck_assert_str_eq (referral_event_type_name (&ev), "transpose");

  read_ok ("{\"type\":\"withdraw\",\"id\":\"e6\",\"member\":\"A\",\"amount\":5}", &ev);
  ck_assert_int_eq (ev.type, REFERRAL_EVENT_WITHDRAW);
  ck_assert_str_eq (ev.member, "A");
  ck_assert_int_eq (ev.amount, 500);

  read_ok ("{\"type\":\"promote\",\"id\":\"e7\",\"member\":\"A\",\"rank\":\"agent\"}", &ev);
  ck_assert_int_eq (ev.type, REFERRAL_EVENT_PROMOTE);
  ck_assert_str_eq (ev.rank, "agent");
  drop_reader ();
}
END_TEST

/* Key order and white space do not matter; the same event reads the same
 * and has the same fingerprint. */
START_TEST (test_key_order_and_space)
{
  ReferralEvent a, b;
  read_ok ("{\"type\":\"order\",\"id\":\"e2\",\"order\":\"o1\",\"member\":\"B\","
           "\"amount\":\"699\"}", &a);
  guint64 fa = referral_event_fingerprint (&a);
  read_ok ("  { \"amount\" : \"699\" ,\t\"member\":\"B\", \"order\":\"o1\","
           "\"id\":\"e2\" , \"type\" : \"order\" }  ", &b);
  ck_assert_int_eq (b.amount, 69900);
  ck_assert_str_eq (b.member, "B");
  ck_assert_uint_eq (referral_event_fingerprint (&b), fa);
  drop_reader ();
}
END_TEST

/* ---- amounts ------------------------------------------------------------ */

typedef struct {
  const char *json;     /* the amount as written in the line */
  guint decimals;
  gint64 minor;
  const char *text;     /* expected amount_text */
  gboolean quoted;
} AmountCase;

static const AmountCase good_amounts[] = {
  { "\"699\"", 2, 69900, "699", TRUE },
  { "699", 2, 69900, "699", FALSE },
  { "\"699.00\"", 2, 69900, "699.00", TRUE },
  { "\"699.5\"", 2, 69950, "699.5", TRUE },
  { "\"0.05\"", 2, 5, "0.05", TRUE },
  { "0", 2, 0, "0", FALSE },
  { "\"0\"", 2, 0, "0", TRUE },
  { "\"699\"", 0, 699, "699", TRUE },
  { "699", 0, 699, "699", FALSE },
  { "\"1.234\"", 3, 1234, "1.234", TRUE },
  { "92233720368547758", 2, G_GINT64_CONSTANT (9223372036854775800), "92233720368547758", FALSE },
  { "\"92233720368547758.07\"", 2, G_MAXINT64, "92233720368547758.07", TRUE },
  { "9223372036854775807", 0, G_MAXINT64, "9223372036854775807", FALSE },
};

START_TEST (test_amount_good)
{
  const AmountCase *c = &good_amounts[_i];
  g_autofree char *line = g_strdup_printf (
    "{\"type\":\"withdraw\",\"id\":\"w\",\"member\":\"A\",\"amount\":%s}", c->json);
  ReferralEvent ev;
  GError *error = NULL;
  ck_assert_int_eq (read_one (line, c->decimals, &ev, &error), 1);
  assert_no_error (error);
  ck_assert_int_eq (ev.amount, c->minor);
  ck_assert_str_eq (ev.amount_text, c->text);
  ck_assert_int_eq (ev.amount_quoted, c->quoted);
  drop_reader ();
}
END_TEST

/* "699", 699 and "699.00" are the same money but different content. */
/* The reader reads common amounts without referral_money_parse() (lib/jsonl.c,
 * parse_plain_amount()); every amount, for every number of decimals, must
 * read as referral_money_parse() reads it, or be refused when it refuses
 * it (with its message, for a string). */
START_TEST (test_amount_matches_money_parse)
{
  static const char *const texts[] = {
    "0", "00", "5", "05", "699", "699.", ".5", "0.5", "0.05", "1.999", "12.50", "+5", "-5",
    "1e3", "1.5e3", "5.x", "5 ", "", "123456789012345", "1234567890123456",
    "12345678901234567", "123456789012345678", "1234567890123456789",
    "9223372036854775807", "9223372036854775808", "99999999999999999999",
    "999999999999999.99", "99999999999999.999", "999999999.999999999",
    "9999999999.999999999", "0.000000001", "0.0000000001", "0000000000000000000001",
    "1.0000000000", "922337203685477580.7",
  };
  GRand *rand = g_rand_new_with_seed (4);
  GPtrArray *all = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    g_ptr_array_add (all, g_strdup (texts[i]));
  for (guint i = 0; i < 3000; i++)
    {
      /* 0-20 digits, maybe a point and 0-11 digits, leading zeros often. */
      GString *t = g_string_new (NULL);
      guint int_digits = (guint) g_rand_int_range (rand, 0, 21);
      for (guint k = 0; k < int_digits; k++)
        g_string_append_c (t, (char) ('0' + (k == 0 && g_rand_boolean (rand)
                                             ? 0 : g_rand_int_range (rand, 0, 10))));
      if (g_rand_boolean (rand))
        {
          g_string_append_c (t, '.');
          guint frac = (guint) g_rand_int_range (rand, 0, 12);
          for (guint k = 0; k < frac; k++)
            g_string_append_c (t, (char) ('0' + g_rand_int_range (rand, 0, 10)));
        }
      g_ptr_array_add (all, g_string_free (t, FALSE));
    }
  guint accepted = 0;
  for (guint decimals = 0; decimals <= REFERRAL_MAX_DECIMALS; decimals++)
    for (guint i = 0; i < all->len; i++)
      {
        const char *text = all->pdata[i];
        gint64 want = 0;
        GError *money_error = NULL;
        gboolean ok = referral_money_parse (text, decimals, FALSE, &want, &money_error);
        gboolean integer = text[0] != '\0' && strspn (text, "0123456789") == strlen (text)
                           && (text[0] != '0' || text[1] == '\0');
        for (guint quoted = 0; quoted < (integer ? 2u : 1u); quoted++)
          {
            g_autofree char *line = g_strdup_printf (
              "{\"type\":\"order\",\"id\":\"e1\",\"order\":\"o1\",\"member\":\"A\","
              "\"amount\":%s%s%s}", quoted ? "" : "\"", text, quoted ? "" : "\"");
            ReferralEvent ev;
            GError *error = NULL;
            int r = read_one (line, decimals, &ev, &error);
            if (ok)
              {
                assert_no_error (error);
                ck_assert_int_eq (r, 1);
                ck_assert_int_eq (ev.amount, want);
                accepted++;
              }
            else
              {
                ck_assert_int_eq (r, -1);
                ck_assert (g_error_matches (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_MONEY));
                if (!quoted)
                  ck_assert (g_str_has_suffix (error->message, money_error->message));
                g_error_free (error);
              }
          }
        g_clear_error (&money_error);
      }
  /* Both sides of the fast path's limits were met. */
  ck_assert_uint_gt (accepted, 10000);
  drop_reader ();
  g_ptr_array_free (all, TRUE);
  g_rand_free (rand);
}
END_TEST

START_TEST (test_amount_fingerprints_differ)
{
  const char *forms[] = { "\"699\"", "699", "\"699.00\"" };
  guint64 prints[3];
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *line = g_strdup_printf (
        "{\"type\":\"order\",\"id\":\"e\",\"order\":\"o\",\"member\":\"A\",\"amount\":%s}",
        forms[i]);
      ReferralEvent ev;
      read_ok (line, &ev);
      ck_assert_int_eq (ev.amount, 69900);
      prints[i] = referral_event_fingerprint (&ev);
    }
  ck_assert_uint_ne (prints[0], prints[1]);
  ck_assert_uint_ne (prints[0], prints[2]);
  ck_assert_uint_ne (prints[1], prints[2]);
  drop_reader ();
}
END_TEST

typedef struct {
  const char *json;
  guint decimals;
  int code;
  const char *msg; /* after the `order "o9": ` prefix */
} AmountError;

static const AmountError bad_amounts[] = {
  { "\"6.999\"", 2, REFERRAL_ERROR_INVALID_MONEY, "amount \"6.999\" has more than 2 decimals" },
  { "\"6.5\"", 0, REFERRAL_ERROR_INVALID_MONEY, "amount \"6.5\" has decimals but the currency has none" },
  { "\"1e3\"", 2, REFERRAL_ERROR_INVALID_MONEY, "amount \"1e3\" has an exponent" },
  { "\"-5.00\"", 2, REFERRAL_ERROR_INVALID_MONEY, "amount \"-5.00\" has a sign" },
  { "\"+5\"", 2, REFERRAL_ERROR_INVALID_MONEY, "amount \"+5\" has a sign" },
  { "\"\"", 2, REFERRAL_ERROR_INVALID_MONEY, "amount \"\" is empty" },
  { "\" 5\"", 2, REFERRAL_ERROR_INVALID_MONEY, "amount \" 5\" is not a decimal number" },
  { "\"5.\"", 2, REFERRAL_ERROR_INVALID_MONEY, "amount \"5.\" has no digits after the decimal point" },
  { "\"1,000\"", 2, REFERRAL_ERROR_INVALID_MONEY, "amount \"1,000\" is not a decimal number" },
  { "\"92233720368547758.08\"", 2, REFERRAL_ERROR_INVALID_MONEY,
    "amount \"92233720368547758.08\" is too large" },
  { "-5", 2, REFERRAL_ERROR_INVALID_MONEY, "amount -5 has a sign" },
  { "-0", 2, REFERRAL_ERROR_INVALID_MONEY, "amount -0 has a sign" },
  { "92233720368547759", 2, REFERRAL_ERROR_INVALID_MONEY, "amount 92233720368547759 is too large" },
  { "99999999999999999999", 2, REFERRAL_ERROR_INVALID_MONEY,
    "amount 99999999999999999999 is too large" },
  { "18446744073709552315", 0, REFERRAL_ERROR_INVALID_MONEY,
    "amount 18446744073709552315 is too large" },
  { "6.99", 2, REFERRAL_ERROR_INVALID_MONEY,
    "amount 6.99 is a JSON number with a fraction; write amounts with decimals as strings (\"6.99\")" },
  { "699.0", 2, REFERRAL_ERROR_INVALID_MONEY,
    "amount 699.0 is a JSON number with a fraction; write amounts with decimals as strings (\"699.0\")" },
  { "1e3", 2, REFERRAL_ERROR_INVALID_MONEY,
    "amount 1e3 is a JSON number with an exponent; write amounts as decimal strings" },
  { "6.99E+1", 2, REFERRAL_ERROR_INVALID_MONEY,
    "amount 6.99E+1 is a JSON number with an exponent; write amounts as decimal strings" },
  { "true", 2, REFERRAL_ERROR_PARSE,
    "field \"amount\" must be a decimal string or an integer, not a boolean" },
  { "null", 2, REFERRAL_ERROR_PARSE,
    "field \"amount\" must be a decimal string or an integer, not null" },
  { "[5]", 2, REFERRAL_ERROR_PARSE,
    "field \"amount\" must be a decimal string or an integer, not an array" },
  { "{\"yuan\":5}", 2, REFERRAL_ERROR_PARSE,
    "field \"amount\" must be a decimal string or an integer, not an object" },
};

START_TEST (test_amount_bad)
{
  const AmountError *c = &bad_amounts[_i];
  g_autofree char *line = g_strdup_printf (
    "{\"type\":\"order\",\"id\":\"e9\",\"order\":\"o9\",\"member\":\"A\",\"amount\":%s}",
    c->json);
  g_autofree char *msg = g_strdup_printf ("order \"o9\": %s", c->msg);
  ReferralEvent ev;
  GError *error = NULL;
  ck_assert_int_eq (read_one (line, c->decimals, &ev, &error), -1);
  assert_error (error, c->code, msg);
  g_error_free (error);
  drop_reader ();
}
END_TEST

/* ---- fields and types ----------------------------------------------------- */

typedef struct {
  const char *line;
  const char *msg;
} FieldError;

static const FieldError bad_fields[] = {
  { "{\"type\":\"join\",\"member\":\"A\"}", "join \"A\": missing field \"id\"" },
  { "{\"type\":\"join\",\"id\":\"\",\"member\":\"A\"}", "join \"A\": field \"id\" is empty" },
  { "{\"type\":\"join\",\"id\":7,\"member\":\"A\"}",
    "join \"A\": field \"id\" must be a string, not a number" },
  { "{\"id\":\"e1\",\"member\":\"A\"}", "missing field \"type\"" },
  { "{}", "missing field \"type\"" },
  { "{\"type\":1,\"id\":\"e1\"}", "field \"type\" must be a string, not a number" },
  { "{\"type\":\"jump\",\"id\":\"e1\"}", "unknown type \"jump\"" },
  { "{\"type\":\"Join\",\"id\":\"e1\",\"member\":\"A\"}", "unknown type \"Join\"" },
  { "{\"type\":\"command\",\"id\":\"e1\"}", "unknown type \"command\"" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\",\"colour\":\"red\"}",
    "join \"A\": unknown field \"colour\"" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\",\"Member\":\"A\"}",
    "join \"A\": unknown field \"Member\"" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\",\"sku\":\"gift\"}",
    "join \"A\": field \"sku\" is not allowed in join events" },
  { "{\"type\":\"refund\",\"id\":\"e1\",\"order\":\"o1\",\"amount\":\"5\"}",
    "refund \"o1\": field \"amount\" is not allowed in refund events" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\",\"member\":\"B\"}",
    "join \"A\": field \"member\" appears twice" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"type\":\"join\",\"member\":\"A\"}",
    "join \"A\": field \"type\" appears twice" },
  { "{\"type\":\"order\",\"id\":\"e1\",\"order\":\"o1\",\"amount\":\"5\"}",
    "order \"o1\": missing field \"member\"" },
  { "{\"type\":\"order\",\"id\":\"e1\",\"order\":\"o1\",\"member\":\"A\"}",
    "order \"o1\": missing field \"amount\"" },
  { "{\"type\":\"order\",\"id\":\"e1\",\"member\":\"A\",\"amount\":\"5\"}",
    "order event \"e1\": missing field \"order\"" },
  { "{\"type\":\"order\",\"member\":\"A\",\"amount\":\"5\"}",
    "order event: missing field \"id\"" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"\"}",
    "join event \"e1\": field \"member\" is empty" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"B\",\"sponsor\":null}",
    "join \"B\": field \"sponsor\" must be a string, not null" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"B\",\"sponsor\":\"\"}",
    "join \"B\": field \"sponsor\" is empty" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":[\"B\"]}",
    "join event \"e1\": field \"member\" must be a string, not an array" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":{\"key\":\"B\"}}",
    "join event \"e1\": field \"member\" must be a string, not an object" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":true}",
    "join event \"e1\": field \"member\" must be a string, not a boolean" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\",\"time\":1700000000}",
    "join \"A\": field \"time\" must be a string, not a number" },
  { "{\"type\":\"order\",\"id\":\"e1\",\"order\":\"o1\",\"member\":\"A\",\"amount\":\"5\",\"sku\":\"\"}",
    "order \"o1\": field \"sku\" is empty" },
  { "{\"type\":\"refund\",\"id\":\"e1\"}", "refund event \"e1\": missing field \"order\"" },
  { "{\"type\":\"period_close\",\"id\":\"e1\"}",
    "period_close event \"e1\": missing field \"period\"" },
  { "{\"type\":\"period_close\",\"id\":\"e1\",\"period\":2024}",
    "period_close event \"e1\": field \"period\" must be a string, not a number" },
  { "{\"type\":\"transpose\",\"id\":\"e1\",\"member\":\"A\",\"old\":\"B\"}",
    "transpose \"A\": missing field \"new\"" },
  { "{\"type\":\"withdraw\",\"id\":\"e1\",\"member\":\"A\"}",
    "withdraw \"A\": missing field \"amount\"" },
  { "{\"type\":\"promote\",\"id\":\"e1\",\"member\":\"A\"}",
    "promote \"A\": missing field \"rank\"" },
  /* Keys and values are quoted with their quotes and control characters escaped. */
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"a\\\"b\\nc\",\"x\":1}",
    "join \"a\\\"b\\nc\": unknown field \"x\"" },
};

START_TEST (test_field_bad)
{
  assert_line_error (bad_fields[_i].line, REFERRAL_ERROR_PARSE, bad_fields[_i].msg);
}
END_TEST

/* ---- JSON syntax ---------------------------------------------------------- */

static const FieldError bad_json[] = {
  { "[1,2]", "the line is not a JSON object" },
  { "\"join\"", "the line is not a JSON object" },
  { "42", "the line is not a JSON object" },
  { "null", "the line is not a JSON object" },
  { "{\"type\":\"join\",", "invalid JSON: expected a string key at the end of the line" },
  { "{\"type\":\"join\"", "invalid JSON: expected ',' or '}' at the end of the line" },
  { "{\"type\":\"jo", "invalid JSON: unterminated string at the end of the line" },
  { "{\"type\":'join'}", "invalid JSON: unexpected character at column 9" },
  { "{type:\"join\"}", "invalid JSON: expected a string key at column 2" },
  { "{\"type\" \"join\"}", "invalid JSON: expected ':' at column 9" },
  { "{\"type\":\"join\",}", "invalid JSON: expected a string key at column 16" },
  { "{\"type\":\"join\"} x", "invalid JSON: unexpected text after the object at column 17" },
  { "{\"type\":\"join\"}{}", "invalid JSON: unexpected text after the object at column 16" },
  { "{\"a\":1 /* c */}", "invalid JSON: expected ',' or '}' at column 8" },
  { "{\"amount\":0x10}", "invalid JSON: expected ',' or '}' at column 12" },
  { "{\"amount\":010}", "invalid JSON: number with a leading zero at column 12" },
  { "{\"amount\":1.}", "invalid JSON: bad number at column 13" },
  { "{\"amount\":.5}", "invalid JSON: unexpected character at column 11" },
  { "{\"amount\":+5}", "invalid JSON: unexpected character at column 11" },
  { "{\"amount\":1e}", "invalid JSON: bad number at column 13" },
  { "{\"amount\":-}", "invalid JSON: bad number at column 12" },
  { "{\"a\":tru}", "invalid JSON: unexpected character at column 6" },
  { "{\"a\":NaN}", "invalid JSON: unexpected character at column 6" },
  { "{\"a\":\"x\ty\"}", "invalid JSON: control character in a string at column 8" },
  { "{\"a\":\"\\x41\"}", "invalid JSON: bad escape in a string at column 8" },
  { "{\"a\":\"\\u00g1\"}", "invalid JSON: bad \\u escape at column 9" },
  { "{\"a\":\"\\u00\"}", "invalid JSON: bad \\u escape at column 9" },
  { "{\"a\":\"\\u0000\"}", "invalid JSON: \\u0000 is not allowed in a string at column 13" },
  { "{\"a\":\"\\ud800\"}", "invalid JSON: unpaired surrogate in a \\u escape at column 13" },
  { "{\"a\":\"\\ud800\\u0041\"}", "invalid JSON: unpaired surrogate in a \\u escape at column 19" },
  { "{\"a\":\"\\udc00\"}", "invalid JSON: unpaired surrogate in a \\u escape at column 13" },
  { "{\"a\":[1,2}", "invalid JSON: expected ',' or ']' at column 10" },
  { "{\"a\":{\"b\" 1}}", "invalid JSON: expected ':' at column 11" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"\xff\"}", "invalid UTF-8 at column 36" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"\xc3\"}", "invalid UTF-8 at column 36" },
  { "{\"member\":\"\xe4\xb8\xad\",\"x\":\"\xed\xa0\x80\"}", "invalid UTF-8 at column 20" },
  { "\xef\xbb\xbf\xef\xbb\xbf{}", "invalid JSON: unexpected character at column 1" },
};

START_TEST (test_json_bad)
{
  assert_line_error (bad_json[_i].line, REFERRAL_ERROR_PARSE, bad_json[_i].msg);
}
END_TEST

START_TEST (test_nul_byte)
{
  static const char data[] = "{\"type\":\"join\",\"id\":\"e\0\",\"member\":\"A\"}\n";
  g_autoptr (ReferralJsonlReader) r =
    referral_jsonl_reader_new_from_data (data, sizeof data - 1, "t", 2);
  ReferralEvent ev;
  g_autoptr (GError) error = NULL;
  ck_assert_int_eq (referral_jsonl_reader_next (r, &ev, &error), -1);
  assert_error (error, REFERRAL_ERROR_PARSE, "NUL byte at column 23");
  g_clear_error (&error);
  ck_assert_int_eq (referral_jsonl_reader_next (r, &ev, &error), 0);
}
END_TEST

START_TEST (test_deep_nesting)
{
  GString *s = g_string_new ("{\"type\":\"join\",\"id\":\"e1\",\"member\":");
  for (int i = 0; i < 200; i++)
    g_string_append_c (s, '[');
  for (int i = 0; i < 200; i++)
    g_string_append_c (s, ']');
  g_string_append_c (s, '}');
  assert_line_error (s->str, REFERRAL_ERROR_PARSE,
                     "invalid JSON: values nested too deep at column 98");
  g_string_free (s, TRUE);

  /* Nested values within the limit are fine JSON, but the wrong type. */
  assert_line_error ("{\"type\":\"join\",\"id\":\"e1\",\"member\":[[{\"a\":[1,\"x\",null,{}]}]]}",
                     REFERRAL_ERROR_PARSE,
                     "join event \"e1\": field \"member\" must be a string, not an array");
}
END_TEST

/* ---- strings -------------------------------------------------------------- */

START_TEST (test_string_escapes)
{
  ReferralEvent ev;
  read_ok ("{\"type\":\"join\",\"id\":\"e\\u0031\",\"member\":"
           "\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\","
           "\"sponsor\":\"\xe5\xbc\xa0\xe4\xb8\x89\"}", &ev);
  ck_assert_str_eq (ev.id, "e1");
  ck_assert_str_eq (ev.member, "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" \\ / \b\f\n\r\t");
  ck_assert_str_eq (ev.sponsor, "\xe5\xbc\xa0\xe4\xb8\x89");
  /* Keys may be escaped too. */
  read_ok ("{\"typ\\u0065\":\"join\",\"\\u0069d\":\"e1\",\"member\":\"A\"}", &ev);
  ck_assert_int_eq (ev.type, REFERRAL_EVENT_JOIN);
  ck_assert_str_eq (ev.id, "e1");
  drop_reader ();
}
END_TEST

/* Long lines make the reader's buffers grow; the strings stay right. */
START_TEST (test_long_line)
{
  g_autofree char *name = g_strnfill (100000, 'm');
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"%s\"}\n", "A");
  g_string_append_printf (s, "{\"type\":\"join\",\"id\":\"e2\",\"member\":\"%s\","
                             "\"sponsor\":\"A\"}\n", name);
  /* 20000 escapes in a row: decoded shorter than written. */
  GString *e = g_string_new (NULL);
  for (int i = 0; i < 20000; i++)
    g_string_append (e, "\\u00e9");
  g_string_append_printf (s, "{\"type\":\"join\",\"id\":\"e3\",\"member\":\"%s\"}\n", e->str);
  g_string_free (e, TRUE);
  g_autoptr (ReferralJsonlReader) r =
    referral_jsonl_reader_new_from_data (s->str, s->len, "t", 2);
  ReferralEvent ev;
  GError *error = NULL;
  ck_assert_int_eq (referral_jsonl_reader_next (r, &ev, &error), 1);
  ck_assert_str_eq (ev.member, "A");
  ck_assert_int_eq (referral_jsonl_reader_next (r, &ev, &error), 1);
  ck_assert_str_eq (ev.member, name);
  ck_assert_str_eq (ev.sponsor, "A");
  ck_assert_int_eq (referral_jsonl_reader_next (r, &ev, &error), 1);
  ck_assert_uint_eq (strlen (ev.member), 40000);
  ck_assert (g_str_has_prefix (ev.member, "\xc3\xa9\xc3\xa9"));
  ck_assert_int_eq (referral_jsonl_reader_next (r, &ev, &error), 0);
  assert_no_error (error);
  g_string_free (s, TRUE);
}
END_TEST

/* ---- scanning -------------------------------------------------------------
 * The reader scans strings and keys 8 bytes at a time while 8 bytes of the
 * line are left, and byte by byte after (lib/jsonl.c, copy_plain()).
 * Whatever ends the plain run of a string (a quote, an escape, a control
 * character, a byte >= 0x80, a NUL) must be found at every offset in a
 * word and with any number of bytes left in the line. */

typedef struct {
  const char *raw;     /* as written inside the string */
  gsize raw_len;
  const char *decoded; /* what it decodes to, or NULL when the line is refused */
  const char *error;   /* then the message, before " at column N": the column of
                          the raw text... */
  guint col_after;     /* ...plus this */
} Special;

#define RAW(s) s, sizeof s - 1
static const Special specials[] = {
  { RAW ("\\\""), "\"", NULL, 0 },
  { RAW ("\\\\"), "\\", NULL, 0 },
  { RAW ("\\n"), "\n", NULL, 0 },
  { RAW ("\\u00e9"), "\xc3\xa9", NULL, 0 },
  { RAW ("\xc3\xa9"), "\xc3\xa9", NULL, 0 },
  { RAW ("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80", NULL, 0 },
  { RAW ("\x7f"), "\x7f", NULL, 0 },
  { RAW (" "), " ", NULL, 0 },
  { RAW ("\x01"), NULL, "invalid JSON: control character in a string", 0 },
  { RAW ("\x1f"), NULL, "invalid JSON: control character in a string", 0 },
  { RAW ("\t"), NULL, "invalid JSON: control character in a string", 0 },
  { RAW ("\r"), NULL, "invalid JSON: control character in a string", 0 },
  { RAW ("\0"), NULL, "NUL byte", 0 },
  { RAW ("\xff"), NULL, "invalid UTF-8", 0 },
  { RAW ("\x80"), NULL, "invalid UTF-8", 0 },
  { RAW ("\xc3"), NULL, "invalid UTF-8", 0 },
  { RAW ("\\x"), NULL, "invalid JSON: bad escape in a string", 1 },
};

START_TEST (test_scan_offsets)
{
  const Special *sp = &specials[_i];
  static const guint after[] = { 0, 1, 6, 7, 8, 9, 17 };
  guint checked = 0;
  for (guint layout = 0; layout < 2; layout++)
    for (guint n = 0; n < 18; n++)
      for (guint a = 0; a < G_N_ELEMENTS (after); a++)
        for (guint tail = 0; tail < 10; tail += 3)
          {
            /* The member first (most of the line left) or last (the end
             * near), then white space after the object. */
            const char *head = layout == 0 ? "{\"member\":\""
                                           : "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"";
            const char *rest = layout == 0 ? "\",\"type\":\"join\",\"id\":\"e1\"}" : "\"}";
            GString *line = g_string_new (head);
            GString *want = g_string_new (NULL);
            for (guint k = 0; k < n; k++)
              g_string_append_c (line, (char) ('a' + k % 26));
            g_string_append_len (want, line->str + strlen (head), n);
            guint column = (guint) line->len + 1; /* the text before is ASCII */
            g_string_append_len (line, sp->raw, (gssize) sp->raw_len);
            if (sp->decoded != NULL)
              g_string_append (want, sp->decoded);
            for (guint k = 0; k < after[a]; k++)
              g_string_append_c (line, (char) ('A' + k % 26));
            g_string_append_len (want, line->str + line->len - after[a], after[a]);
            g_string_append (line, rest);
            for (guint k = 0; k < tail; k++)
              g_string_append_c (line, ' ');

            g_autoptr (ReferralJsonlReader) r =
              referral_jsonl_reader_new_from_data (line->str, line->len, "t", 2);
            ReferralEvent ev;
            GError *error = NULL;
            int got = referral_jsonl_reader_next (r, &ev, &error);
            if (sp->decoded != NULL)
              {
                assert_no_error (error);
                ck_assert_int_eq (got, 1);
                ck_assert_str_eq (ev.member, want->str);
                ck_assert_str_eq (ev.id, "e1");
              }
            else
              {
                ck_assert_int_eq (got, -1);
                g_autofree char *msg = g_strdup_printf ("%s at column %u", sp->error,
                                                        column + sp->col_after);
                assert_error (error, REFERRAL_ERROR_PARSE, msg);
                g_error_free (error);
              }
            checked++;
            g_string_free (line, TRUE);
            g_string_free (want, TRUE);
          }
  ck_assert_uint_eq (checked, 2 * 18 * G_N_ELEMENTS (after) * 4);
}
END_TEST

/* Keys are compared with the field names as one word when they can be
 * (lib/jsonl.c, parse_key()), byte by byte near the end of the line:
 * either way a key that is no field's name, however close, is unknown. */
static const char *const near_keys[] = {
  "", "i", "di", "ids", "Id", "typ", "tyxe", "Type", "types", "typee", "tim", "timex",
  "sk", "skus", "sku\\u0000", "ol", "olds", "ne", "neww", "ordr", "orde", "orders",
  "rnk", "rang", "ranks", "membr", "mamber", "memberr", "member ", "sponso", "sponsox",
  "sponsors", "amoun", "amounx", "amounts", "perio", "periox", "m\xc3\xa9mber",
};

START_TEST (test_keys_near_fields)
{
  const char *key = near_keys[_i];
  g_autofree char *shown = g_strcompress (key); /* as decoded, for the message */
  g_autofree char *msg = g_strdup_printf ("join \"A\": unknown field \"%s\"", shown);
  if (strstr (key, "\\u0000") != NULL)
    {
      /* refused before the key is looked up */
      g_free (msg);
      msg = g_strdup ("invalid JSON: \\u0000 is not allowed in a string at column 49");
      assert_line_error ("{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\",\"sku\\u0000\":1}",
                         REFERRAL_ERROR_PARSE, msg);
      return;
    }
  g_autofree char *first = g_strdup_printf (
    "{\"%s\":\"v\",\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\"}", key);
  g_autofree char *last = g_strdup_printf (
    "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\",\"%s\":1}", key);
  g_autofree char *last_spaced = g_strdup_printf (
    "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\",\"%s\" : \"v\" }", key);
  assert_line_error (first, REFERRAL_ERROR_PARSE, msg);
  assert_line_error (last, REFERRAL_ERROR_PARSE, msg);
  assert_line_error (last_spaced, REFERRAL_ERROR_PARSE, msg);
}
END_TEST

/* The reader checks a line as UTF-8 only when it holds a byte >= 0x80 or
 * does not parse; a bad byte or a NUL is still the error reported, before
 * any error of syntax or content that comes after it on the line. */
static const FieldError utf8_first[] = {
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"\xff\"", "invalid UTF-8 at column 36" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\"}\xff", "invalid UTF-8 at column 39" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\"} \xc3\xa9", "invalid JSON: unexpected text after the object at column 40" },
  { "{\"type\":\"bogus\",\"id\":\"\xc3\"}", "invalid UTF-8 at column 23" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\",\"x\":\"\xe9\"}", "invalid UTF-8 at column 44" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\",\"x\xe9\":1}", "invalid UTF-8 at column 41" },
  { "{\xff}", "invalid UTF-8 at column 2" },
  { "\xff{}", "invalid UTF-8 at column 1" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"\xc3\xa9\",oops}", "invalid JSON: expected a string key at column 39" },
  { "{\"type\":\"join\",\"id\":\"\xc3\xa9\",\"member\":\"\xed\xa0\x80\"}", "invalid UTF-8 at column 35" },
  { "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\",\"sponsor\":\"\xe4\xb8\xad\"}", NULL },
};

START_TEST (test_utf8_checked_first)
{
  const FieldError *c = &utf8_first[_i];
  if (c->msg != NULL)
    {
      assert_line_error (c->line, REFERRAL_ERROR_PARSE, c->msg);
      return;
    }
  ReferralEvent ev;
  read_ok (c->line, &ev);
  ck_assert_str_eq (ev.sponsor, "\xe4\xb8\xad");
  drop_reader ();
}
END_TEST

START_TEST (test_nul_before_later_errors)
{
  static const char nul_then_syntax[] = "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"a\0b\", oops}";
  static const char nul_outside[] = "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\"}\0";
  static const char nul_then_type[] = "{\"type\":\"bogus\",\"id\":\"a\0\"}";
  static const struct {
    const char *data;
    gsize len;
    const char *msg;
  } cases[] = {
    { nul_then_syntax, sizeof nul_then_syntax - 1, "NUL byte at column 37" },
    { nul_outside, sizeof nul_outside - 1, "NUL byte at column 39" },
    { nul_then_type, sizeof nul_then_type - 1, "NUL byte at column 24" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (ReferralJsonlReader) r =
        referral_jsonl_reader_new_from_data (cases[i].data, cases[i].len, "t", 2);
      ReferralEvent ev;
      GError *error = NULL;
      ck_assert_int_eq (referral_jsonl_reader_next (r, &ev, &error), -1);
      assert_error (error, REFERRAL_ERROR_PARSE, cases[i].msg);
      g_error_free (error);
      ck_assert_int_eq (referral_jsonl_reader_next (r, &ev, &error), 0);
    }
}
END_TEST

/* ---- lines ---------------------------------------------------------------- */

/* Reads every event of @data, recording "LINE:ID" or "LINE:error" per call. */
static char *
trace_reader (ReferralJsonlReader *r)
{
  GString *out = g_string_new (NULL);
  for (;;)
    {
      ReferralEvent ev;
      GError *error = NULL;
      int n = referral_jsonl_reader_next (r, &ev, &error);
      if (n == 0)
        {
          ck_assert_ptr_null (error);
          break;
        }
      if (out->len > 0)
        g_string_append_c (out, ' ');
      if (n > 0)
        g_string_append_printf (out, "%" G_GUINT64_FORMAT ":%s",
                                referral_jsonl_reader_line (r), ev.id);
      else
        {
          ck_assert_ptr_nonnull (error);
          g_string_append_printf (out, "%" G_GUINT64_FORMAT ":error",
                                  referral_jsonl_reader_line (r));
          g_error_free (error);
        }
    }
  return g_string_free (out, FALSE);
}

static char *
trace_data (const char *data)
{
  g_autoptr (ReferralJsonlReader) r =
    referral_jsonl_reader_new_from_data (data, strlen (data), "t", 2);
  return trace_reader (r);
}

#define J(id) "{\"type\":\"join\",\"id\":\"" id "\",\"member\":\"" id "\"}"

START_TEST (test_blank_and_comment_lines)
{
  g_autofree char *t = trace_data (
    "# a comment\n"
    "\n"
    J ("a") "\n"
    "   \n"
    "\t\n"
    "  # an indented comment\n"
    "#{\"type\":\"join\",\"id\":\"x\",\"member\":\"x\"}\n"
    J ("b") "\n"
    "not json\n"
    J ("c") "\n"
    "\n");
  ck_assert_str_eq (t, "3:a 8:b 9:error 10:c");
}
END_TEST

START_TEST (test_crlf_and_no_final_newline)
{
  g_autofree char *crlf = trace_data ("# c\r\n" J ("a") "\r\n\r\n" J ("b") "\r\n");
  ck_assert_str_eq (crlf, "2:a 4:b");
  g_autofree char *no_nl = trace_data (J ("a") "\n" J ("b"));
  ck_assert_str_eq (no_nl, "1:a 2:b");
  g_autofree char *crlf_no_nl = trace_data (J ("a") "\r\n" J ("b") "\r");
  ck_assert_str_eq (crlf_no_nl, "1:a 2:b");
  g_autofree char *empty = trace_data ("");
  ck_assert_str_eq (empty, "");
  g_autofree char *only_comments = trace_data ("# one\n# two");
  ck_assert_str_eq (only_comments, "");
  /* A byte order mark opens the file. */
  g_autofree char *bom = trace_data ("\xef\xbb\xbf" J ("a") "\n" J ("b"));
  ck_assert_str_eq (bom, "1:a 2:b");
  /* A CR inside the line is white space to JSON, at the end it is stripped. */
  g_autofree char *inner_cr = trace_data ("{\"type\":\"join\",\r\"id\":\"a\",\"member\":\"a\"}\r\n");
  ck_assert_str_eq (inner_cr, "1:a");
}
END_TEST

/* Every string of an event is readable until the next call. */
START_TEST (test_strings_until_next_call)
{
  const char *data = "{\"type\":\"order\",\"id\":\"e1\",\"order\":\"o1\",\"member\":\"A\","
                     "\"amount\":\"5.00\",\"sku\":\"s\"}\n";
  g_autoptr (ReferralJsonlReader) r =
    referral_jsonl_reader_new_from_data (data, strlen (data), "t", 2);
  ReferralEvent ev;
  ck_assert_int_eq (referral_jsonl_reader_next (r, &ev, NULL), 1);
  ck_assert_str_eq (ev.id, "e1");
  ck_assert_str_eq (ev.order, "o1");
  ck_assert_str_eq (ev.member, "A");
  ck_assert_str_eq (ev.amount_text, "5.00");
  ck_assert_str_eq (ev.sku, "s");
  ck_assert_uint_eq (referral_jsonl_reader_line (r), 1);
  ck_assert_str_eq (referral_jsonl_reader_name (r), "t");
}
END_TEST

/* ---- files ---------------------------------------------------------------- */

static char *tmp_dir;

static void
setup_tmp (void)
{
  tmp_dir = g_dir_make_tmp ("referral-jsonl-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmp_dir);
}

static void
teardown_tmp (void)
{
  GDir *d = g_dir_open (tmp_dir, 0, NULL);
  if (d != NULL)
    {
      const char *name;
      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *p = g_build_filename (tmp_dir, name, NULL);
          g_remove (p);
        }
      g_dir_close (d);
    }
  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

static char *
write_tmp (const char *name, const char *data)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  GError *error = NULL;
  g_file_set_contents (path, data, -1, &error);
  assert_no_error (error);
  return path;
}

START_TEST (test_file_reader)
{
  g_autofree char *path = write_tmp ("events.jsonl",
                                     "# x\r\n" J ("a") "\r\n\n{bad}\n" J ("b"));
  GError *error = NULL;
  g_autoptr (ReferralJsonlReader) r = referral_jsonl_reader_open (path, 2, &error);
  assert_no_error (error);
  ck_assert_str_eq (referral_jsonl_reader_name (r), path);
  g_autofree char *t = trace_reader (r);
  ck_assert_str_eq (t, "2:a 4:error 5:b");
  ck_assert_uint_eq (referral_jsonl_reader_line (r), 5);
}
END_TEST

START_TEST (test_file_errors)
{
  GError *error = NULL;
  g_autofree char *missing = g_build_filename (tmp_dir, "missing.jsonl", NULL);
  ck_assert_ptr_null (referral_jsonl_reader_open (missing, 2, &error));
  assert_error_has (error, REFERRAL_ERROR_IO, missing, "No such file");
  g_clear_error (&error);

  ck_assert_ptr_null (referral_jsonl_reader_open (tmp_dir, 2, &error));
  assert_error_has (error, REFERRAL_ERROR_IO, tmp_dir, "directory");
  g_clear_error (&error);

  g_autoptr (ReferralJsonlReader) in = referral_jsonl_reader_open ("-", 2, &error);
  assert_no_error (error);
  ck_assert_str_eq (referral_jsonl_reader_name (in), "<stdin>");
}
END_TEST

/* ---- the runner ----------------------------------------------------------- */

typedef struct {
  GString *log; /* "FILE:LINE: message\n" per report */
} Reports;

static void
collect_report (const char *file, guint64 line, const char *message, gpointer data)
{
  Reports *r = data;
  g_string_append_printf (r->log, "%s:%" G_GUINT64_FORMAT ": %s\n", file, line, message);
}

#define STORY \
  "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\"}\n"                         \
  "{\"type\":\"join\",\"id\":\"e2\",\"member\":\"B\",\"sponsor\":\"A\"}\n"       \
  "# a comment\n"                                                                   \
  "{\"type\":\"order\",\"id\":\"e3\",\"order\":\"o1\",\"member\":\"B\",\"amount\":\"100\"}\n" \
  "{\"type\":\"order\",\"id\":\"e4\",\"order\":\"o9\",\"member\":\"B\",\"amount\":\"6.999\"}\n" \
  "{\"amount\":\"100\",\"member\":\"B\",\"order\":\"o1\",\"id\":\"e3\",\"type\":\"order\"}\n" \
  "{\"type\":\"order\",\"id\":\"e5\",\"order\":\"o2\",\"member\":\"X\",\"amount\":\"5\"}\n" \
  "{\"type\":\"order\",\"id\":\"e3\",\"order\":\"o1\",\"member\":\"B\",\"amount\":100}\n" \
  "\n"                                                                              \
  "{\"type\":\"order\",\"id\":\"e6\",\"order\":\"o3\",\"member\":\"B\",\"amount\":\"40\"}\n"

START_TEST (test_apply_stops_at_first_error)
{
  g_autofree char *path = write_tmp ("story.jsonl", STORY);
  g_autoptr (ReferralEngine) engine = tu_demo_engine ();
  Reports rep = { g_string_new (NULL) };
  ReferralRunStats st;
  GError *error = NULL;
  ck_assert (!referral_engine_apply_jsonl (engine, path, REFERRAL_RUN_STOP_AT_ERROR,
                                           collect_report, &rep, &st, &error));
  assert_no_error (error);
  g_autofree char *expected = g_strdup_printf (
    "%s:5: order \"o9\": amount \"6.999\" has more than 2 decimals\n", path);
  ck_assert_str_eq (rep.log->str, expected);
  ck_assert_uint_eq (st.lines, 5);
  ck_assert_uint_eq (st.applied, 3);
  ck_assert_uint_eq (st.duplicates, 0);
  ck_assert_uint_eq (st.errors, 1);
  ck_assert_uint_eq (referral_engine_n_events (engine), 3);
  /* B's sponsor A is a user: 5% of 100.00. */
  ck_assert_int_eq (tu_available (engine, "A"), 500);
  g_string_free (rep.log, TRUE);
}
END_TEST

START_TEST (test_apply_keep_going)
{
  g_autofree char *path = write_tmp ("story.jsonl", STORY);
  g_autoptr (ReferralEngine) engine = tu_demo_engine ();
  Reports rep = { g_string_new (NULL) };
  ReferralRunStats st;
  GError *error = NULL;
  ck_assert (!referral_engine_apply_jsonl (engine, path, REFERRAL_RUN_KEEP_GOING,
                                           collect_report, &rep, &st, &error));
  assert_no_error (error);
  g_auto (GStrv) lines = g_strsplit (rep.log->str, "\n", -1);
  ck_assert_uint_eq (g_strv_length (lines), 4); /* three reports and "" */
  g_autofree char *l5 = g_strdup_printf (
    "%s:5: order \"o9\": amount \"6.999\" has more than 2 decimals", path);
  ck_assert_str_eq (lines[0], l5);
  g_autofree char *l7 = g_strdup_printf ("%s:7: order \"o2\": ", path);
  ck_assert (g_str_has_prefix (lines[1], l7));
  assert_contains (lines[1], "\"X\"");
  g_autofree char *l8 = g_strdup_printf ("%s:8: ", path);
  ck_assert (g_str_has_prefix (lines[2], l8));
  ck_assert_str_eq (lines[3], "");
  ck_assert_uint_eq (st.lines, 10);
  ck_assert_uint_eq (st.applied, 4);
  ck_assert_uint_eq (st.duplicates, 1);
  ck_assert_uint_eq (st.errors, 3);
  ck_assert_int_eq (tu_available (engine, "A"), 700);
  g_string_free (rep.log, TRUE);
}
END_TEST

/* The same id with other content is an id conflict, reported on its line. */
START_TEST (test_apply_id_conflict)
{
  g_autofree char *path = write_tmp ("conflict.jsonl",
    "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\"}\n"
    "{\"type\":\"join\",\"id\":\"e1\",\"member\":\"A\",\"time\":\"2024-01-01T00:00:00Z\"}\n");
  g_autoptr (ReferralEngine) engine = tu_demo_engine ();
  Reports rep = { g_string_new (NULL) };
  ReferralRunStats st;
  ck_assert (!referral_engine_apply_jsonl (engine, path, 0, collect_report, &rep,
                                           &st, NULL));
  g_autofree char *prefix = g_strdup_printf ("%s:2: ", path);
  ck_assert (g_str_has_prefix (rep.log->str, prefix));
  assert_contains (rep.log->str, "e1");
  ck_assert_uint_eq (st.applied, 1);
  ck_assert_uint_eq (st.errors, 1);
  g_string_free (rep.log, TRUE);
}
END_TEST

START_TEST (test_apply_all_good)
{
  g_autofree char *path = write_tmp ("good.jsonl",
    J ("a") "\n" J ("b") "\n" J ("a") "\n");
  g_autoptr (ReferralEngine) engine = tu_demo_engine ();
  ReferralRunStats st;
  GError *error = NULL;
  ck_assert (referral_engine_apply_jsonl (engine, path, 0, NULL, NULL, &st, &error));
  assert_no_error (error);
  ck_assert_uint_eq (st.lines, 3);
  ck_assert_uint_eq (st.applied, 2);
  ck_assert_uint_eq (st.duplicates, 1);
  ck_assert_uint_eq (st.errors, 0);
}
END_TEST

START_TEST (test_apply_unreadable)
{
  g_autofree char *path = g_build_filename (tmp_dir, "none.jsonl", NULL);
  g_autoptr (ReferralEngine) engine = tu_demo_engine ();
  ReferralRunStats st = { 9, 9, 9, 9 };
  GError *error = NULL;
  ck_assert (!referral_engine_apply_jsonl (engine, path, 0, NULL, NULL, &st, &error));
  assert_error_has (error, REFERRAL_ERROR_IO, path);
  g_clear_error (&error);
  ck_assert_uint_eq (st.lines, 0);
  ck_assert_uint_eq (st.errors, 0);
}
END_TEST

/* ---- against json-glib -----------------------------------------------------
 * Lines written by json-glib's generator, from strings with every kind of
 * character, must read back as the same strings. */

/* Not U+001F: json-glib 1.6's generator writes it raw, which RFC 8259 (and
 * so this reader) refuses. */
static char *
random_text (GRand *rand)
{
  static const gunichar pool[] = {
    'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\r', '\b', '\f', 0x01, 0x1e,
    0x7f, 0xe9, 0x4e2d, 0xfeff, 0x1f600, 0x10ffff, ',', ':', '{', '}', '#',
  };
  GString *s = g_string_new (NULL);
  int n = g_rand_int_range (rand, 1, 12);
  for (int i = 0; i < n; i++)
    g_string_append_unichar (s, pool[g_rand_int_range (rand, 0, G_N_ELEMENTS (pool))]);
  return g_string_free (s, FALSE);
}

START_TEST (test_differential_json_glib)
{
  GRand *rand = g_rand_new_with_seed (20240101);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  for (int i = 0; i < 2000; i++)
    {
      g_autofree char *id = random_text (rand);
      g_autofree char *member = random_text (rand);
      g_autofree char *sku = random_text (rand);
      gint64 major = g_rand_int_range (rand, 0, 1000000);
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "sku");
      json_builder_add_string_value (b, sku);
      json_builder_set_member_name (b, "amount");
      json_builder_add_int_value (b, major);
      json_builder_set_member_name (b, "member");
      json_builder_add_string_value (b, member);
      json_builder_set_member_name (b, "order");
      json_builder_add_string_value (b, id);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, id);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "order");
      json_builder_end_object (b);
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      json_generator_set_root (gen, root);
      json_generator_set_pretty (gen, i % 2 == 1);
      g_autofree char *text = json_generator_to_data (gen, NULL);
      /* Pretty output spans lines; JSON Lines wants one. */
      for (char *c = text; *c != '\0'; c++)
        if (*c == '\n')
          *c = ' ';

      ReferralEvent ev;
      GError *error = NULL;
      if (read_one (text, 2, &ev, &error) != 1)
        ck_abort_msg ("line %s refused: %s", text, error ? error->message : "?");
      ck_assert_str_eq (ev.id, id);
      ck_assert_str_eq (ev.order, id);
      ck_assert_str_eq (ev.member, member);
      ck_assert_str_eq (ev.sku, sku);
      ck_assert_int_eq (ev.amount, major * 100);
      ck_assert_int_eq (ev.amount_quoted, FALSE);
    }
  drop_reader ();
  g_rand_free (rand);
}
END_TEST

/* Every mutation of a valid line that the reader accepts must be valid JSON
 * to json-glib too, with the same strings: the reader never makes up data. */
START_TEST (test_mutations_accepted_only_if_json)
{
  static const char base[] =
    "{\"type\":\"order\",\"id\":\"e\\u00e91\",\"order\":\"o1\",\"member\":\"A b\","
    "\"amount\":\"12.50\",\"sku\":\"g\\\"x\"}";
  static const char bytes[] = "{}[]\":,\\ 0123456789.eE+-tfnul#'\x01\xc3\xa9";
  GRand *rand = g_rand_new_with_seed (7);
  g_autoptr (JsonParser) parser = json_parser_new ();
  int accepted = 0;
  for (int i = 0; i < 20000; i++)
    {
      GString *s = g_string_new (base);
      int edits = g_rand_int_range (rand, 1, 3);
      for (int k = 0; k < edits; k++)
        {
          gsize pos = (gsize) g_rand_int_range (rand, 0, (gint32) s->len);
          char c = bytes[g_rand_int_range (rand, 0, sizeof bytes - 1)];
          switch (g_rand_int_range (rand, 0, 3))
            {
            case 0: s->str[pos] = c; break;
            case 1: g_string_insert_c (s, (gssize) pos, c); break;
            default: g_string_erase (s, (gssize) pos, 1); break;
            }
        }
      ReferralEvent ev;
      GError *error = NULL;
      if (read_one (s->str, 2, &ev, &error) == 1 && strchr (s->str, '\n') == NULL)
        {
          accepted++;
          GError *jerr = NULL;
          if (!json_parser_load_from_data (parser, s->str, (gssize) s->len, &jerr))
            ck_abort_msg ("accepted %s, json-glib says %s", s->str, jerr->message);
          JsonObject *o = json_node_get_object (json_parser_get_root (parser));
          ck_assert_str_eq (json_object_get_string_member (o, "id"), ev.id);
          ck_assert_str_eq (json_object_get_string_member (o, "member"), ev.member);
          ck_assert_str_eq (json_object_get_string_member (o, "order"), ev.order);
          ck_assert_str_eq (json_object_get_string_member (o, "type"), "order");
          JsonNode *amount = json_object_get_member (o, "amount");
          if (json_node_get_value_type (amount) == G_TYPE_STRING)
            ck_assert_str_eq (json_node_get_string (amount), ev.amount_text);
          else
            ck_assert_int_eq (json_node_get_int (amount) * 100, ev.amount);
        }
      g_clear_error (&error);
      g_string_free (s, TRUE);
    }
  /* The mutations hit strings often enough for some to stay valid. */
  ck_assert_int_gt (accepted, 100);
  drop_reader ();
  g_rand_free (rand);
}
END_TEST

/* The runner applies events in batches (lib/jsonl.c: 256 events or 64 KiB
 * of strings).  On a long file with errors, duplicates, a bad line and an
 * event whose strings alone exceed a batch, it must report, count and
 * change exactly what reading the file line by line and applying one event
 * at a time does; both with and without keep-going. */
static void
reference_run (const char *path, ReferralRunFlags flags, Reports *rep, ReferralRunStats *st,
               ReferralEngine *engine)
{
  GError *error = NULL;
  g_autoptr (ReferralJsonlReader) r = referral_jsonl_reader_open (path, 2, &error);
  assert_no_error (error);
  *st = (ReferralRunStats) { 0, 0, 0, 0 };
  for (;;)
    {
      ReferralEvent ev;
      ReferralApplyResult res;
      int k = referral_jsonl_reader_next (r, &ev, &error);
      if (k == 0)
        break;
      if (k > 0 && referral_engine_apply (engine, &ev, &res, &error))
        {
          if (res.status == REFERRAL_DUPLICATE)
            st->duplicates++;
          else
            st->applied++;
          continue;
        }
      st->errors++;
      collect_report (path, referral_jsonl_reader_line (r), error->message, rep);
      g_clear_error (&error);
      if (!(flags & REFERRAL_RUN_KEEP_GOING))
        break;
    }
  st->lines = referral_jsonl_reader_line (r);
}

/* Runs @path through referral_engine_apply_jsonl() on @engine and through
 * reference_run() on a fresh engine, in mode @flags; both must report,
 * count and change the same.  Returns: the runner's stats. */
static ReferralRunStats
run_matches_reference (const char *path, ReferralRunFlags flags, ReferralEngine *engine)
{
  g_autoptr (ReferralEngine) b = tu_demo_engine ();
  Reports ra = { g_string_new (NULL) }, rb = { g_string_new (NULL) };
  ReferralRunStats sa, sb;
  GError *error = NULL;
  ck_assert (!referral_engine_apply_jsonl (engine, path, flags, collect_report, &ra, &sa,
                                           &error));
  assert_no_error (error);
  reference_run (path, flags, &rb, &sb, b);
  ck_assert_str_eq (ra.log->str, rb.log->str);
  ck_assert_uint_eq (sa.lines, sb.lines);
  ck_assert_uint_eq (sa.applied, sb.applied);
  ck_assert_uint_eq (sa.duplicates, sb.duplicates);
  ck_assert_uint_eq (sa.errors, sb.errors);
  ck_assert_uint_eq (referral_engine_state_hash (engine), referral_engine_state_hash (b));
  g_string_free (ra.log, TRUE);
  g_string_free (rb.log, TRUE);
  return sa;
}

START_TEST (test_apply_batches_match_one_by_one)
{
  GString *file = g_string_new (NULL);
  for (guint i = 0; i < 1500; i++)
    {
      if (i == 700)
        g_string_append (file, "{bad json\n\n"); /* a line that is no event */
      if (i == 900)
        {
          /* an event whose strings alone exceed a batch's 64 KiB */
          g_string_append (file, "{\"type\":\"join\",\"id\":\"long\",\"member\":\"L\","
                                 "\"time\":\"");
          for (guint k = 0; k < 70000; k++)
            g_string_append_c (file, 'x');
          g_string_append (file, "\"}\n");
        }
      if (i == 0)
        g_string_append (file, "{\"type\":\"join\",\"id\":\"j0\",\"member\":\"m0\"}\n");
      else if (i < 300)
        g_string_append_printf (file, "{\"type\":\"join\",\"id\":\"j%u\",\"member\":\"m%u\","
                                "\"sponsor\":\"m%u\"}\n", i, i, i / 2);
      else if (i % 37 == 0)
        /* rejected: an unknown buyer */
        g_string_append_printf (file, "{\"type\":\"order\",\"id\":\"x%u\",\"order\":\"ox%u\","
                                "\"member\":\"nobody\",\"amount\":\"1.00\"}\n", i, i);
      else if (i % 41 == 0)
        /* a duplicate of the previous order event */
        g_string_append_printf (file, "{\"type\":\"order\",\"id\":\"o%u\",\"order\":\"o%u\","
                                "\"member\":\"m%u\",\"amount\":\"%u.25\"}\n",
                                i - 1, i - 1, (i - 1) % 300, (i - 1) % 90 + 1);
      else
        g_string_append_printf (file, "{\"type\":\"order\",\"id\":\"o%u\",\"order\":\"o%u\","
                                "\"member\":\"m%u\",\"amount\":\"%u.25\"}\n",
                                i, i, i % 300, i % 90 + 1);
    }
  g_autofree char *path = write_tmp ("batches.jsonl", file->str);
  g_string_free (file, TRUE);

  static const ReferralRunFlags modes[] = { REFERRAL_RUN_KEEP_GOING, REFERRAL_RUN_STOP_AT_ERROR };
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      g_autoptr (ReferralEngine) a = tu_demo_engine ();
      ReferralRunStats sa = run_matches_reference (path, modes[m], a);
      if (modes[m] == REFERRAL_RUN_KEEP_GOING)
        {
          /* The file exercises what it should. */
          ck_assert_uint_gt (sa.errors, 20);
          ck_assert_uint_gt (sa.duplicates, 20);
          ck_assert_uint_gt (sa.applied, 1300);
          ck_assert_uint_ne (referral_tree_lookup (referral_engine_tree (a), "L"), REFERRAL_NO_MEMBER);
        }
      else
        ck_assert_uint_eq (sa.errors, 1);
    }
}
END_TEST

/* ---- blocks and arenas ------------------------------------------------------ */

/* Every outcome of @r, one a line: "LINE id member sponsor amount" for an
 * event, "LINE message" for a bad line. */
static char *
trace_reader_full (ReferralJsonlReader *r, guint *n_events, guint *n_errors)
{
  GString *out = g_string_new (NULL);
  *n_events = *n_errors = 0;
  for (;;)
    {
      ReferralEvent ev;
      GError *error = NULL;
      int n = referral_jsonl_reader_next (r, &ev, &error);
      if (n == 0)
        {
          assert_no_error (error);
          break;
        }
      g_string_append_printf (out, "%" G_GUINT64_FORMAT " ", referral_jsonl_reader_line (r));
      if (n > 0)
        {
          g_string_append_printf (out, "%s %s %s %s\n", ev.id, ev.member,
                                  ev.sponsor != NULL ? ev.sponsor : "-",
                                  ev.amount_text != NULL ? ev.amount_text : "-");
          (*n_events)++;
        }
      else
        {
          g_string_append_printf (out, "%s\n", error->message);
          g_error_free (error);
          (*n_errors)++;
        }
    }
  return g_string_free (out, FALSE);
}

/* Comment lines (and a blank one) of exactly @n bytes. */
static void
append_padding (GString *s, gsize n)
{
  for (; n >= 100; n -= 100)
    {
      g_string_append_c (s, '#');
      for (guint k = 0; k < 98; k++)
        g_string_append_c (s, 'p');
      g_string_append_c (s, '\n');
    }
  if (n == 1)
    g_string_append_c (s, '\n');
  else if (n >= 2)
    {
      g_string_append_c (s, '#');
      for (gsize k = 0; k < n - 2; k++)
        g_string_append_c (s, 'p');
      g_string_append_c (s, '\n');
    }
}

/* Reads @s as a named file and as data: the same outcomes, @events events
 * and @errors bad lines. */
static void
assert_file_reads_as_data (const GString *s, guint events, guint errors)
{
  g_autofree char *path = g_build_filename (tmp_dir, "blocks.jsonl", NULL);
  GError *error = NULL;
  g_file_set_contents (path, s->str, (gssize) s->len, &error);
  assert_no_error (error);
  g_autoptr (ReferralJsonlReader) f = referral_jsonl_reader_open (path, 2, &error);
  assert_no_error (error);
  g_autoptr (ReferralJsonlReader) d =
    referral_jsonl_reader_new_from_data (s->str, s->len, "t", 2);
  guint fe, fx, de, dx;
  g_autofree char *from_file = trace_reader_full (f, &fe, &fx);
  g_autofree char *from_data = trace_reader_full (d, &de, &dx);
  ck_assert_str_eq (from_file, from_data);
  ck_assert_uint_eq (fe, events);
  ck_assert_uint_eq (fx, errors);
}

/* The reader reads a named file in blocks, the first READ_BLOCK (128 KiB)
 * long (lib/jsonl.c): a line may straddle two blocks at any byte, a CRLF be
 * cut between its CR and LF, a UTF-8 character between its bytes, and a
 * line be longer than a block.  Read as a file, such a file gives what the
 * same bytes give read as data (one buffer, no blocks). */
#define FIRST_BLOCK (128 * 1024)

START_TEST (test_block_boundaries)
{
  static const char lines[] =
    "{\"type\":\"join\",\"id\":\"b1\",\"member\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\r\n"
    "{\"type\":\"order\",\"id\":\"b2\",\"order\":\"o1\",\"member\":\"A\",\"amount\":\"12.50\"}\n"
    "{\"type\":\"join\",\"id\":\"b3\",\"member\":\"caf\xc3\xa9\",\"sponsor\":\"\xf0\x9f\x98\x80\"}\n"
    "{bad\r\n"
    "\r\n"
    "{\"type\":\"join\",\"id\":\"b5\",\"member\":\"Z\"}"; /* no final newline */
  for (gsize k = 0; k <= sizeof lines; k++)
    {
      /* The first block ends k bytes into the lines. */
      GString *s = g_string_new (NULL);
      append_padding (s, FIRST_BLOCK - k);
      g_string_append (s, lines);
      assert_file_reads_as_data (s, 4, 1);
      /* With a final newline, and one more line after it. */
      g_string_append (s, "\r\n{\"type\":\"join\",\"id\":\"b6\",\"member\":\"Y\"}\n");
      assert_file_reads_as_data (s, 5, 1);
      g_string_free (s, TRUE);
    }

  /* Lines longer than one and two blocks, starting around the end of the
   * first; the last one without a final newline. */
  static const gsize starts[] = { 0, 1, 2, 37, 100, 5000 };
  for (guint i = 0; i < G_N_ELEMENTS (starts); i++)
    {
      GString *s = g_string_new (NULL);
      append_padding (s, FIRST_BLOCK - starts[i]);
      g_string_append (s, "{\"type\":\"join\",\"id\":\"l1\",\"member\":\"");
      for (guint k = 0; k < 300000; k++)
        g_string_append_c (s, (char) ('a' + k % 26));
      g_string_append (s, "\"}\n{\"type\":\"join\",\"id\":\"l2\",\"member\":\"A\"}\n");
      g_string_append (s, "{\"type\":\"join\",\"id\":\"l3\",\"member\":\"");
      for (guint k = 0; k < 140000; k++)
        g_string_append_c (s, 'M');
      g_string_append (s, "\",\"sponsor\":\"A\"}");
      assert_file_reads_as_data (s, 3, 0);
      g_string_free (s, TRUE);
    }
}
END_TEST

/* Appends an order line of exactly @len bytes (without its "\n"), padded
 * in its time string, or with white space before its '}' when @spaces. */
static void
append_order_of_length (GString *s, const char *id, const char *member, gsize len,
                        gboolean spaces)
{
  g_autofree char *head = g_strdup_printf (
    "{\"type\":\"order\",\"id\":\"%s\",\"order\":\"%s\",\"member\":\"%s\",\"amount\":\"1.00\"%s",
    id, id, member, spaces ? "" : ",\"time\":\"");
  const char *tail = spaces ? "}" : "\"}";
  gsize pad = len - strlen (head) - strlen (tail);
  ck_assert_uint_lt (strlen (head) + strlen (tail), len);
  g_string_append (s, head);
  for (gsize k = 0; k < pad; k++)
    g_string_append_c (s, spaces ? ' ' : 't');
  g_string_append (s, tail);
  g_string_append_c (s, '\n');
}

/* The runner parses each line straight into the 64 KiB arena of its batch
 * when the arena has room for the line's length plus 10 bytes, else ends
 * the batch there, and a line too long for any arena goes alone
 * (lib/jsonl.c, batch_fill()).  Lines of every length around those limits,
 * good, bad and rejected, at the start of a batch and after events, give
 * what reading and applying one event at a time gives. */
START_TEST (test_apply_arena_boundaries)
{
  GString *file = g_string_new ("{\"type\":\"join\",\"id\":\"j0\",\"member\":\"m0\"}\n");
  for (guint i = 1; i < 100; i++)
    g_string_append_printf (file, "{\"type\":\"join\",\"id\":\"j%u\",\"member\":\"m%u\","
                            "\"sponsor\":\"m%u\"}\n", i, i, i / 2);
  guint n = 0;
  /* Arenas that fill before 256 events, at every other byte count. */
  for (; n < 300; n++)
    {
      g_autofree char *id = g_strdup_printf ("a%u", n);
      g_autofree char *m = g_strdup_printf ("m%u", n % 100);
      append_order_of_length (file, id, m, 200 + (n * 997) % 4000, n % 3 == 0);
    }
  /* Around 64 KiB - 10: the longest line an empty arena takes, and longer. */
  for (gsize len = 65520; len <= 65532; len++, n++)
    {
      g_autofree char *id = g_strdup_printf ("a%u", n);
      g_autofree char *m = g_strdup_printf ("m%u", n % 100);
      append_order_of_length (file, id, m, len, len % 2 == 0);
      if (len % 3 == 0)
        g_string_append_printf (file, "{\"type\":\"join\",\"id\":\"s%zu\",\"member\":\"s%zu\"}\n",
                                len, len);
    }
  /* A long bad line after an event, two in a row, a long rejected event. */
  g_string_append (file, "{\"type\":\"join\",\"id\":\"q1\",\"member\":\"q1\"}\n{\"type\":\"join\",\"id\":\"");
  for (guint k = 0; k < 70000; k++)
    g_string_append_c (file, 'u');
  g_string_append (file, "\n{\"type\":\"join\",\"id\":\"x\",\"member\":\"x\"");
  for (guint k = 0; k < 70000; k++)
    g_string_append_c (file, ' ');
  g_string_append (file, ",oops}\n");
  append_order_of_length (file, "r1", "nobody", 70000, FALSE);
  append_order_of_length (file, "r2", "m5", 70000, TRUE);
  for (guint i = 0; i < 100; i++, n++)
    {
      g_autofree char *id = g_strdup_printf ("a%u", n);
      g_autofree char *m = g_strdup_printf ("m%u", n % 100);
      append_order_of_length (file, id, m, 120, FALSE);
    }
  g_autofree char *path = write_tmp ("arenas.jsonl", file->str);
  g_string_free (file, TRUE);

  static const ReferralRunFlags modes[] = {
    REFERRAL_RUN_KEEP_GOING, REFERRAL_RUN_STOP_AT_ERROR,
    REFERRAL_RUN_KEEP_GOING | REFERRAL_RUN_ONE_THREAD,
  };
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      g_autoptr (ReferralEngine) a = tu_demo_engine ();
      ReferralRunStats sa = run_matches_reference (path, modes[m], a);
      if (modes[m] & REFERRAL_RUN_KEEP_GOING)
        {
          /* the two bad lines and the rejected order; the joins, the
           * orders, 5 short joins, q1 and r2 applied */
          ck_assert_uint_eq (sa.errors, 3);
          ck_assert_uint_eq (sa.applied, 100 + n + 7);
        }
    }
}
END_TEST

static Suite *
jsonl_suite (void)
{
  Suite *s = suite_create ("jsonl");
  TCase *tc = tu_tcase (s, "fields", 30);
  tcase_add_test (tc, test_every_type);
  tcase_add_test (tc, test_key_order_and_space);
  tcase_add_loop_test (tc, test_amount_good, 0, G_N_ELEMENTS (good_amounts));
  tcase_add_test (tc, test_amount_fingerprints_differ);
  tcase_add_test (tc, test_amount_matches_money_parse);
  tcase_add_loop_test (tc, test_amount_bad, 0, G_N_ELEMENTS (bad_amounts));
  tcase_add_loop_test (tc, test_field_bad, 0, G_N_ELEMENTS (bad_fields));

  tc = tu_tcase (s, "syntax", 60);
  tcase_add_loop_test (tc, test_json_bad, 0, G_N_ELEMENTS (bad_json));
  tcase_add_test (tc, test_nul_byte);
  tcase_add_test (tc, test_deep_nesting);
  tcase_add_test (tc, test_string_escapes);
  tcase_add_test (tc, test_long_line);
  tcase_add_test (tc, test_differential_json_glib);
  tcase_add_test (tc, test_mutations_accepted_only_if_json);
  tcase_add_loop_test (tc, test_scan_offsets, 0, G_N_ELEMENTS (specials));
  tcase_add_loop_test (tc, test_keys_near_fields, 0, G_N_ELEMENTS (near_keys));
  tcase_add_loop_test (tc, test_utf8_checked_first, 0, G_N_ELEMENTS (utf8_first));
  tcase_add_test (tc, test_nul_before_later_errors);

  tc = tu_tcase (s, "lines", 30);
  tcase_add_test (tc, test_blank_and_comment_lines);
  tcase_add_test (tc, test_crlf_and_no_final_newline);
  tcase_add_test (tc, test_strings_until_next_call);

  tc = tu_tcase (s, "files", 30);
  tcase_add_checked_fixture (tc, setup_tmp, teardown_tmp);
  tcase_add_test (tc, test_file_reader);
  tcase_add_test (tc, test_file_errors);
  tcase_add_test (tc, test_apply_stops_at_first_error);
  tcase_add_test (tc, test_apply_keep_going);
  tcase_add_test (tc, test_apply_id_conflict);
  tcase_add_test (tc, test_apply_all_good);
  tcase_add_test (tc, test_apply_batches_match_one_by_one);
  tcase_add_test (tc, test_apply_unreadable);

  tc = tu_tcase (s, "blocks", 120);
  tcase_add_checked_fixture (tc, setup_tmp, teardown_tmp);
  tcase_add_test (tc, test_block_boundaries);
  tcase_add_test (tc, test_apply_arena_boundaries);
  return s;
}

int
main (void)
{
  return tu_run_suites (jsonl_suite (), NULL);
}
