/* JSON Lines event files (shared/spec/events.md): the reader and the runner
 * behind `referral run`.
 *
 * Each line holds one flat JSON object.  The line is parsed here by a small,
 * strict RFC 8259 parser rather than by JsonParser, for three reasons found
 * by trying json-glib 1.6 on event lines:
 *   - money: it reads 0x10 as 16, and integers past int64 come back wrong
 *     without an error (9223372036854775808 as -9223372036854775808,
 *     99999999999999999999 as -1); nor does it keep how a number was
 *     written, which the idempotency fingerprint needs;
 *   - strictness: it accepts comments, single-quoted strings, text after the
 *     object, raw control characters in strings, cuts a string at \u0000,
 *     and silently keeps the last of two equal keys; the spec wants every
 *     such line refused;
 *   - speed: about 6 us per line with a GObject tree per line, where this
 *     parser takes about 0.6 us and allocates nothing once its buffers have
 *     grown.
 * tests/test-jsonl.c checks this parser against json-glib: lines json-glib
 * writes read back the same, and every line this parser accepts is JSON to
 * json-glib with the same strings.
 * Event objects are flat, so the parser keeps only top-level members and
 * merely validates nested values (which are type errors anyway).
 *
 * A named file is read with read(2) in blocks of READ_BLOCK bytes and each
 * line is parsed where it lies in the block; standard input goes through
 * stdio's getline() (a host may have read part of it with stdio already).
 * Decoded strings are written to a buffer the caller of parse_line() sizes
 * to the line (PARSE_ROOM bounds them), so that pointers into it stay
 * valid: the reader's scratch buffer for referral_jsonl_reader_next(),
 * whose events borrow them until the next call, or, for the runner,
 * straight into the arena of the batch the event goes to.
 *
 * Every line handed to the parser is followed by a NUL (written over its
 * '\n' or the '\r' of a CRLF, or kept after the data), so that scanning
 * white space or a string stops at the end of the line without a bounds
 * check per byte; strings are scanned 8 bytes at a time where 8 are left.
 * The line is not checked as UTF-8 before it is parsed: a line that parses
 * and has no byte >= 0x80 (the parser notes any in its strings; outside
 * strings it refuses them) is ASCII without NULs and so valid UTF-8; any
 * other line is checked with g_utf8_validate_len() before any other error
 * is reported, as if it had been checked first. */
#include <referral/error.h>
#include <referral/jsonl.h>
#include <referral/money.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The fields an event object may have, in the order they are checked (so
 * that the first error reported for a line does not depend on key order). */
typedef enum {
  FIELD_TYPE,
  FIELD_ID,
  FIELD_TIME,
  FIELD_MEMBER,
  FIELD_SPONSOR,
  FIELD_ORDER,
  FIELD_AMOUNT,
  FIELD_SKU,
  FIELD_PERIOD,
  FIELD_OLD,
  FIELD_NEW,
  FIELD_RANK,
  N_FIELDS
} Field;

typedef struct {
  const char *name;
  gsize len;
} FieldName;

#define FIELD_NAME(s) { s, sizeof s - 1 }
static const FieldName field_names[N_FIELDS] = {
  FIELD_NAME ("type"), FIELD_NAME ("id"), FIELD_NAME ("time"),
  FIELD_NAME ("member"), FIELD_NAME ("sponsor"), FIELD_NAME ("order"),
  FIELD_NAME ("amount"), FIELD_NAME ("sku"), FIELD_NAME ("period"),
  FIELD_NAME ("old"), FIELD_NAME ("new"), FIELD_NAME ("rank"),
};

/* The same names, each padded with NULs to 8 bytes (for parse_key()). */
static const char field_words[N_FIELDS][8] = {
  "type", "id", "time", "member", "sponsor", "order", "amount", "sku", "period",
  "old", "new", "rank",
};

#define BIT(f) (1u << (f))
#define ALWAYS_FIELDS (BIT (FIELD_TYPE) | BIT (FIELD_ID))

typedef struct {
  const char *name;
  ReferralEventType type;
  const char *command;  /* for REFERRAL_EVENT_COMMAND */
  Field key;            /* the field that names the event in messages */
  guint32 required;     /* besides type and id */
  guint32 optional;     /* besides time */
} EventSpec;

static const EventSpec event_specs[] = {
  { "join", REFERRAL_EVENT_JOIN, NULL, FIELD_MEMBER,
    BIT (FIELD_MEMBER), BIT (FIELD_SPONSOR) },
  { "order", REFERRAL_EVENT_ORDER, NULL, FIELD_ORDER,
    BIT (FIELD_ORDER) | BIT (FIELD_MEMBER) | BIT (FIELD_AMOUNT), BIT (FIELD_SKU) },
  { "refund", REFERRAL_EVENT_REFUND, NULL, FIELD_ORDER,
    BIT (FIELD_ORDER), 0 },
  { "period_close", REFERRAL_EVENT_PERIOD_CLOSE, NULL, FIELD_PERIOD,
    BIT (FIELD_PERIOD), 0 },
  { "transpose", REFERRAL_EVENT_COMMAND, "transpose", FIELD_MEMBER,
    BIT (FIELD_MEMBER) | BIT (FIELD_OLD) | BIT (FIELD_NEW), 0 },
  { "withdraw", REFERRAL_EVENT_WITHDRAW, NULL, FIELD_MEMBER,
    BIT (FIELD_MEMBER) | BIT (FIELD_AMOUNT), 0 },
  { "promote", REFERRAL_EVENT_PROMOTE, NULL, FIELD_MEMBER,
    BIT (FIELD_MEMBER) | BIT (FIELD_RANK), 0 },
};

/* What a top-level value was, for type checks and messages. */
typedef enum {
  VALUE_STRING,
  VALUE_INTEGER,   /* a JSON number without fraction or exponent */
  VALUE_FRACTION,  /* a JSON number with a fraction, no exponent */
  VALUE_EXPONENT,  /* a JSON number with an exponent */
  VALUE_BOOLEAN,
  VALUE_NULL,
  VALUE_OBJECT,
  VALUE_ARRAY
} ValueKind;

static const char *const value_kind_names[] = {
  "a string", "a number", "a number", "a number", "a boolean", "null",
  "an object", "an array",
};

typedef struct {
  ValueKind kind;
  const char *text; /* decoded string, or the number as written; NUL-terminated
                       in the scratch buffer; NULL for other kinds */
} Value;

/* Nested values deeper than this are refused rather than recursed into. */
#define MAX_DEPTH 64

/* What read(2) asks for at a time; a block grows (doubling) only to hold a
 * line longer than it. */
#define READ_BLOCK (128 * 1024)

struct _ReferralJsonlReader {
  char *name;
  guint decimals;
  int fd;              /* a named file, read with read(2); -1 otherwise */
  FILE *file;          /* standard input, read with getline(); NULL otherwise */
  /* A named file: the block read last, from the start of the line not yet
   * returned; a reader over data: the copy of the data.  buf[buf_len] is
   * always a NUL, followed by LINE_SLACK zeros (1 + LINE_SLACK bytes more
   * are allocated). */
  char *buf;
  gsize buf_cap;       /* bytes it can hold, the NUL not counted */
  gsize buf_pos;       /* the next line starts here */
  gsize buf_len;       /* bytes in it */
  gsize buf_scan;      /* bytes from buf_pos known to hold no '\n' */
  gboolean at_eof;     /* no more to read (a reader over data: always) */
  gsize slack;         /* LINE_SLACK, or 0 for standard input */
  int read_errno;      /* a read error to report once the bytes before it are */
  char *line;          /* getline()'s buffer, for standard input */
  size_t line_cap;
  char *scratch;       /* decoded strings of the current line */
  gsize scratch_cap;
  guint64 line_no;
};

/* ---------------------------------------------------------------- parser */

