/* Money and rates: the one parser, the one formatter, exact arithmetic. */
#include "testutil.h"

#include <string.h>

/* Parses @text and checks the result is @want minor units. */
#define parse_ok(text, dec, neg, want) parse_ok_at (__FILE__, __LINE__, (text), (dec), (neg), (want))
static void
parse_ok_at (const char *file, int line, const char *text, guint decimals,
             gboolean allow_negative, gint64 want)
{
  g_autoptr (GError) err = NULL;
  gint64 got = 12345;
  if (!referral_money_parse (text, decimals, allow_negative, &got, &err))
    _ck_assert_failed (file, line, "parse failed", "parse \"%s\" (%u decimals): %s",
                       text, decimals, err->message);
  if (got != want)
    _ck_assert_failed (file, line, "wrong amount",
                       "parse \"%s\" (%u decimals) gave %" G_GINT64_FORMAT
                       ", want %" G_GINT64_FORMAT, text, decimals, got, want);
}

/* Parses @text, expects failure with @code and a message containing @why
 * (and the text itself); the output must be untouched. */
#define parse_bad(text, dec, neg, code, why) \
  parse_bad_at (__FILE__, __LINE__, (text), (dec), (neg), (code), (why))
static void
parse_bad_at (const char *file, int line, const char *text, guint decimals,
              gboolean allow_negative, int code, const char *why)
{
  g_autoptr (GError) err = NULL;
  gint64 got = 777;
  if (referral_money_parse (text, decimals, allow_negative, &got, &err))
    _ck_assert_failed (file, line, "parse accepted",
                       "parse \"%s\" (%u decimals) accepted as %" G_GINT64_FORMAT,
                       text, decimals, got);
  tu_assert_error_at (file, line, err, code, NULL);
  if (got != 777)
    _ck_assert_failed (file, line, "output written", "failed parse of \"%s\" wrote %"
                       G_GINT64_FORMAT, text, got);
  g_autofree char *quoted = g_strdup_printf ("\"%s\"", text);
  tu_assert_contains_at (file, line, err->message, quoted);
  if (why != NULL)
    tu_assert_contains_at (file, line, err->message, why);
}

#define format_is(minor, dec, want) format_is_at (__FILE__, __LINE__, (minor), (dec), (want))
static void
format_is_at (const char *file, int line, gint64 minor, guint decimals, const char *want)
{
  char buf[REFERRAL_MONEY_BUF_SIZE];
  memset (buf, 'x', sizeof buf);
  char *r = referral_money_format_buf (minor, decimals, buf);
  if (r != buf)
    _ck_assert_failed (file, line, "wrong buffer", "format_buf did not return buf");
  if (strcmp (buf, want) != 0)
    _ck_assert_failed (file, line, "wrong text", "format %" G_GINT64_FORMAT
                       " (%u decimals) gave \"%s\", want \"%s\"", minor, decimals,
                       buf, want);
  g_autofree char *dup = referral_money_format (minor, decimals);
  if (strcmp (dup, want) != 0)
    _ck_assert_failed (file, line, "wrong text", "format() gave \"%s\", want \"%s\"",
                       dup, want);
}

START_TEST (test_parse_good)
{
  parse_ok ("699", 2, FALSE, 69900);
  parse_ok ("699.00", 2, FALSE, 69900);
  parse_ok ("699.5", 2, FALSE, 69950);
  parse_ok ("0.05", 2, FALSE, 5);
  parse_ok ("0", 2, FALSE, 0);
  parse_ok ("0.00", 2, FALSE, 0);
  parse_ok ("007.10", 2, FALSE, 710);
  parse_ok ("1", 0, FALSE, 1);
  parse_ok ("123456", 0, FALSE, 123456);
  parse_ok ("1.5", 1, FALSE, 15);
  parse_ok ("0.000000001", 9, FALSE, 1);
  parse_ok ("9.223372036", 9, FALSE, G_GINT64_CONSTANT (9223372036));
  parse_ok ("-1.50", 2, TRUE, -150);
  parse_ok ("-0.05", 2, TRUE, -5);
  parse_ok ("-7", 0, TRUE, -7);
  parse_ok ("12.3", 3, FALSE, 12300);
}
END_TEST

