/* Event dicts (shared/spec/events.md) to ReferralEvent and back.
 *
 * A dict is held to the rules of a JSON Lines event: the same field names,
 * string values, amounts as a decimal str or an int in major units (the
 * amount's text is kept for the idempotency fingerprint, so {"amount":
 * "699"} and {"amount": 699} are different content exactly as in a file).
 * What the engine checks itself (missing, empty or misplaced fields, ids)
 * is left to the engine, so that its messages are the ones users see. */
#include "pyreferral.h"

#include <string.h>

typedef enum {
  FIELD_TYPE, FIELD_ID, FIELD_TIME, FIELD_MEMBER, FIELD_SPONSOR, FIELD_ORDER,
  FIELD_AMOUNT, FIELD_SKU, FIELD_PERIOD, FIELD_OLD, FIELD_NEW, FIELD_RANK,
  N_FIELDS
} Field;

static const char *const field_names[N_FIELDS] = {
  "type", "id", "time", "member", "sponsor", "order", "amount", "sku", "period",
  "old", "new", "rank",
};

static const struct {
  const char *name;
  ReferralEventType type;
  const char *command;
  Field key; /* the field that names the event in messages */
} event_types[] = {
  [PYREF_TYPE_JOIN] = { "join", REFERRAL_EVENT_JOIN, NULL, FIELD_MEMBER },
  [PYREF_TYPE_ORDER] = { "order", REFERRAL_EVENT_ORDER, NULL, FIELD_ORDER },
  [PYREF_TYPE_REFUND] = { "refund", REFERRAL_EVENT_REFUND, NULL, FIELD_ORDER },
  [PYREF_TYPE_PERIOD_CLOSE] = { "period_close", REFERRAL_EVENT_PERIOD_CLOSE, NULL, FIELD_PERIOD },
  [PYREF_TYPE_WITHDRAW] = { "withdraw", REFERRAL_EVENT_WITHDRAW, NULL, FIELD_MEMBER },
  [PYREF_TYPE_PROMOTE] = { "promote", REFERRAL_EVENT_PROMOTE, NULL, FIELD_MEMBER },
  [PYREF_TYPE_TRANSPOSE] = { "transpose", REFERRAL_EVENT_COMMAND, "transpose", FIELD_MEMBER },
};

gboolean
pyref_event_set_type_code (ReferralEvent *ev, long code)
{
  if (code < PYREF_TYPE_JOIN || code >= PYREF_N_TYPES)
    return FALSE;
  ev->type = event_types[code].type;
  ev->command = event_types[code].command;
  return TRUE;
}

static int
type_code_of_name (const char *name)
{
  for (int c = PYREF_TYPE_JOIN; c < PYREF_N_TYPES; c++)
    if (strcmp (name, event_types[c].name) == 0)
      return c;
  return 0;
}

gboolean
pyref_event_set_type_name (ReferralEvent *ev, const char *name)
{
  return pyref_event_set_type_code (ev, type_code_of_name (name));
}

static const char **
event_slot (ReferralEvent *ev, Field f)
{
  switch (f)
    {
    case FIELD_ID: return &ev->id;
    case FIELD_TIME: return &ev->time;
    case FIELD_MEMBER: return &ev->member;
    case FIELD_SPONSOR: return &ev->sponsor;
    case FIELD_ORDER: return &ev->order;
    case FIELD_SKU: return &ev->sku;
    case FIELD_PERIOD: return &ev->period;
    case FIELD_OLD: return &ev->old_member;
    case FIELD_NEW: return &ev->new_member;
    case FIELD_RANK: return &ev->rank;
    case FIELD_TYPE:
    case FIELD_AMOUNT:
    case N_FIELDS:
    default:
      return NULL;
    }
}

void
pyref_event_clear (PyRefEvent *event)
{
  for (int i = 0; i < event->n_refs; i++)
    Py_CLEAR (event->refs[i]);
  event->n_refs = 0;
}

static void
keep (PyRefEvent *out, PyObject *obj)
{
  g_assert (out->n_refs < PYREF_EVENT_MAX_REFS);
  out->refs[out->n_refs++] = obj;
}

/* The event's name in messages, as the engine and the JSONL reader write
 * it: `order "o9"`, else `order event "e5"`, else `order event`. */
static char *
event_name (const char *type, PyObject *dict, Field key)
{
  PyObject *v = PyDict_GetItemString (dict, field_names[key]);
  const char *s = v != NULL && PyUnicode_Check (v) ? PyUnicode_AsUTF8 (v) : NULL;
  if (s == NULL || *s == '\0')
    {
      PyErr_Clear ();
      v = PyDict_GetItemString (dict, "id");
      s = v != NULL && PyUnicode_Check (v) ? PyUnicode_AsUTF8 (v) : NULL;
      if (s != NULL && *s != '\0')
        return g_strdup_printf ("%s event \"%s\"", type, s);
      PyErr_Clear ();
      return g_strdup_printf ("%s event", type);
    }
  return g_strdup_printf ("%s \"%s\"", type, s);
}