typedef struct {
  const char *p;
  const char *end;   /* the end of the line; *end is a NUL */
  const char *words_end; /* 8-byte words may be read up to here: @end, or
                            LINE_SLACK bytes after the NUL */
  char *out;         /* next free byte of the output buffer */
  const char *why;   /* the first syntax error, or NULL */
  const char *where; /* where it was found */
  gboolean high;     /* a string held a byte >= 0x80 */
} Parser;

/* Classes of bytes: what ends the plain run of a string (a quote, a
 * backslash, a control character: CC_STOP; a byte >= 0x80: CC_HIGH) and
 * JSON white space (CC_SPACE). */
#define CC_STOP 1
#define CC_HIGH 2
#define CC_SPACE 4
#define CC_ROW_HIGH CC_HIGH, CC_HIGH, CC_HIGH, CC_HIGH, CC_HIGH, CC_HIGH, CC_HIGH, \
  CC_HIGH, CC_HIGH, CC_HIGH, CC_HIGH, CC_HIGH, CC_HIGH, CC_HIGH, CC_HIGH, CC_HIGH
static const guint8 char_class[256] = {
  /* 0x00 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 | CC_SPACE, 1 | CC_SPACE, 1, 1, 1 | CC_SPACE, 1, 1,
  /* 0x10 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  /* 0x20 */ CC_SPACE, 0, CC_STOP, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  /* 0x30 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  /* 0x40 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  /* 0x50 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, CC_STOP, 0, 0, 0,
  /* 0x60 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  /* 0x70 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  CC_ROW_HIGH, CC_ROW_HIGH, CC_ROW_HIGH, CC_ROW_HIGH,
  CC_ROW_HIGH, CC_ROW_HIGH, CC_ROW_HIGH, CC_ROW_HIGH,
};

static gboolean
syntax_error (Parser *ps, const char *why)
{
  if (ps->why == NULL)
    {
      ps->why = why;
      ps->where = ps->p;
    }
  return FALSE;
}

/* The line ends with a NUL, which is no space. */
static void
skip_space (Parser *ps)
{
  while (char_class[(guchar) *ps->p] & CC_SPACE)
    ps->p++;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Reads the 4 hex digits of a \u escape at ps->p. */
static gboolean
parse_hex4 (Parser *ps, guint32 *out)
{
  if (ps->end - ps->p < 4)
    return syntax_error (ps, "incomplete \\u escape");
  guint32 v = 0;
  for (int i = 0; i < 4; i++)
    {
      int h = hex_value (ps->p[i]);
      if (h < 0)
        return syntax_error (ps, "bad \\u escape");
      v = v * 16 + (guint32) h;
    }
  ps->p += 4;
  *out = v;
  return TRUE;
}

#if G_BYTE_ORDER == G_LITTLE_ENDIAN && defined (__GNUC__)
#define SCAN_WORDS 1
#define ONES G_GUINT64_CONSTANT (0x0101010101010101)
#define HIGHS G_GUINT64_CONSTANT (0x8080808080808080)

/* Returns: the high bit of each byte of @x (8 bytes read from memory) that
 * is a quote, a backslash, below 0x20 or >= 0x80, and maybe of some bytes
 * after the first such one, but of none before it.  Below the first such
 * byte no subtraction borrows and none sets a high bit: a byte in 0x20..0x7f
 * minus 0x20 stays below 0x60, and one that is no quote (backslash) XOR the
 * quote (backslash) is 1..0x7f before the 1 is taken off.  A byte >= 0x80
 * is flagged by x itself, whatever the rest gives for it. */
static inline guint64
special_bytes (guint64 x)
{
  guint64 quote = x ^ (ONES * '"');
  guint64 slash = x ^ (ONES * '\\');
  return ((x - ONES * 0x20) | (quote - ONES) | (slash - ONES) | x) & HIGHS;
}

/* Returns: the index of the first byte flagged in @m (not 0). */
static inline gsize
first_flagged (guint64 m)
{
  return (gsize) __builtin_ctzll (m) >> 3;
}
#endif

/* Returns: the first byte from @q on that is a quote, a backslash, below
 * 0x20 or >= 0x80 (the NUL at the end of the line is one), copying the
 * bytes before it to *@o and moving *@o past them.  8 bytes at a time
 * while 8 can be read before @end; *@o must then have room for 8 more
 * bytes than it is given. */
static inline const char *
copy_plain (const char *q, const char *end, char **o)
{
  char *out = *o;
#ifdef SCAN_WORDS
  while (end - q >= 8)
    {
      guint64 x, m;
      memcpy (&x, q, 8);
      memcpy (out, &x, 8);
      m = special_bytes (x);
      if (m != 0)
        {
          gsize k = first_flagged (m);
          *o = out + k;
          return q + k;
        }
      q += 8;
      out += 8;
    }
#endif
  while (!(char_class[(guchar) *q] & (CC_STOP | CC_HIGH)))
    *out++ = *q++;
  *o = out;
  return q;
}

/* Returns: as copy_plain(), without copying. */
static inline const char *
skip_plain (const char *q, const char *end)
{
#ifdef SCAN_WORDS
  while (end - q >= 8)
    {
      guint64 x, m;
      memcpy (&x, q, 8);
      m = special_bytes (x);
      if (m != 0)
        return q + first_flagged (m);
      q += 8;
    }
#endif
  while (!(char_class[(guchar) *q] & (CC_STOP | CC_HIGH)))
    q++;
  return q;
}

/* Parses the string at ps->p (on its opening quote), writes it decoded and
 * NUL-terminated at ps->out and sets *text to it.  Bytes other than quotes,
 * backslashes and control characters are copied as they are; one >= 0x80
 * sets ps->high (the line is checked as UTF-8 before it is used).  The byte
 * at ps->end is a NUL, so the plain run stops there. */
static gboolean
parse_string (Parser *ps, const char **text)
{
  ps->p++;
  char *o = ps->out;
  *text = o;
  for (;;)
    {
      const char *q = copy_plain (ps->p, ps->words_end, &o);
      while (char_class[(guchar) *q] & CC_HIGH)
        {
          ps->high = TRUE;
          *o++ = *q++;
          q = copy_plain (q, ps->words_end, &o);
        }
      ps->p = q;
      if (ps->p == ps->end)
        return syntax_error (ps, "unterminated string");
      if (*ps->p == '"')
        break;
      if (*ps->p != '\\')
        return syntax_error (ps, "control character in a string");
      ps->p++;
      if (ps->p == ps->end)
        return syntax_error (ps, "unterminated string");
      char c = *ps->p++;
      switch (c)
        {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u':
          {
            guint32 cp;
            if (!parse_hex4 (ps, &cp))
              return FALSE;
            if (cp >= 0xdc00 && cp <= 0xdfff)
              return syntax_error (ps, "unpaired surrogate in a \\u escape");
            if (cp >= 0xd800 && cp <= 0xdbff)
              {
                guint32 low;
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
                  return syntax_error (ps, "unpaired surrogate in a \\u escape");
                ps->p += 2;
                if (!parse_hex4 (ps, &low))
                  return FALSE;
                if (low < 0xdc00 || low > 0xdfff)
                  return syntax_error (ps, "unpaired surrogate in a \\u escape");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
              }
            if (cp == 0)
              return syntax_error (ps, "\\u0000 is not allowed in a string");
            o += g_unichar_to_utf8 ((gunichar) cp, o);
            break;
          }
        default:
          ps->p--;
          return syntax_error (ps, "bad escape in a string");
        }
    }
  ps->p++;
  *o++ = '\0';
  ps->out = o;
  return TRUE;
}

/* parse_string() with the common case inline: a string of plain bytes
 * whose closing quote is among the 8-byte words the line has left. */
static inline gboolean
parse_string_fast (Parser *ps, const char **text)
{
#ifdef SCAN_WORDS
  const char *q = ps->p + 1;
  char *o = ps->out;
  while (ps->words_end - q >= 8)
    {
      guint64 x, m;
      memcpy (&x, q, 8);
      memcpy (o, &x, 8);
      m = special_bytes (x);
      if (m != 0)
        {
          gsize k = first_flagged (m);
          if (q[k] != '"')
            break;
          o[k] = '\0';
          *text = ps->out;
          ps->out = o + k + 1;
          ps->p = q + k + 1;
          return TRUE;
        }
      q += 8;
      o += 8;
    }
#endif
  return parse_string (ps, text);
}

static gboolean
is_digit (const Parser *ps)
{
  return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

/* Parses a number with the JSON grammar
 *   -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * and copies it as written to the scratch buffer. */
static gboolean
parse_number (Parser *ps, Value *value)
{
  const char *start = ps->p;
  value->kind = VALUE_INTEGER;
  if (*ps->p == '-')
    ps->p++;
  if (!is_digit (ps))
    return syntax_error (ps, "bad number");
  if (*ps->p == '0')
    {
      ps->p++;
      if (is_digit (ps))
        return syntax_error (ps, "number with a leading zero");
    }
  else
    while (is_digit (ps))
      ps->p++;
  if (ps->p < ps->end && *ps->p == '.')
    {
      ps->p++;
      if (!is_digit (ps))
        return syntax_error (ps, "bad number");
      while (is_digit (ps))
        ps->p++;
      value->kind = VALUE_FRACTION;
    }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E'))
    {
      ps->p++;
      if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
        ps->p++;
      if (!is_digit (ps))
        return syntax_error (ps, "bad number");
      while (is_digit (ps))
        ps->p++;
      value->kind = VALUE_EXPONENT;
    }
  gsize len = (gsize) (ps->p - start);
  memcpy (ps->out, start, len);
  ps->out[len] = '\0';
  value->text = ps->out;
  ps->out += len + 1;
  return TRUE;
}

static gboolean
parse_literal (Parser *ps, const char *word)
{
  gsize len = strlen (word);
  if ((gsize) (ps->end - ps->p) < len || memcmp (ps->p, word, len) != 0)
    return syntax_error (ps, "unexpected character");
  ps->p += len;
  return TRUE;
}

static gboolean parse_value (Parser *ps, Value *value, int depth);

/* Parses the object or array at ps->p; only checks it. */
static gboolean
parse_container (Parser *ps, int depth)
{
  gboolean object = *ps->p == '{';
  char close = object ? '}' : ']';
  if (depth >= MAX_DEPTH)
    return syntax_error (ps, "values nested too deep");
  ps->p++;
  skip_space (ps);
  if (ps->p < ps->end && *ps->p == close)
    {
      ps->p++;
      return TRUE;
    }
  for (;;)
    {
      Value v;
      char *mark = ps->out; /* nested strings need not be kept */
      if (object)
        {
          const char *key;
          if (ps->p == ps->end || *ps->p != '"')
            return syntax_error (ps, "expected a string key");
          if (!parse_string (ps, &key))
            return FALSE;
          skip_space (ps);
          if (ps->p == ps->end || *ps->p != ':')
            return syntax_error (ps, "expected ':'");
          ps->p++;
          skip_space (ps);
        }
      if (!parse_value (ps, &v, depth + 1))
        return FALSE;
      ps->out = mark;
      skip_space (ps);
      if (ps->p < ps->end && *ps->p == ',')
        {
          ps->p++;
          skip_space (ps);
          continue;
        }
      if (ps->p < ps->end && *ps->p == close)
        {
          ps->p++;
          return TRUE;
        }
      return syntax_error (ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static gboolean
parse_value (Parser *ps, Value *value, int depth)
{
  value->text = NULL;
  if (ps->p == ps->end)
    return syntax_error (ps, "expected a value");
  switch (*ps->p)
    {
    case '"':
      value->kind = VALUE_STRING;
      return parse_string (ps, &value->text);
    case '{':
      value->kind = VALUE_OBJECT;
      return parse_container (ps, depth);
    case '[':
      value->kind = VALUE_ARRAY;
      return parse_container (ps, depth);
    case 't':
      value->kind = VALUE_BOOLEAN;
      return parse_literal (ps, "true");
    case 'f':
      value->kind = VALUE_BOOLEAN;
      return parse_literal (ps, "false");
    case 'n':
      value->kind = VALUE_NULL;
      return parse_literal (ps, "null");
    default:
      if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
        return parse_number (ps, value);
      return syntax_error (ps, "unexpected character");
    }
}

/* Returns: the only field the @len bytes at @name can name, going by the
 * length and a byte or two, or -1. */
static inline int
field_candidate (const char *name, gsize len)
{
  int f;
  switch (len)
    {
    case 2: f = FIELD_ID; break;
    case 3: f = name[0] == 's' ? FIELD_SKU : name[0] == 'o' ? FIELD_OLD : FIELD_NEW; break;
    case 4: f = name[0] == 'r' ? FIELD_RANK : name[1] == 'y' ? FIELD_TYPE : FIELD_TIME; break;
    case 5: f = FIELD_ORDER; break;
    case 6: f = name[0] == 'm' ? FIELD_MEMBER : name[0] == 'a' ? FIELD_AMOUNT : FIELD_PERIOD;
      break;
    case 7: f = FIELD_SPONSOR; break;
    default: return -1;
    }
  return f;
}

/* Returns: the field named by the @len bytes at @name, or -1. */
static int
lookup_field (const char *name, gsize len)
{
  int f = field_candidate (name, len);
  if (f < 0)
    return -1;
  /* Two loads that overlap when @len is not 2 or 4. */
  const char *want = field_names[f].name;
  if (len >= 4)
    {
      guint32 a, b, c, d;
      memcpy (&a, name, 4);
      memcpy (&b, want, 4);
      memcpy (&c, name + len - 4, 4);
      memcpy (&d, want + len - 4, 4);
      return a == b && c == d ? f : -1;
    }
  guint16 a, b, c, d;
  memcpy (&a, name, 2);
  memcpy (&b, want, 2);
  memcpy (&c, name + len - 2, 2);
  memcpy (&d, want + len - 2, 2);
  return a == b && c == d ? f : -1;
}

/* What the parser found in an event object. */
typedef struct {
  Value values[N_FIELDS]; /* the text of a field not seen is NULL */
  guint32 seen;           /* bit per field */
  guint32 unusable;       /* bit per field whose value is no non-empty string */
  const char *duplicate;  /* the first key given twice, or NULL */
  const char *unknown;    /* the first key that is no field, or NULL */
} Members;

/* Parses the key at ps->p (on its opening quote) and sets *@field to the
 * field it names or -1, and *@key to its decoded text: the field's name, or
 * for an unknown key a copy at ps->out.  A key without escapes or bytes
 * >= 0x80 (every key of a good line) is looked up where it lies. */
static gboolean
parse_key (Parser *ps, int *field, const char **key)
{
  const char *start = ps->p + 1;
#ifdef SCAN_WORDS
  /* A key of up to 7 plain bytes with its closing quote in the next 8
   * bytes: compared as one word with the field's name. */
  if (ps->words_end - start >= 8)
    {
      guint64 x, m;
      memcpy (&x, start, 8);
      m = special_bytes (x);
      if (m != 0)
        {
          gsize k = first_flagged (m);
          int f = field_candidate (start, k);
          if (start[k] == '"' && f >= 0)
            {
              guint64 want;
              memcpy (&want, field_words[f], 8);
              if ((x & ((G_GUINT64_CONSTANT (1) << (8 * k)) - 1)) == want)
                {
                  *field = f;
                  *key = field_names[f].name;
                  ps->p = start + k + 1;
                  return TRUE;
                }
            }
        }
    }
#endif
  const char *q = skip_plain (start, ps->words_end);
  if (*q == '"')
    {
      gsize len = (gsize) (q - start);
      int f = lookup_field (start, len);
      if (f >= 0)
        *key = field_names[f].name;
      else
        {
          memcpy (ps->out, start, len);
          ps->out[len] = '\0';
          *key = ps->out;
          ps->out += len + 1;
        }
      *field = f;
      ps->p = q + 1;
      return TRUE;
    }
  char *mark = ps->out;
  if (!parse_string (ps, key))
    return FALSE;
  /* The decoded key ends with the NUL just before ps->out (a \u0000
   * escape is refused, so it holds no other). */
  int f = lookup_field (*key, (gsize) (ps->out - 1 - *key));
  if (f >= 0)
    {
      ps->out = mark;
      *key = field_names[f].name;
    }
  *field = f;
  return TRUE;
}

/* Parses the line as one JSON object with nothing after it. */
static gboolean
parse_object (Parser *ps, Members *m)
{
  skip_space (ps);
  if (ps->p == ps->end || *ps->p != '{')
    {
      /* Tell "valid JSON, but not an object" from "not JSON". */
      Value v;
      if (parse_value (ps, &v, 0))
        {
          skip_space (ps);
          if (ps->p == ps->end)
            {
              ps->why = "the line is not a JSON object";
              ps->where = NULL;
              return FALSE;
            }
          return syntax_error (ps, "unexpected text after the value");
        }
      return FALSE;
    }
  ps->p++;
  skip_space (ps);
  if (ps->p < ps->end && *ps->p == '}')
    ps->p++;
  else
    for (;;)
      {
        const char *key;
        int f;
        Value v;
        /* The line ends with a NUL: no test of ps->end before looking
         * for what must come next; white space is skipped only when the
         * next byte is not what is expected. */
        if (*ps->p != '"')
          return syntax_error (ps, "expected a string key");
        if (!parse_key (ps, &f, &key))
          return FALSE;
        if (*ps->p != ':')
          {
            skip_space (ps);
            if (*ps->p != ':')
              return syntax_error (ps, "expected ':'");
          }
        ps->p++;
        if (*ps->p != '"')
          skip_space (ps);
        if (*ps->p == '"')
          {
            v.kind = VALUE_STRING;
            if (!parse_string_fast (ps, &v.text))
              return FALSE;
          }
        else if (!parse_value (ps, &v, 1))
          return FALSE;
        if (f < 0)
          {
            if (m->unknown == NULL)
              m->unknown = key;
          }
        else if (m->seen & BIT (f))
          {
            if (m->duplicate == NULL)
              m->duplicate = key;
          }
        else
          {
            m->seen |= BIT (f);
            m->values[f] = v;
            if (v.kind != VALUE_STRING || v.text[0] == '\0')
              m->unusable |= BIT (f);
          }
        if (*ps->p != ',' && *ps->p != '}')
          skip_space (ps);
        if (*ps->p == ',')
          {
            ps->p++;
            if (*ps->p != '"')
              skip_space (ps);
            continue;
          }
        if (*ps->p == '}')
          {
            ps->p++;
            break;
          }
        return syntax_error (ps, "expected ',' or '}'");
      }
  skip_space (ps);
  if (ps->p != ps->end)
    return syntax_error (ps, "unexpected text after the object");
  return TRUE;
}

/* ------------------------------------------------------------ validation */

/* Appends @text to @s as a quoted string: quotes, backslashes and control
 * characters escaped as in JSON, everything else (UTF-8 included) as is. */
static void
append_quoted (GString *s, const char *text)
{
  g_string_append_c (s, '"');
  for (const char *c = text; *c != '\0'; c++)
    {
      guchar b = (guchar) *c;
      if (b == '"' || b == '\\')
        {
          g_string_append_c (s, '\\');
          g_string_append_c (s, (char) b);
        }
      else if (b == '\n')
        g_string_append (s, "\\n");
      else if (b == '\t')
        g_string_append (s, "\\t");
      else if (b == '\r')
        g_string_append (s, "\\r");
      else if (b < 0x20 || b == 0x7f)
        g_string_append_printf (s, "\\u%04x", b);
      else
        g_string_append_c (s, (char) b);
    }
  g_string_append_c (s, '"');
}

/* Returns: (transfer full): @text quoted as by append_quoted(). */
static char *
dup_quoted (const char *text)
{
  GString *s = g_string_new (NULL);
  append_quoted (s, text);
  return g_string_free (s, FALSE);
}

static gboolean
usable_string (const Members *m, Field f)
{
  return (m->seen & BIT (f)) && m->values[f].kind == VALUE_STRING
         && m->values[f].text[0] != '\0';
}

/* Appends the name of the event in messages: `order "o9"`, or
 * `order event "e5"` when its key field is unusable, or `order event`. */
static void
append_event_name (GString *s, const EventSpec *spec, const Members *m)
{
  g_string_append (s, spec->name);
  if (usable_string (m, spec->key))
    {
      g_string_append_c (s, ' ');
      append_quoted (s, m->values[spec->key].text);
    }
  else if (usable_string (m, FIELD_ID))
    {
      g_string_append (s, " event ");
      append_quoted (s, m->values[FIELD_ID].text);
    }
  else
    g_string_append (s, " event");
}

/* Sets @error to the printf-style message, after the event's name and ": "
 * when @spec is not NULL.  Only built on failure: a good line costs no
 * allocation. */
G_GNUC_PRINTF (5, 6) static gboolean
event_error (GError **error, gint code, const EventSpec *spec, const Members *m,
             const char *format, ...)
{
  if (error == NULL)
    return FALSE;
  GString *s = g_string_new (NULL);
  if (spec != NULL)
    {
      append_event_name (s, spec, m);
      g_string_append (s, ": ");
    }
  va_list ap;
  va_start (ap, format);
  g_string_append_vprintf (s, format, ap);
  va_end (ap);
  g_set_error_literal (error, REFERRAL_ERROR, code, s->str);
  g_string_free (s, TRUE);
  return FALSE;
}

/* The common amount the way referral_money_parse() reads it, without its
 * 128-bit arithmetic: 1 to 15 digits, then optionally a point and 1 to
 * @decimals digits, with at most 18 digits once scaled to minor units (so
 * no overflow: 10^18 < 2^63).  Returns: FALSE, having done nothing, for any other text
 * (referral_money_parse() then decides, errors included). */
static gboolean
parse_plain_amount (const char *text, guint decimals, gint64 *minor)
{
  static const gint64 pow10[] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
    G_GINT64_CONSTANT (10000000000), G_GINT64_CONSTANT (100000000000),
    G_GINT64_CONSTANT (1000000000000), G_GINT64_CONSTANT (10000000000000),
    G_GINT64_CONSTANT (100000000000000), G_GINT64_CONSTANT (1000000000000000),
    G_GINT64_CONSTANT (10000000000000000), G_GINT64_CONSTANT (100000000000000000),
    G_GINT64_CONSTANT (1000000000000000000),
  };
  const gsize max_int_digits = MIN (15, 18 - decimals);
  const char *p = text;
  gint64 value = 0;
  for (; *p >= '0' && *p <= '9'; p++)
    {
      if ((gsize) (p - text) == max_int_digits)
        return FALSE;
      value = value * 10 + (*p - '0');
    }
  if (p == text)
    return FALSE;
  guint frac_digits = 0;
  if (*p == '.')
    {
      for (p++; *p >= '0' && *p <= '9'; p++)
        {
          if (frac_digits == decimals)
            return FALSE;
          value = value * 10 + (*p - '0');
          frac_digits++;
        }
      if (frac_digits == 0)
        return FALSE;
    }
  if (*p != '\0')
    return FALSE;
  *minor = value * pow10[decimals - frac_digits];
  return TRUE;
}

/* Reads the amount into @ev: a decimal string, or an integer in major units. */
static gboolean
read_amount (const Value *v, guint decimals, ReferralEvent *ev,
             const EventSpec *spec, const Members *m, GError **error)
{
  GError *local = NULL;
  switch (v->kind)
    {
    case VALUE_STRING:
      if (!parse_plain_amount (v->text, decimals, &ev->amount)
          && !referral_money_parse (v->text, decimals, FALSE, &ev->amount, &local))
        {
          /* The money parser's message already reads `amount "..." why`. */
          event_error (error, REFERRAL_ERROR_INVALID_MONEY, spec, m, "%s",
                       local->message);
          g_error_free (local);
          return FALSE;
        }
      ev->amount_quoted = TRUE;
      break;
    case VALUE_INTEGER:
      if (v->text[0] == '-')
        return event_error (error, REFERRAL_ERROR_INVALID_MONEY, spec, m,
                            "amount %s has a sign", v->text);
      /* JSON integer syntax is a subset of the decimal text syntax. */
      if (!parse_plain_amount (v->text, decimals, &ev->amount)
          && !referral_money_parse (v->text, decimals, FALSE, &ev->amount, &local))
        {
          gboolean overflow = g_error_matches (local, REFERRAL_ERROR,
                                               REFERRAL_ERROR_OVERFLOW);
          g_error_free (local);
          return event_error (error, REFERRAL_ERROR_INVALID_MONEY, spec, m,
                              overflow ? "amount %s is too large"
                                       : "amount %s is not a valid amount",
                              v->text);
        }
      ev->amount_quoted = FALSE;
      break;
    case VALUE_FRACTION:
      return event_error (error, REFERRAL_ERROR_INVALID_MONEY, spec, m,
                          "amount %s is a JSON number with a fraction; "
                          "write amounts with decimals as strings (\"%s\")",
                          v->text, v->text);
    case VALUE_EXPONENT:
      return event_error (error, REFERRAL_ERROR_INVALID_MONEY, spec, m,
                          "amount %s is a JSON number with an exponent; "
                          "write amounts as decimal strings", v->text);
    case VALUE_BOOLEAN:
    case VALUE_NULL:
    case VALUE_OBJECT:
    case VALUE_ARRAY:
    default:
      return event_error (error, REFERRAL_ERROR_PARSE, spec, m,
                          "field \"amount\" must be a decimal string or an "
                          "integer, not %s", value_kind_names[v->kind]);
    }
  ev->amount_text = v->text;
  return TRUE;
}

/* Returns: the spec of the event type @name, or NULL.  The first byte (and
 * the second for the two that start with 'p') picks the only one it can be. */
static const EventSpec *
lookup_spec (const char *name)
{
  gsize i;
  switch (name[0])
    {
    case 'j': i = 0; break;
    case 'o': i = 1; break;
    case 'r': i = 2; break;
    case 'p': i = name[1] == 'e' ? 3 : 6; break;
    case 't': i = 4; break;
    case 'w': i = 5; break;
    default: return NULL;
    }
  return strcmp (name, event_specs[i].name) == 0 ? &event_specs[i] : NULL;
}

/* Turns what the parser found into @ev, checking every field. */
static gboolean
build_event (const Members *m, guint decimals, ReferralEvent *ev, GError **error)
{
  if (!(m->seen & BIT (FIELD_TYPE)))
    return event_error (error, REFERRAL_ERROR_PARSE, NULL, NULL,
                        "missing field \"type\"");
  const Value *tv = &m->values[FIELD_TYPE];
  if (tv->kind != VALUE_STRING)
    return event_error (error, REFERRAL_ERROR_PARSE, NULL, NULL,
                        "field \"type\" must be a string, not %s",
                        value_kind_names[tv->kind]);
  const EventSpec *spec = lookup_spec (tv->text);
  if (spec == NULL)
    {
      g_autofree char *q = dup_quoted (tv->text);
      return event_error (error, REFERRAL_ERROR_PARSE, NULL, NULL,
                          "unknown type %s", q);
    }
  if (m->duplicate != NULL)
    {
      g_autofree char *q = dup_quoted (m->duplicate);
      return event_error (error, REFERRAL_ERROR_PARSE, spec, m,
                          "field %s appears twice", q);
    }
  if (m->unknown != NULL)
    {
      g_autofree char *q = dup_quoted (m->unknown);
      return event_error (error, REFERRAL_ERROR_PARSE, spec, m,
                          "unknown field %s", q);
    }

  guint32 required = ALWAYS_FIELDS | spec->required;
  guint32 allowed = required | BIT (FIELD_TIME) | spec->optional;
  /* Find the first bad field only when there is one. */
  guint32 bad = (m->seen & ~allowed) | (required & ~m->seen)
                | (m->seen & m->unusable & ~(BIT (FIELD_TYPE) | BIT (FIELD_AMOUNT)));
  for (int f = 0; bad != 0 && f < N_FIELDS; f++)
    {
      if ((m->seen & BIT (f)) && !(allowed & BIT (f)))
        return event_error (error, REFERRAL_ERROR_PARSE, spec, m,
                            "field \"%s\" is not allowed in %s events",
                            field_names[f].name, spec->name);
      if (!(m->seen & BIT (f)))
        {
          if (required & BIT (f))
            return event_error (error, REFERRAL_ERROR_PARSE, spec, m,
                                "missing field \"%s\"", field_names[f].name);
          continue;
        }
      if (f == FIELD_TYPE || f == FIELD_AMOUNT)
        continue;
      const Value *v = &m->values[f];
      if (v->kind != VALUE_STRING)
        return event_error (error, REFERRAL_ERROR_PARSE, spec, m,
                            "field \"%s\" must be a string, not %s",
                            field_names[f].name, value_kind_names[v->kind]);
      if (v->text[0] == '\0')
        return event_error (error, REFERRAL_ERROR_PARSE, spec, m,
                            "field \"%s\" is empty", field_names[f].name);
    }

  /* Every field, as REFERRAL_EVENT_INIT and then the strings given (the
   * text of a field not given is NULL, see parse_line()). */
  ev->type = spec->type;
  ev->id = m->values[FIELD_ID].text;
  ev->command = spec->command;
  ev->member = m->values[FIELD_MEMBER].text;
  ev->sponsor = m->values[FIELD_SPONSOR].text;
  ev->order = m->values[FIELD_ORDER].text;
  ev->sku = m->values[FIELD_SKU].text;
  ev->period = m->values[FIELD_PERIOD].text;
  ev->old_member = m->values[FIELD_OLD].text;
  ev->new_member = m->values[FIELD_NEW].text;
  ev->rank = m->values[FIELD_RANK].text;
  ev->time = m->values[FIELD_TIME].text;
  ev->amount = 0;
  ev->amount_text = NULL;
  ev->amount_quoted = FALSE;
  if (m->seen & BIT (FIELD_AMOUNT))
    return read_amount (&m->values[FIELD_AMOUNT], decimals, ev, spec, m, error);
  return TRUE;
}

/* Reports the first byte of the @len bytes at @line that is no UTF-8, if
 * any, as the error of the line.
 * Returns: FALSE (@error set) when there is one. */
static gboolean
check_utf8 (const char *line, gsize len, GError **error)
{
  const char *bad;
  if (g_utf8_validate_len (line, len, &bad))
    return TRUE;
  glong column = g_utf8_strlen (line, bad - line) + 1;
  if (*bad == '\0')
    return event_error (error, REFERRAL_ERROR_PARSE, NULL, NULL,
                        "NUL byte at column %ld", column);
  return event_error (error, REFERRAL_ERROR_PARSE, NULL, NULL,
                      "invalid UTF-8 at column %ld", column);
}

/* Room for the decoded strings of a line of @len bytes: every decoded
 * string or number is at most as long as its text plus the NUL that
 * replaces a quote or follows a delimiter; one extra byte covers a number
 * that ends the line; copy_plain() may write 8 bytes past what it keeps. */
#define PARSE_ROOM(len) ((len) + 2 + 8)

/* Bytes after the NUL that ends a line that the reader's own buffers
 * (a named file's blocks, a copy of data) keep readable, zeroed after the
 * last line, so that words of 8 bytes can be read up to the line's end. */
#define LINE_SLACK 8

/* Parses one line (the @len bytes at @line, followed by a NUL and then
 * @slack more bytes that may be read) into @ev, its strings decoded to
 * @out, which must have room for PARSE_ROOM (@len) bytes.
 * @used: (out) (optional): the bytes of @out the strings took */
static gboolean
parse_line (guint decimals, const char *line, gsize len, gsize slack, char *out,
            ReferralEvent *ev, gsize *used, GError **error)
{
  Parser ps = { line, line + len, line + len + slack, out, NULL, NULL, FALSE };
  Members m;
  for (int f = 0; f < N_FIELDS; f++)
    m.values[f].text = NULL; /* build_event() reads the text of every field */
  m.seen = 0;
  m.unusable = 0;
  m.duplicate = NULL;
  m.unknown = NULL;
  if (!parse_object (&ps, &m))
    {
      /* As if the line had been checked as UTF-8 first. */
      if (!check_utf8 (line, len, error))
        return FALSE;
      if (ps.where == NULL)
        return event_error (error, REFERRAL_ERROR_PARSE, NULL, NULL, "%s", ps.why);
      glong column = g_utf8_strlen (line, ps.where - line) + 1;
      if (ps.where == ps.end)
        return event_error (error, REFERRAL_ERROR_PARSE, NULL, NULL,
                            "invalid JSON: %s at the end of the line", ps.why);
      return event_error (error, REFERRAL_ERROR_PARSE, NULL, NULL,
                          "invalid JSON: %s at column %ld", ps.why, column);
    }
  /* Parsed: only its strings can hold bytes >= 0x80, and no NUL. */
  if (ps.high && !check_utf8 (line, len, error))
    return FALSE;
  if (used != NULL)
    *used = (gsize) (ps.out - out);
  return build_event (&m, decimals, ev, error);
}

/* ---------------------------------------------------------------- reader */

ReferralJsonlReader *
referral_jsonl_reader_open (const char *path, guint decimals, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (decimals <= REFERRAL_MAX_DECIMALS, NULL);

  int fd = -1;
  if (strcmp (path, "-") != 0)
    {
      do
        fd = open (path, O_RDONLY | O_CLOEXEC);
      while (fd < 0 && errno == EINTR);
      if (fd < 0)
        {
          int err = errno;
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                       "cannot open %s: %s", path, g_strerror (err));
          return NULL;
        }
      struct stat st;
      if (fstat (fd, &st) == 0 && S_ISDIR (st.st_mode))
        {
          close (fd);
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                       "cannot read %s: it is a directory", path);
          return NULL;
        }
    }
  ReferralJsonlReader *reader = g_new0 (ReferralJsonlReader, 1);
  reader->name = g_strdup (fd >= 0 ? path : "<stdin>");
  reader->decimals = decimals;
  reader->fd = fd;
  reader->file = fd >= 0 ? NULL : stdin;
  reader->slack = fd >= 0 ? LINE_SLACK : 0;
  return reader;
}

ReferralJsonlReader *
referral_jsonl_reader_new_from_data (const char *data, gsize length,
                                     const char *name, guint decimals)
{
  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (decimals <= REFERRAL_MAX_DECIMALS, NULL);

  ReferralJsonlReader *reader = g_new0 (ReferralJsonlReader, 1);
  reader->name = g_strdup (name != NULL ? name : "<data>");
  reader->decimals = decimals;
  reader->fd = -1;
  reader->buf = g_malloc (length + 1 + LINE_SLACK);
  if (length > 0)
    memcpy (reader->buf, data, length);
  memset (reader->buf + length, 0, 1 + LINE_SLACK);
  reader->slack = LINE_SLACK;
  reader->buf_cap = length;
  reader->buf_len = length;
  reader->at_eof = TRUE;
  return reader;
}

void
referral_jsonl_reader_free (ReferralJsonlReader *reader)
{
  if (reader == NULL)
    return;
  if (reader->fd >= 0)
    close (reader->fd);
  g_free (reader->name);
  g_free (reader->buf);
  free (reader->line); /* allocated by getline() */
  g_free (reader->scratch);
  g_free (reader);
}

/* Standard input: the next line from getline().  Returns as read_line(). */
static int
read_line_stdio (ReferralJsonlReader *reader, char **line, gsize *len,
                 GError **error)
{
  errno = 0;
  ssize_t n = getline (&reader->line, &reader->line_cap, reader->file);
  if (n < 0)
    {
      if (ferror (reader->file))
        {
          int err = errno;
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                       "cannot read %s: %s", reader->name,
                       g_strerror (err != 0 ? err : EIO));
          return -1;
        }
      return 0;
    }
  /* getline() ends the line with a NUL after its '\n', if any. */
  if (n > 0 && reader->line[n - 1] == '\n')
    n--;
  *line = reader->line;
  *len = (gsize) n;
  return 1;
}

/* Reads more of the file after what the buffer holds, first moving the
 * unfinished line at buf_pos to the start of the buffer, and growing the
 * buffer when that line fills it.  Sets at_eof or read_errno when it
 * ends. */
static void
read_more (ReferralJsonlReader *reader)
{
  gsize rest = reader->buf_len - reader->buf_pos;
  if (reader->buf == NULL)
    {
      reader->buf_cap = READ_BLOCK;
      reader->buf = g_malloc (reader->buf_cap + 1 + LINE_SLACK);
    }
  else if (reader->buf_pos > 0)
    {
      memmove (reader->buf, reader->buf + reader->buf_pos, rest);
      reader->buf_pos = 0;
      reader->buf_len = rest;
    }
  else if (rest == reader->buf_cap)
    {
      reader->buf_cap *= 2;
      reader->buf = g_realloc (reader->buf, reader->buf_cap + 1 + LINE_SLACK);
    }
  for (;;)
    {
      ssize_t n = read (reader->fd, reader->buf + reader->buf_len,
                        reader->buf_cap - reader->buf_len);
      if (n > 0)
        reader->buf_len += (gsize) n;
      else if (n == 0)
        reader->at_eof = TRUE;
      else if (errno == EINTR)
        continue;
      else
        reader->read_errno = errno != 0 ? errno : EIO;
      break;
    }
  memset (reader->buf + reader->buf_len, 0, 1 + LINE_SLACK);
}

/* Sets *@line and *@len to the next line without its "\n".  The line and
 * the byte after it ('\n' or NUL) are the reader's until the next call.
 * Returns: 1, 0 at the end, -1 on a read error (reported after the lines
 * read before it, a last unfinished one included, as getline() does). */
static int
read_line (ReferralJsonlReader *reader, char **line, gsize *len,
           GError **error)
{
  if (reader->file != NULL)
    return read_line_stdio (reader, line, len, error);
  for (;;)
    {
      char *start = reader->buf + reader->buf_pos;
      gsize rest = reader->buf_len - reader->buf_pos;
      if (reader->buf_scan < rest)
        {
          char *nl = memchr (start + reader->buf_scan, '\n', rest - reader->buf_scan);
          if (nl != NULL)
            {
              *line = start;
              *len = (gsize) (nl - start);
              reader->buf_pos += *len + 1;
              reader->buf_scan = 0;
              return 1;
            }
          reader->buf_scan = rest;
        }
      if (reader->at_eof || reader->read_errno != 0)
        {
          if (rest > 0)
            {
              /* The last line, without "\n": buf[buf_len] is a NUL. */
              *line = start;
              *len = rest;
              reader->buf_pos = reader->buf_len;
              reader->buf_scan = 0;
              return 1;
            }
          if (reader->read_errno == 0)
            return 0;
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_IO,
                       "cannot read %s: %s", reader->name,
                       g_strerror (reader->read_errno));
          reader->read_errno = 0; /* the next call tries again */
          return -1;
        }
      read_more (reader);
    }
}

/* Sets *@line_out and *@len_out to the next line that may hold an event:
 * not blank, not a comment, without its line end (CRLF or LF) or the byte
 * order mark of the first line, and followed by a NUL written over its
 * line end (the parser relies on it).
 * Returns: as read_line(). */
static int
next_event_line (ReferralJsonlReader *reader, const char **line_out, gsize *len_out,
                 GError **error)
{
  for (;;)
    {
      char *line;
      gsize len;
      int r = read_line (reader, &line, &len, error);
      if (r <= 0)
        return r;
      reader->line_no++;
      if (len > 0 && line[len - 1] == '\r')
        len--;
      line[len] = '\0';
      /* A byte order mark may open the file. */
      if (reader->line_no == 1 && len >= 3 && memcmp (line, "\xef\xbb\xbf", 3) == 0)
        {
          line += 3;
          len -= 3;
        }
      gsize i = 0;
      while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
      if (i == len || line[i] == '#')
        continue;
      *line_out = line;
      *len_out = len;
      return 1;
    }
}

int
referral_jsonl_reader_next (ReferralJsonlReader *reader, ReferralEvent *event,
                            GError **error)
{
  g_return_val_if_fail (reader != NULL, -1);
  g_return_val_if_fail (event != NULL, -1);

  const char *line;
  gsize len;
  int r = next_event_line (reader, &line, &len, error);
  if (r <= 0)
    return r;
  if (reader->scratch_cap < PARSE_ROOM (len))
    {
      reader->scratch_cap = MAX (PARSE_ROOM (len), reader->scratch_cap * 2);
      g_free (reader->scratch);
      reader->scratch = g_malloc (reader->scratch_cap);
    }
  return parse_line (reader->decimals, line, len, reader->slack, reader->scratch, event,
                     NULL, error) ? 1 : -1;
}

guint64
referral_jsonl_reader_line (const ReferralJsonlReader *reader)
{
  g_return_val_if_fail (reader != NULL, 0);
  return reader->line_no;
}

const char *
referral_jsonl_reader_name (const ReferralJsonlReader *reader)
{
  g_return_val_if_fail (reader != NULL, NULL);
  return reader->name;
}

/* ---------------------------------------------------------------- runner */

/* Events are applied in batches with referral_engine_apply_many(), which
 * prefetches ahead.  A batch holds parsed events whose strings were decoded
 * straight into the batch's arena, then at most one thing that ends it
 * early: a line that is no event, an event
 * too big for any batch, the end of the input or a read error.  So a
 * sequence of batches carries every line's outcome in file order, and
 * applying them one after the other is the same whether they were filled
 * just before (one thread) or by a reading thread running ahead. */
#define BATCH_EVENTS 256
#define BATCH_ARENA (64 * 1024)

/* Batches in flight between the reading thread and the applying one.  A
 * reader that found the ring full waits until only RING_RESUME batches are
 * left to apply, then refills it: one wake-up per few batches rather than
 * one per batch (a wake-up across CPUs is an interrupt, dear under a
 * hypervisor). */
#define RING_BATCHES 6
#define RING_RESUME 2

typedef enum {
  END_FULL,     /* the next event did not fit: it starts the next batch */
  END_BAD_LINE, /* a line that is no event: @error, on line @end_line */
  END_BIG,      /* an event on a line longer than the arena: @big, on line
                   @end_line, its strings in @big_arena */
  END_EOF,      /* the end of the input, after @end_line lines */
  END_IO        /* a read error (@error) after @end_line lines */
} BatchEnd;

typedef struct {
  ReferralEvent ev[BATCH_EVENTS];
  guint64 line[BATCH_EVENTS];
  gsize n;
  char arena[BATCH_ARENA];
  gsize used;
  BatchEnd end;
  guint64 end_line;
  GError *error;
  ReferralEvent big;
  char *big_arena;
  gsize big_cap;
} Batch;

static Batch *
batch_new (void)
{
  Batch *b = g_new (Batch, 1);
  b->n = 0;
  b->used = 0;
  b->end = END_FULL;
  b->end_line = 0;
  b->error = NULL;
  b->big_arena = NULL;
  b->big_cap = 0;
  return b;
}

static void
batch_free (Batch *b)
{
  g_clear_error (&b->error);
  g_free (b->big_arena);
  g_free (b);
}

/* What fills batches: the reader and the line it read last when that line
 * did not fit the batch it was read for (it starts the next one). */
typedef struct {
  ReferralJsonlReader *reader;
  gboolean pending;
  const char *line; /* in the reader's buffer, valid until it reads again */
  gsize len;
} Producer;

/* Grows the buffer of @b for a lone event to @need bytes. */
static void
batch_big_reserve (Batch *b, gsize need)
{
  if (b->big_cap < need)
    {
      g_free (b->big_arena);
      b->big_arena = g_malloc (need);
      b->big_cap = need;
    }
}

/* Fills @b with the next lines of the reader, up to the first thing that
 * ends a batch.  Each line is parsed straight into the arena when the
 * arena has room for the most its strings can take (PARSE_ROOM); a
 * line that has not, in a batch with no event yet, is parsed into the
 * batch's buffer for a lone event (END_BIG). */
static void
batch_fill (Producer *p, Batch *b)
{
  ReferralJsonlReader *reader = p->reader;
  b->n = 0;
  b->used = 0;
  b->end = END_FULL;
  g_clear_error (&b->error);
  while (b->n < BATCH_EVENTS)
    {
      if (!p->pending)
        {
          GError *local = NULL;
          int r = next_event_line (reader, &p->line, &p->len, &local);
          if (r <= 0)
            {
              b->end_line = reader->line_no;
              if (r == 0)
                b->end = END_EOF;
              else
                {
                  b->end = END_IO;
                  b->error = local;
                }
              return;
            }
        }
      gsize need = PARSE_ROOM (p->len);
      GError *local = NULL;
      if (need <= BATCH_ARENA - b->used)
        {
          gsize used;
          p->pending = FALSE;
          if (!parse_line (reader->decimals, p->line, p->len, reader->slack,
                           b->arena + b->used, &b->ev[b->n], &used, &local))
            {
              b->end = END_BAD_LINE;
              b->end_line = reader->line_no;
              b->error = local;
              return;
            }
          b->used += used;
          b->line[b->n++] = reader->line_no;
          continue;
        }
      if (b->n > 0)
        {
          p->pending = TRUE; /* it starts the next batch */
          return;
        }
      /* A line longer than the arena. */
      p->pending = FALSE;
      batch_big_reserve (b, need);
      b->end_line = reader->line_no;
      if (parse_line (reader->decimals, p->line, p->len, reader->slack, b->big_arena,
                      &b->big, NULL, &local))
        b->end = END_BIG;
      else
        {
          b->end = END_BAD_LINE;
          b->error = local;
        }
      return;
    }
}

typedef struct {
  ReferralEngine *engine;
  ReferralJournal *journal; /* applying through a journal, or NULL */
  const char *name;
  ReferralRunFlags flags;
  ReferralRunReportFunc report;
  gpointer user_data;
  ReferralRunStats st;
  gboolean stop;     /* a rejection without REFERRAL_RUN_KEEP_GOING, or @fatal */
  guint64 stop_line; /* ...on this line */
  GError *fatal;     /* a read error, or the journal's I/O or journal error */
} Runner;

static void
rejected (Runner *run, guint64 line, GError *local)
{
  run->st.errors++;
  if (run->report != NULL)
    run->report (run->name, line, local->message, run->user_data);
  g_error_free (local);
  if (!(run->flags & REFERRAL_RUN_KEEP_GOING))
    {
      run->stop = TRUE;
      run->stop_line = line;
    }
}

/* As referral_engine_apply_many(), through @journal one event at a time. */
static gboolean
journal_apply_many (ReferralJournal *journal, const ReferralEvent *ev, gsize n,
                    gsize *n_done, gsize *n_duplicates, GError **error)
{
  gsize k;
  *n_duplicates = 0;
  for (k = 0; k < n; k++)
    {
      ReferralApplyResult result;
      if (!referral_journal_apply (journal, &ev[k], &result, error))
        break;
      if (result.status == REFERRAL_DUPLICATE)
        (*n_duplicates)++;
    }
  *n_done = k;
  return k == n;
}

/* Applies @n events in order (event k read from line @lines[k]), resuming
 * after each rejection when keeping going. */
static void
apply_events (Runner *run, const ReferralEvent *ev, const guint64 *lines, gsize n)
{
  gsize i = 0;
  while (i < n && !run->stop)
    {
      gsize done = 0, dups = 0;
      GError *local = NULL;
      gboolean all = run->journal != NULL
        ? journal_apply_many (run->journal, ev + i, n - i, &done, &dups, &local)
        : referral_engine_apply_many (run->engine, ev + i, n - i, &done, &dups, &local);
      run->st.duplicates += dups;
      run->st.applied += done - dups;
      i += done;
      if (all)
        break;
      if (run->journal != NULL
          && (g_error_matches (local, REFERRAL_ERROR, REFERRAL_ERROR_IO)
              || g_error_matches (local, REFERRAL_ERROR, REFERRAL_ERROR_JOURNAL)))
        {
          /* The journal cannot go on: no rejection, a failure of the run. */
          run->fatal = local;
          run->stop = TRUE;
          run->stop_line = lines[i];
          break;
        }
      rejected (run, lines[i], local);
      i++;
    }
}

/* Applies the events of @b, then what ended it.
 * Returns: TRUE when @b ended the input (its end or a read error). */
static gboolean
batch_apply (Runner *run, Batch *b)
{
  apply_events (run, b->ev, b->line, b->n);
  if (run->stop)
    return FALSE;
  switch (b->end)
    {
    case END_FULL:
      return FALSE;
    case END_BIG:
      apply_events (run, &b->big, &b->end_line, 1);
      return FALSE;
    case END_BAD_LINE:
      rejected (run, b->end_line, g_steal_pointer (&b->error));
      return FALSE;
    case END_IO:
      run->fatal = g_steal_pointer (&b->error);
      run->st.lines = b->end_line;
      return TRUE;
    case END_EOF:
    default:
      run->st.lines = b->end_line;
      return TRUE;
    }
}

/* One thread: fill a batch, apply it, again. */
static void
run_one_thread (Runner *run, Producer *p)
{
  Batch *b = batch_new ();
  gboolean ended = FALSE;
  while (!ended && !run->stop)
    {
      batch_fill (p, b);
      ended = batch_apply (run, b);
    }
  batch_free (b);
}

/* Two threads: a reading thread fills the batches of a ring in turn while
 * the calling thread applies them in the same order.  @n_filled counts the
 * batches filled and not yet applied, the one being applied included: the
 * reader fills ring[(next + n_filled) % RING_BATCHES] when that count is
 * below RING_BATCHES (once it found the ring full: when it is down to
 * RING_RESUME), the applier applies ring[next].  A POSIX mutex and
 * condition variables (not GMutex, whose futexes ThreadSanitizer cannot
 * see) guard the counts; a batch's contents belong to one side at a time. */
typedef struct {
  Producer *producer;
  Batch *ring[RING_BATCHES];
  pthread_mutex_t lock;
  pthread_cond_t filled;   /* the reader queued a batch */
  pthread_cond_t freed;    /* the applier handed one back, or cancelled */
  guint next;              /* the next batch to apply */
  guint n_filled;
  gboolean cancel;         /* the applier stopped early: the reader must too */
} Pipeline;

static gpointer
read_batches (gpointer data)
{
  Pipeline *pl = data;
  pthread_mutex_lock (&pl->lock);
  for (;;)
    {
      if (pl->n_filled == RING_BATCHES)
        while (pl->n_filled > RING_RESUME && !pl->cancel)
          pthread_cond_wait (&pl->freed, &pl->lock);
      if (pl->cancel)
        break;
      Batch *b = pl->ring[(pl->next + pl->n_filled) % RING_BATCHES];
      pthread_mutex_unlock (&pl->lock);
      batch_fill (pl->producer, b);
      gboolean last = b->end == END_EOF || b->end == END_IO;
      pthread_mutex_lock (&pl->lock);
      pl->n_filled++;
      pthread_cond_signal (&pl->filled);
      if (last)
        break;
    }
  pthread_mutex_unlock (&pl->lock);
  return NULL;
}

/* Returns: FALSE, having done nothing, when the reading thread cannot be
 * started. */
static gboolean
run_two_threads (Runner *run, Producer *p)
{
  Pipeline pl;
  pl.producer = p;
  for (guint k = 0; k < RING_BATCHES; k++)
    pl.ring[k] = batch_new ();
  pthread_mutex_init (&pl.lock, NULL);
  pthread_cond_init (&pl.filled, NULL);
  pthread_cond_init (&pl.freed, NULL);
  pl.next = 0;
  pl.n_filled = 0;
  pl.cancel = FALSE;
  GThread *thread = g_thread_try_new ("referral-jsonl", read_batches, &pl, NULL);
  if (thread != NULL)
    {
      gboolean ended = FALSE;
      while (!ended && !run->stop)
        {
          pthread_mutex_lock (&pl.lock);
          while (pl.n_filled == 0)
            pthread_cond_wait (&pl.filled, &pl.lock);
          Batch *b = pl.ring[pl.next];
          pthread_mutex_unlock (&pl.lock);
          ended = batch_apply (run, b);
          pthread_mutex_lock (&pl.lock);
          pl.next = (pl.next + 1) % RING_BATCHES;
          pl.n_filled--;
          if (!ended && run->stop)
            pl.cancel = TRUE; /* the reader may be filling or waiting */
          if (pl.n_filled <= RING_RESUME || pl.cancel)
            pthread_cond_signal (&pl.freed);
          pthread_mutex_unlock (&pl.lock);
        }
      g_thread_join (thread);
    }
  pthread_cond_destroy (&pl.freed);
  pthread_cond_destroy (&pl.filled);
  pthread_mutex_destroy (&pl.lock);
  for (guint k = 0; k < RING_BATCHES; k++)
    batch_free (pl.ring[k]);
  return thread != NULL;
}

/* Only a regular file is read ahead on a second thread: reading a pipe or a
 * terminal can block, and a run that stops at an error must not wait for
 * the next line to arrive before it returns. */
static gboolean
is_regular_file (ReferralJsonlReader *reader)
{
  struct stat st;
  int fd = reader->file != NULL ? fileno (reader->file) : reader->fd;
  return fd >= 0 && fstat (fd, &st) == 0 && S_ISREG (st.st_mode);
}

/* Behind referral_engine_apply_jsonl() (@journal NULL) and
 * referral_journal_apply_jsonl(). */
static gboolean
run_jsonl (ReferralEngine *engine, ReferralJournal *journal, const char *path,
           ReferralRunFlags flags, ReferralRunReportFunc report, gpointer user_data,
           ReferralRunStats *stats, GError **error)
{
  guint decimals = referral_scheme_decimals (referral_engine_scheme (engine));
  g_autoptr (ReferralJsonlReader) reader =
    referral_jsonl_reader_open (path, decimals, error);
  if (reader == NULL)
    {
      if (stats != NULL)
        *stats = (ReferralRunStats) { 0, 0, 0, 0 };
      return FALSE;
    }

  Runner run = { engine, journal, reader->name, flags, report, user_data, { 0, 0, 0, 0 },
                 FALSE, 0, NULL };
  Producer producer = { reader, FALSE, NULL, 0 };
  if ((flags & REFERRAL_RUN_ONE_THREAD) || !is_regular_file (reader)
      || !run_two_threads (&run, &producer))
    run_one_thread (&run, &producer);
  /* Lines read: on a stop, the line that stopped the run (the reader may
   * have read further, but those lines were not used). */
  if (run.stop)
    run.st.lines = run.stop_line;
  if (stats != NULL)
    *stats = run.st;
  if (run.fatal != NULL)
    {
      g_propagate_error (error, run.fatal);
      return FALSE;
    }
  return run.st.errors == 0;
}

gboolean
referral_engine_apply_jsonl (ReferralEngine *engine, const char *path,
                             ReferralRunFlags flags, ReferralRunReportFunc report,
                             gpointer user_data, ReferralRunStats *stats,
                             GError **error)
{
  g_return_val_if_fail (engine != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return run_jsonl (engine, NULL, path, flags, report, user_data, stats, error);
}

gboolean
referral_journal_apply_jsonl (ReferralJournal *journal, const char *path,
                              ReferralRunFlags flags, ReferralRunReportFunc report,
                              gpointer user_data, ReferralRunStats *stats,
                              GError **error)
{
  g_return_val_if_fail (journal != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return run_jsonl (referral_journal_engine (journal), journal, path, flags, report,
                    user_data, stats, error);
}