START_TEST (test_parse_limits)
{
  /* G_MAXINT64 = 9223372036854775807 minor units. */
  parse_ok ("92233720368547758.07", 2, FALSE, G_MAXINT64);
  parse_ok ("9223372036854775807", 0, FALSE, G_MAXINT64);
  parse_ok ("9223372036.854775807", 9, FALSE, G_MAXINT64);
  parse_ok ("-92233720368547758.07", 2, TRUE, -G_MAXINT64);
  parse_bad ("92233720368547758.08", 2, FALSE, REFERRAL_ERROR_OVERFLOW, NULL);
  parse_bad ("9223372036854775808", 0, FALSE, REFERRAL_ERROR_OVERFLOW, NULL);
  parse_bad ("92233720368547759", 2, FALSE, REFERRAL_ERROR_OVERFLOW, NULL);
  parse_bad ("99999999999999999999999999999999", 0, FALSE, REFERRAL_ERROR_OVERFLOW, NULL);
  parse_bad ("9223372037", 9, FALSE, REFERRAL_ERROR_OVERFLOW, NULL);
  parse_bad ("-92233720368547758.09", 2, TRUE, REFERRAL_ERROR_OVERFLOW, NULL);
}
END_TEST

/* G_MININT64 is an int64, so its text must parse (the header promises an
 * overflow error only "when the amount does not fit in int64"). */
START_TEST (test_parse_minimum)
{
  parse_ok ("-92233720368547758.08", 2, TRUE, G_MININT64);
  parse_ok ("-9223372036854775808", 0, TRUE, G_MININT64);
}
END_TEST