const char *
pyref_python_type_name (PyObject *v)
{
  if (v == Py_None)
    return "None";
  if (PyBool_Check (v))
    return "a bool";
  if (PyLong_Check (v))
    return "an int";
  if (PyFloat_Check (v))
    return "a float";
  if (PyDict_Check (v))
    return "a dict";
  if (PyList_Check (v) || PyTuple_Check (v))
    return "a list";
  return Py_TYPE (v)->tp_name;
}

gboolean
pyref_read_amount (PyObject *v, guint decimals, ReferralEvent *ev, PyObject **text_out,
                   const char *name)
{
  GError *error = NULL;
  *text_out = NULL;
  /* Messages start with the event's name when there is one. */
  const char *sep = name != NULL ? ": " : "";
  if (name == NULL)
    name = "";
  if (PyLong_Check (v) && !PyBool_Check (v))
    {
      PyObject *text = PyObject_Str (v);
      if (text == NULL)
        return FALSE;
      *text_out = text;
      const char *s = PyUnicode_AsUTF8 (text);
      if (s == NULL)
        return FALSE;
      if (s[0] == '-')
        {
          pyref_raisef (REFERRAL_ERROR_INVALID_MONEY, "%s%samount %s has a sign", name, sep, s);
          return FALSE;
        }
      if (!referral_money_parse (s, decimals, FALSE, &ev->amount, &error))
        {
          gboolean overflow = g_error_matches (error, REFERRAL_ERROR, REFERRAL_ERROR_OVERFLOW);
          g_error_free (error);
          pyref_raisef (REFERRAL_ERROR_INVALID_MONEY,
                        overflow ? "%s%samount %s is too large"
                                 : "%s%samount %s is not a valid amount", name, sep, s);
          return FALSE;
        }
      ev->amount_text = s;
      ev->amount_quoted = FALSE;
      return TRUE;
    }
  if (PyFloat_Check (v))
    {
      PyObject *r = PyObject_Repr (v);
      const char *rs = r != NULL ? PyUnicode_AsUTF8 (r) : NULL;
      pyref_raisef (REFERRAL_ERROR_INVALID_MONEY,
                    "%s%samount %s is a float; write amounts as decimal strings (\"%s\") "
                    "or integers", name, sep, rs ? rs : "?", rs ? rs : "?");
      Py_XDECREF (r);
      return FALSE;
    }
  PyObject *text = NULL;
  if (PyUnicode_Check (v))
    text = Py_NewRef (v);
  else
    {
      int is_decimal = PyObject_IsInstance (v, pyref_decimal_type);
      if (is_decimal < 0)
        return FALSE;
      if (!is_decimal)
        {
          pyref_raisef (REFERRAL_ERROR_PARSE, "%s%sfield \"amount\" must be a decimal string "
                        "or an integer, not %s", name, sep, pyref_python_type_name (v));
          return FALSE;
        }
      text = pyref_money_text (v, "amount");
      if (text == NULL)
        return FALSE;
    }
  *text_out = text;
  Py_ssize_t len;
  const char *s = PyUnicode_AsUTF8AndSize (text, &len);
  if (s == NULL)
    return FALSE;
  if ((size_t) len != strlen (s))
    {
      pyref_raisef (REFERRAL_ERROR_INVALID_MONEY, "%s%samount contains a NUL character", name,
                    sep);
      return FALSE;
    }
  if (!referral_money_parse (s, decimals, FALSE, &ev->amount, &error))
    {
      /* The parser's message reads `amount "..." why`. */
      pyref_raisef (REFERRAL_ERROR_INVALID_MONEY, "%s%s%s", name, sep, error->message);
      g_error_free (error);
      return FALSE;
    }
  ev->amount_text = s;
  ev->amount_quoted = TRUE;
  return TRUE;
}

static gboolean
read_amount (PyObject *v, guint decimals, PyRefEvent *out, const char *name)
{
  PyObject *text;
  gboolean ok = pyref_read_amount (v, decimals, &out->ev, &text, name);
  if (text != NULL)
    keep (out, text);
  return ok;
}