START_TEST (test_parse_bad_forms)
{
  const guint d = 2;
  parse_bad ("6.999", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, "more than 2 decimals");
  parse_bad ("0.001", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, "more than 2 decimals");
  parse_bad ("1.0000000000000000000000000", d, FALSE, REFERRAL_ERROR_INVALID_MONEY,
             "more than 2 decimals");
  parse_bad ("1.25", 1, FALSE, REFERRAL_ERROR_INVALID_MONEY, "more than 1 decimal");
  parse_bad ("1e5", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, "exponent");
  parse_bad ("1.5e3", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, "exponent");
  parse_bad ("1E2", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, "exponent");
  parse_bad ("+5", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, "sign");
  parse_bad ("+5", d, TRUE, REFERRAL_ERROR_INVALID_MONEY, "sign");
  parse_bad ("-5", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, "sign");
  parse_bad ("-0.01", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, "sign");
  parse_bad ("", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("", d, TRUE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad (".5", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("5.", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad (".", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("-", d, TRUE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("-.5", d, TRUE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("--5", d, TRUE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("-+5", d, TRUE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad (" 5", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("5 ", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("5 .00", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("5\t", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("- 5", d, TRUE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("abc", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("5a", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("0x10", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("1,000", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("1_000", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("1'000", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("5,00", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("1.2.3", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("inf", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("NaN", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("5%", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("\xef\xbc\x95", d, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL); /* fullwidth 5 */
}
END_TEST

START_TEST (test_parse_zero_decimals)
{
  parse_ok ("5", 0, FALSE, 5);
  parse_ok ("0", 0, FALSE, 0);
  parse_bad ("5.0", 0, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("5.5", 0, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("5.", 0, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad (".5", 0, FALSE, REFERRAL_ERROR_INVALID_MONEY, NULL);
  parse_bad ("-5.0", 0, TRUE, REFERRAL_ERROR_INVALID_MONEY, NULL);
}
END_TEST

START_TEST (test_format)
{
  format_is (69900, 2, "699.00");
  format_is (5, 2, "0.05");
  format_is (-5, 2, "-0.05");
  format_is (-150, 2, "-1.50");
  format_is (0, 2, "0.00");
  format_is (0, 0, "0");
  format_is (699, 0, "699");
  format_is (-699, 0, "-699");
  format_is (1, 9, "0.000000001");
  format_is (15, 1, "1.5");
  format_is (100, 2, "1.00");
  format_is (G_MAXINT64, 2, "92233720368547758.07");
  format_is (G_MININT64, 2, "-92233720368547758.08");
  format_is (G_MAXINT64, 0, "9223372036854775807");
  format_is (G_MININT64, 0, "-9223372036854775808");
  format_is (G_MININT64, 9, "-9223372036.854775808");
  /* The longest text fits the documented buffer. */
  ck_assert_uint_lt (strlen ("-9223372036.854775808") + 1, REFERRAL_MONEY_BUF_SIZE);
}
END_TEST

START_TEST (test_round_trip)
{
  /* format(parse(x)) == x for canonical texts, and parse(format(m)) == m. */
  static const char *canon[] = { "0.00", "0.01", "0.10", "1.00", "699.00", "12345.67",
                                 "92233720368547758.07", "-0.01", "-699.99", NULL };
  for (guint i = 0; canon[i]; i++)
    {
      gint64 m = 0;
      g_autoptr (GError) err = NULL;
      ck_assert_msg (referral_money_parse (canon[i], 2, TRUE, &m, &err), "%s: %s",
                     canon[i], err ? err->message : "");
      g_autofree char *back = referral_money_format (m, 2);
      ck_assert_str_eq (back, canon[i]);
    }
  const gint64 values[] = { 0, 1, -1, 9, 10, 99, 100, 101, 123456789, -987654321,
                            G_MAXINT64, G_MAXINT64 - 1, G_MININT64 + 1 };
  for (guint dec = 0; dec <= REFERRAL_MAX_DECIMALS; dec++)
    for (guint i = 0; i < G_N_ELEMENTS (values); i++)
      {
        char buf[REFERRAL_MONEY_BUF_SIZE];
        referral_money_format_buf (values[i], dec, buf);
        gint64 m = 0;
        g_autoptr (GError) err = NULL;
        ck_assert_msg (referral_money_parse (buf, dec, TRUE, &m, &err),
                       "parse of formatted \"%s\": %s", buf, err ? err->message : "");
        ck_assert_int_eq (m, values[i]);
      }
  /* Pseudo-random values, every decimals setting. */
  guint64 x = 0x9e3779b97f4a7c15u;
  for (guint i = 0; i < 20000; i++)
    {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      gint64 v = (gint64) (x >> (i % 60));
      if (i & 1)
        v = -v;
      guint dec = i % (REFERRAL_MAX_DECIMALS + 1);
      char buf[REFERRAL_MONEY_BUF_SIZE];
      referral_money_format_buf (v, dec, buf);
      gint64 m = 0;
      tu_check (referral_money_parse (buf, dec, TRUE, &m, NULL), "parse of \"%s\" failed", buf);
      tu_check (m == v, "\"%s\" parsed as %" G_GINT64_FORMAT ", want %" G_GINT64_FORMAT, buf, m, v);
    }
}
END_TEST

static ReferralRate
rate_ok (const char *text)
{
  ReferralRate r = { -1, -1 };
  g_autoptr (GError) err = NULL;
  ck_assert_msg (referral_rate_parse (text, &r, &err), "rate \"%s\": %s", text,
                 err ? err->message : "");
  ck_assert_msg (r.den > 0, "rate \"%s\" has denominator %" G_GINT64_FORMAT, text, r.den);
  /* The denominator is a power of ten. */
  gint64 d = r.den;
  while (d % 10 == 0)
    d /= 10;
  ck_assert_msg (d == 1, "rate \"%s\": denominator %" G_GINT64_FORMAT
                 " is not a power of ten", text, r.den);
  return r;
}

/* The rate parsed from @text is exactly @num / @den. */
#define rate_is(text, num, den) rate_is_at (__FILE__, __LINE__, (text), (num), (den))
static void
rate_is_at (const char *file, int line, const char *text, gint64 num, gint64 den)
{
  ReferralRate r = rate_ok (text);
  __extension__ __int128 lhs = (__int128) r.num * den, rhs = (__int128) num * r.den;
  if (lhs != rhs)
    _ck_assert_failed (file, line, "wrong rate", "rate \"%s\" is %" G_GINT64_FORMAT "/%"
                       G_GINT64_FORMAT ", want %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                       text, r.num, r.den, num, den);
}

#define rate_bad(text) rate_bad_at (__FILE__, __LINE__, (text))
static void
rate_bad_at (const char *file, int line, const char *text)
{
  ReferralRate r = { 77, 77 };
  g_autoptr (GError) err = NULL;
  if (referral_rate_parse (text, &r, &err))
    _ck_assert_failed (file, line, "rate accepted", "rate \"%s\" accepted as %"
                       G_GINT64_FORMAT "/%" G_GINT64_FORMAT, text, r.num, r.den);
  tu_assert_error_at (file, line, err, REFERRAL_ERROR_INVALID_RATE, NULL);
  g_autofree char *quoted = g_strdup_printf ("\"%s\"", text);
  tu_assert_contains_at (file, line, err->message, quoted);
}

START_TEST (test_rate_parse)
{
  rate_is ("5%", 5, 100);
  rate_is ("12.5%", 125, 1000);
  rate_is ("0.05", 5, 100);
  rate_is ("0.125", 125, 1000);
  rate_is ("1", 1, 1);
  rate_is ("0", 0, 1);
  rate_is ("0%", 0, 1);
  rate_is ("100%", 1, 1);
  rate_is ("150%", 3, 2);
  rate_is ("2.5", 25, 10);
  rate_is ("0.000000000001", 1, G_GINT64_CONSTANT (1000000000000));
  rate_is ("33.3333333333%", G_GINT64_CONSTANT (333333333333),
           G_GINT64_CONSTANT (1000000000000));
  rate_bad ("");
  rate_bad ("%");
  rate_bad ("-5%");
  rate_bad ("+5%");
  rate_bad ("-0.05");
  rate_bad ("5e-2");
  rate_bad ("1E1%");
  rate_bad ("5%%");
  rate_bad ("%5");
  rate_bad ("abc");
  rate_bad ("5 %");
  rate_bad (" 5%");
  rate_bad ("5% ");
  rate_bad (".05");
  rate_bad ("5.%");
  rate_bad ("0.0.5");
  rate_bad ("1,5%");
  rate_bad ("0.1234567890123"); /* 13 decimals */
  rate_bad ("five");
}
END_TEST

START_TEST (test_rate_format)
{
  static const struct { const char *in, *out; } cases[] = {
    { "5%", "5%" }, { "0.05", "5%" }, { "12.5%", "12.5%" }, { "0.125", "12.5%" },
    { "1", "100%" }, { "150%", "150%" }, { "0", "0%" }, { "0.001", "0.1%" },
    { "10%", "10%" }, { "0.10", "10%" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      ReferralRate r = rate_ok (cases[i].in);
      g_autofree char *s = referral_rate_format (r);
      ck_assert_msg (g_strcmp0 (s, cases[i].out) == 0, "format of \"%s\" gave \"%s\", want \"%s\"",
                     cases[i].in, s, cases[i].out);
      /* And the formatted text parses back to the same rate. */
      ReferralRate back = rate_ok (s);
      ck_assert_msg ((__extension__ (__int128) back.num * r.den)
                     == (__extension__ (__int128) r.num * back.den),
                     "\"%s\" does not parse back to \"%s\"", s, cases[i].in);
    }
}
END_TEST

#define apply_is(rate_text, amount, want) apply_is_at (__FILE__, __LINE__, (rate_text), (amount), (want))
static void
apply_is_at (const char *file, int line, const char *rate_text, gint64 amount, gint64 want)
{
  ReferralRate r = rate_ok (rate_text);
  gint64 out = 4242;
  g_autoptr (GError) err = NULL;
  if (!referral_rate_apply (r, amount, &out, &err))
    _ck_assert_failed (file, line, "apply failed", "%s of %" G_GINT64_FORMAT ": %s",
                       rate_text, amount, err->message);
  if (out != want)
    _ck_assert_failed (file, line, "wrong result", "%s of %" G_GINT64_FORMAT " gave %"
                       G_GINT64_FORMAT ", want %" G_GINT64_FORMAT, rate_text, amount,
                       out, want);
}

START_TEST (test_rate_apply)
{
  apply_is ("5%", 69900, 3495);
  apply_is ("5%", 999, 49);     /* 49.95 -> 49 */
  apply_is ("5%", 19, 0);       /* 0.95 -> 0 */
  apply_is ("12.5%", 1001, 125); /* 125.125 -> 125 */
  apply_is ("33.3333333333%", 300, 99); /* 99.9999999999 -> 99 */
  apply_is ("10%", 0, 0);
  apply_is ("0", 123456, 0);
  apply_is ("100%", 123456, 123456);
  apply_is ("150%", 3, 4);      /* 4.5 -> 4 */
  /* Toward zero for negative amounts: -49.95 -> -49, not -50. */
  apply_is ("5%", -999, -49);
  apply_is ("150%", -3, -4);
  apply_is ("5%", -19, 0);
  /* Exact with a 128-bit intermediate: no overflow of amount * num. */
  apply_is ("5%", G_MAXINT64, G_MAXINT64 / 20);
  apply_is ("99.9999999999%", G_MAXINT64,
            (gint64) ((__extension__ (__int128) G_MAXINT64 * G_GINT64_CONSTANT (999999999999))
                      / G_GINT64_CONSTANT (1000000000000)));
  apply_is ("100%", G_MININT64, G_MININT64);
  apply_is ("1", G_MAXINT64, G_MAXINT64);

  ReferralRate r = rate_ok ("200%");
  gint64 out = 4242;
  g_autoptr (GError) err = NULL;
  ck_assert (!referral_rate_apply (r, G_MAXINT64 / 2 + 1, &out, &err));
  assert_error (err, REFERRAL_ERROR_OVERFLOW, NULL);
  g_clear_error (&err);
  ck_assert (!referral_rate_apply (r, G_MININT64 / 2 - 1, &out, &err));
  assert_error (err, REFERRAL_ERROR_OVERFLOW, NULL);
  g_clear_error (&err);
  ck_assert (referral_rate_apply (r, G_MAXINT64 / 2, &out, &err));
  ck_assert_int_eq (out, G_MAXINT64 - 1);
}
END_TEST

START_TEST (test_add_sub)
{
  gint64 out = 99;
  ck_assert (referral_money_add (2, 3, &out));
  ck_assert_int_eq (out, 5);
  ck_assert (referral_money_add (G_MAXINT64, 0, &out));
  ck_assert_int_eq (out, G_MAXINT64);
  ck_assert (referral_money_add (G_MAXINT64, G_MININT64, &out));
  ck_assert_int_eq (out, -1);
  out = 99;
  ck_assert (!referral_money_add (G_MAXINT64, 1, &out));
  ck_assert_int_eq (out, 99);
  ck_assert (!referral_money_add (G_MININT64, -1, &out));
  ck_assert (!referral_money_add (G_MAXINT64 / 2 + 1, G_MAXINT64 / 2 + 1, &out));
  ck_assert_int_eq (out, 99);

  ck_assert (referral_money_sub (5, 7, &out));
  ck_assert_int_eq (out, -2);
  ck_assert (referral_money_sub (G_MININT64 + 1, 1, &out));
  ck_assert_int_eq (out, G_MININT64);
  out = 99;
  ck_assert (!referral_money_sub (G_MININT64, 1, &out));
  ck_assert (!referral_money_sub (0, G_MININT64, &out));
  ck_assert (!referral_money_sub (G_MAXINT64, -1, &out));
  ck_assert_int_eq (out, 99);
}
END_TEST

START_TEST (test_mul_div)
{
  gint64 out = 99;
  ck_assert (referral_money_mul_div (7, 3, 2, &out));
  ck_assert_int_eq (out, 10);   /* 10.5 -> 10 */
  ck_assert (referral_money_mul_div (-7, 3, 2, &out));
  ck_assert_int_eq (out, -10);  /* -10.5 -> -10 toward zero */
  ck_assert (referral_money_mul_div (7, -3, 2, &out));
  ck_assert_int_eq (out, -10);
  ck_assert (referral_money_mul_div (7, 3, -2, &out));
  ck_assert_int_eq (out, -10);
  ck_assert (referral_money_mul_div (G_MAXINT64, G_MAXINT64, G_MAXINT64, &out));
  ck_assert_int_eq (out, G_MAXINT64);
  ck_assert (referral_money_mul_div (G_MAXINT64, 3, 4, &out));
  ck_assert_int_eq (out, (gint64) ((__extension__ (__int128) G_MAXINT64 * 3) / 4));
  ck_assert (referral_money_mul_div (G_MININT64, 1, 1, &out));
  ck_assert_int_eq (out, G_MININT64);
  out = 99;
  ck_assert (!referral_money_mul_div (G_MAXINT64, 2, 1, &out));
  ck_assert (!referral_money_mul_div (G_MININT64, -1, 1, &out));
  ck_assert (!referral_money_mul_div (G_MAXINT64, G_MAXINT64, 2, &out));
  ck_assert_int_eq (out, 99);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("money");
  TCase *tc = tu_tcase (s, "parse", 30);
  tcase_add_test (tc, test_parse_good);
  tcase_add_test (tc, test_parse_limits);
  tcase_add_test (tc, test_parse_minimum);
  tcase_add_test (tc, test_parse_bad_forms);
  tcase_add_test (tc, test_parse_zero_decimals);
  tc = tu_tcase (s, "format", 30);
  tcase_add_test (tc, test_format);
  tcase_add_test (tc, test_round_trip);
  tc = tu_tcase (s, "rate", 30);
  tcase_add_test (tc, test_rate_parse);
  tcase_add_test (tc, test_rate_format);
  tcase_add_test (tc, test_rate_apply);
  tc = tu_tcase (s, "arith", 30);
  tcase_add_test (tc, test_add_sub);
  tcase_add_test (tc, test_mul_div);
  return tu_run_suites (s, NULL);
}