gboolean
pyref_event_from_dict (PyObject *obj, guint decimals, PyRefEvent *out)
{
  out->ev = (ReferralEvent) REFERRAL_EVENT_INIT;
  out->n_refs = 0;
  if (!PyDict_Check (obj))
    {
      PyErr_Format (PyExc_TypeError, "an event is a dict, not %.100s", Py_TYPE (obj)->tp_name);
      return FALSE;
    }
  /* The dict itself is kept too: a rule hook that mutates it cannot pull
   * the strings from under the event. */
  keep (out, Py_NewRef (obj));

  PyObject *tv = PyDict_GetItemString (obj, "type");
  if (tv == NULL)
    return pyref_raise (REFERRAL_ERROR_PARSE, "missing field \"type\""), FALSE;
  if (!PyUnicode_Check (tv))
    return pyref_raisef (REFERRAL_ERROR_PARSE, "field \"type\" must be a string, not %s",
                         pyref_python_type_name (tv)), FALSE;
  const char *type = PyUnicode_AsUTF8 (tv);
  if (type == NULL)
    return FALSE;
  int code = type_code_of_name (type);
  if (code == 0)
    return pyref_raisef (REFERRAL_ERROR_PARSE, "unknown type \"%s\"", type), FALSE;
  pyref_event_set_type_code (&out->ev, code);

  char *name = event_name (type, obj, event_types[code].key);
  gboolean ok = TRUE;
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  /* Unknown fields first, as the reader does, whatever the key order. */
  while (ok && PyDict_Next (obj, &pos, &key, &value))
    {
      const char *k = PyUnicode_Check (key) ? PyUnicode_AsUTF8 (key) : NULL;
      if (k == NULL)
        {
          PyErr_Clear ();
          PyObject *r = PyObject_Repr (key);
          pyref_raisef (REFERRAL_ERROR_PARSE, "%s: field names are strings, not %s", name,
                        r != NULL ? PyUnicode_AsUTF8 (r) : "?");
          Py_XDECREF (r);
          ok = FALSE;
          break;
        }
      gboolean known = FALSE;
      for (int f = 0; f < N_FIELDS && !known; f++)
        known = strcmp (k, field_names[f]) == 0;
      if (!known)
        {
          pyref_raisef (REFERRAL_ERROR_PARSE, "%s: unknown field \"%s\"", name, k);
          ok = FALSE;
        }
    }
  for (int f = FIELD_ID; ok && f < N_FIELDS; f++)
    {
      PyObject *v = PyDict_GetItemString (obj, field_names[f]);
      if (v == NULL)
        continue;
      if (f == FIELD_AMOUNT)
        {
          ok = read_amount (v, decimals, out, name);
          continue;
        }
      if (!PyUnicode_Check (v))
        {
          pyref_raisef (REFERRAL_ERROR_PARSE, "%s: field \"%s\" must be a string, not %s",
                        name, field_names[f], pyref_python_type_name (v));
          ok = FALSE;
          break;
        }
      Py_ssize_t len;
      const char *s = PyUnicode_AsUTF8AndSize (v, &len);
      if (s == NULL)
        ok = FALSE;
      else if ((size_t) len != strlen (s))
        {
          pyref_raisef (REFERRAL_ERROR_PARSE, "%s: field \"%s\" contains a NUL character",
                        name, field_names[f]);
          ok = FALSE;
        }
      else
        {
          keep (out, Py_NewRef (v));
          *event_slot (&out->ev, (Field) f) = s;
        }
    }
  g_free (name);
  return ok;
}

static int
set_string (PyObject *dict, const char *key, const char *value)
{
  if (value == NULL)
    return 0;
  PyObject *s = PyUnicode_FromString (value);
  if (s == NULL)
    return -1;
  int r = PyDict_SetItemString (dict, key, s);
  Py_DECREF (s);
  return r;
}

PyObject *
pyref_event_to_dict (const ReferralEvent *ev, guint decimals)
{
  PyObject *dict = PyDict_New ();
  if (dict == NULL)
    return NULL;
  const char *type = referral_event_type_name (ev);
  int ok = set_string (dict, "type", type) == 0
           && set_string (dict, "id", ev->id) == 0
           && set_string (dict, "member", ev->member) == 0
           && set_string (dict, "sponsor", ev->sponsor) == 0
           && set_string (dict, "order", ev->order) == 0
           && set_string (dict, "sku", ev->sku) == 0
           && set_string (dict, "period", ev->period) == 0
           && set_string (dict, "old", ev->old_member) == 0
           && set_string (dict, "new", ev->new_member) == 0
           && set_string (dict, "rank", ev->rank) == 0
           && set_string (dict, "time", ev->time) == 0;
  if (ok && (ev->type == REFERRAL_EVENT_ORDER || ev->type == REFERRAL_EVENT_WITHDRAW))
    {
      /* As written when known, else as decimal text. */
      PyObject *amount;
      if (ev->amount_text != NULL && !ev->amount_quoted)
        amount = PyLong_FromString (ev->amount_text, NULL, 10);
      else if (ev->amount_text != NULL)
        amount = PyUnicode_FromString (ev->amount_text);
      else
        {
          char buf[REFERRAL_MONEY_BUF_SIZE];
          amount = PyUnicode_FromString (referral_money_format_buf (ev->amount, decimals, buf));
        }
      ok = amount != NULL && PyDict_SetItemString (dict, "amount", amount) == 0;
      Py_XDECREF (amount);
    }
  if (!ok)
    Py_CLEAR (dict);
  return dict;
}
