/* The bulk paths of referral.Engine.
 *
 * In: apply_jsonl() hands a whole file to referral_engine_apply_jsonl();
 * apply_columns() takes a table of columns (lists of str, or int64
 * buffers such as numpy arrays).  Both run the engine with the GIL
 * released: columns are converted chunk by chunk into ReferralEvents with
 * the GIL held (strings stay owned by a private tuple or a C arena), then
 * the chunk is applied without it.
 *
 * Out: member_columns() and posting_columns() fill numpy arrays in one C
 * pass over the tree or the ledger. */
#include "pyreferral.h"

#include <string.h>

/* ------------------------------------------------------------ helpers */

static PyObject *
run_summary (guint64 lines, guint64 applied, guint64 duplicates, guint64 errors,
             PyObject *messages)
{
  PyObject *r = PyStructSequence_New (pyref_run_summary_type);
  if (r == NULL)
    return NULL;
  PyStructSequence_SET_ITEM (r, 0, PyLong_FromUnsignedLongLong (lines));
  PyStructSequence_SET_ITEM (r, 1, PyLong_FromUnsignedLongLong (applied));
  PyStructSequence_SET_ITEM (r, 2, PyLong_FromUnsignedLongLong (duplicates));
  PyStructSequence_SET_ITEM (r, 3, PyLong_FromUnsignedLongLong (errors));
  PyStructSequence_SET_ITEM (r, 4, PyList_AsTuple (messages));
  PyStructSequence_SET_ITEM (r, 5, PyBool_FromLong (errors == 0));
  if (PyErr_Occurred ())
    Py_CLEAR (r);
  return r;
}

/* ------------------------------------------------------------ apply_jsonl */

static void
collect_report (const char *file, guint64 line, const char *message, gpointer user_data)
{
  /* Called without the GIL: keep plain C strings. */
  g_ptr_array_add (user_data, g_strdup_printf ("%s:%" G_GUINT64_FORMAT ": %s", file, line,
                                               message));
}

PyObject *
pyref_engine_apply_jsonl (PyRefEngine *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "path", "keep_going", "threads", NULL };
  PyObject *path_obj;
  int keep_going = 0, threads = 2;
  if (!pyref_engine_check_writable (self))
    return NULL;
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "O&|p$i:apply_jsonl", kwlist,
                                    PyUnicode_FSConverter, &path_obj, &keep_going, &threads))
    return NULL;
  if (threads != 1 && threads != 2)
    {
      Py_DECREF (path_obj);
      PyErr_Format (PyExc_ValueError, "threads must be 1 or 2, not %d", threads);
      return NULL;
    }
  char *path = g_strdup (PyBytes_AS_STRING (path_obj));
  Py_DECREF (path_obj);

  GPtrArray *reports = g_ptr_array_new_with_free_func (g_free);
  ReferralRunStats stats = { 0, 0, 0, 0 };
  GError *error = NULL;
  ReferralEngine *engine = self->engine;
  ReferralRunFlags flags = keep_going ? REFERRAL_RUN_KEEP_GOING : REFERRAL_RUN_STOP_AT_ERROR;
  if (threads == 1)
    flags |= REFERRAL_RUN_ONE_THREAD;
  self->busy = TRUE;
  Py_BEGIN_ALLOW_THREADS
  referral_engine_apply_jsonl (engine, path, flags, collect_report, reports, &stats, &error);
  Py_END_ALLOW_THREADS
  self->busy = FALSE;
  g_free (path);

  PyObject *result = NULL;
  if (pyref_reraise_fatal ())
    g_clear_error (&error);
  else if (error != NULL)
    pyref_raise_gerror (error);
  else
    {
      PyObject *messages = PyList_New (0);
      for (guint i = 0; messages != NULL && i < reports->len; i++)
        {
          PyObject *s = PyUnicode_DecodeUTF8 (reports->pdata[i],
                                              (Py_ssize_t) strlen (reports->pdata[i]),
                                              "replace");
          if (s == NULL || PyList_Append (messages, s) < 0)
            Py_CLEAR (messages);
          Py_XDECREF (s);
        }
      if (messages != NULL)
        result = run_summary (stats.lines, stats.applied, stats.duplicates, stats.errors,
                              messages);
      Py_XDECREF (messages);
    }
  g_ptr_array_unref (reports);
  return result;
}

/* ------------------------------------------------------------ apply_columns */

/* The columns a table may have: the fields of events.md, plus amount_minor
 * (int64 minor units, for generated streams). */
typedef enum {
  COL_TYPE, COL_ID, COL_TIME, COL_MEMBER, COL_SPONSOR, COL_ORDER, COL_AMOUNT, COL_SKU,
  COL_PERIOD, COL_OLD, COL_NEW, COL_RANK, COL_AMOUNT_MINOR, N_COLS
} Col;

static const char *const col_names[N_COLS] = {
  "type", "id", "time", "member", "sponsor", "order", "amount", "sku", "period", "old", "new",
  "rank", "amount_minor",
};

/* Columns that may be int64 buffers; for string fields a number n >= 0
 * stands for the key text "n", a negative number for "absent". */
static const gboolean col_allows_int[N_COLS] = {
  [COL_TYPE] = TRUE, [COL_ID] = TRUE, [COL_MEMBER] = TRUE, [COL_SPONSOR] = TRUE,
  [COL_ORDER] = TRUE, [COL_PERIOD] = TRUE, [COL_OLD] = TRUE, [COL_NEW] = TRUE,
  [COL_AMOUNT_MINOR] = TRUE,
};

typedef struct {
  PyObject *items;   /* a tuple of the values (list columns), or NULL */
  Py_buffer buf;     /* int64 values (buffer columns) */
  gboolean has_buf;
} Column;

static const char **
col_slot (ReferralEvent *ev, Col c)
{
  switch (c)
    {
    case COL_ID: return &ev->id;
    case COL_TIME: return &ev->time;
    case COL_MEMBER: return &ev->member;
    case COL_SPONSOR: return &ev->sponsor;
    case COL_ORDER: return &ev->order;
    case COL_SKU: return &ev->sku;
    case COL_PERIOD: return &ev->period;
    case COL_OLD: return &ev->old_member;
    case COL_NEW: return &ev->new_member;
    case COL_RANK: return &ev->rank;
    case COL_TYPE:
    case COL_AMOUNT:
    case COL_AMOUNT_MINOR:
    case N_COLS:
    default:
      return NULL;
    }
}

static gboolean
is_int64_format (const char *format)
{
  if (format == NULL)
    return FALSE;
  if (*format == '<' || *format == '=' || *format == '@')
    format++;
  return (strcmp (format, "q") == 0 || strcmp (format, "l") == 0);
}

/* Reads column @c of the columns dict; Returns: the row count, -1 when the
 * column is absent, -2 with an exception. */
static Py_ssize_t
column_open (PyObject *columns, Col c, Column *col)
{
  PyObject *v = PyDict_GetItemString (columns, col_names[c]);
  if (v == NULL || v == Py_None)
    return -1;
  if (PyList_Check (v) || PyTuple_Check (v))
    {
      if (c == COL_AMOUNT_MINOR)
        {
          PyErr_SetString (PyExc_TypeError, "column \"amount_minor\" must be an int64 array");
          return -2;
        }
      /* A private tuple: nobody can change it while the GIL is released. */
      col->items = PySequence_Tuple (v);
      return col->items != NULL ? PyTuple_GET_SIZE (col->items) : -2;
    }
  if (!col_allows_int[c])
    {
      PyErr_Format (PyExc_TypeError, "column \"%s\" must be a list of str%s, not %.100s",
                    col_names[c], c == COL_AMOUNT ? " or int" : "", Py_TYPE (v)->tp_name);
      return -2;
    }
  if (PyObject_GetBuffer (v, &col->buf, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0)
    {
      PyErr_Clear ();
      PyErr_Format (PyExc_TypeError, "column \"%s\" must be a list or a contiguous int64 "
                    "array, not %.100s", col_names[c], Py_TYPE (v)->tp_name);
      return -2;
    }
  col->has_buf = TRUE;
  if (col->buf.itemsize != 8 || col->buf.ndim != 1 || !is_int64_format (col->buf.format))
    {
      PyErr_Format (PyExc_TypeError, "column \"%s\" must be one-dimensional int64, not "
                    "format '%s'", col_names[c], col->buf.format ? col->buf.format : "B");
      return -2;
    }
  return col->buf.len / 8;
}

static void
column_close (Column *col)
{
  Py_CLEAR (col->items);
  if (col->has_buf)
    PyBuffer_Release (&col->buf);
  col->has_buf = FALSE;
}

typedef struct {
  guint64 row;
  gint code;
  char *message;
} RowError;

static void
row_error_clear (gpointer p)
{
  g_free (((RowError *) p)->message);
}

/* Records the pending Python exception as row @row's error when it is a
 * referral.Error (a bad value); Returns: FALSE, leaving any other
 * exception raised (a programming error aborts the call). */
static gboolean
take_row_error (GArray *errors, guint64 row)
{
  if (!PyErr_ExceptionMatches (pyref_error))
    return FALSE;
  PyObject *type, *value, *tb;
  PyErr_Fetch (&type, &value, &tb);
  PyErr_NormalizeException (&type, &value, &tb);
  PyObject *code_obj = PyObject_GetAttrString (value, "code");
  PyObject *text = PyObject_Str (value);
  RowError e = { row, REFERRAL_ERROR_PARSE, NULL };
  if (code_obj != NULL && PyLong_Check (code_obj))
    e.code = (gint) PyLong_AsLong (code_obj);
  const char *m = text != NULL ? PyUnicode_AsUTF8 (text) : NULL;
  e.message = g_strdup_printf ("row %" G_GUINT64_FORMAT ": %s", row, m != NULL ? m : "bad value");
  PyErr_Clear ();
  Py_XDECREF (code_obj);
  Py_XDECREF (text);
  Py_XDECREF (type);
  Py_XDECREF (value);
  Py_XDECREF (tb);
  g_array_append_val (errors, e);
  return TRUE;
}

#define CHUNK 4096
/* Longest decimal text of an int64, with its NUL. */
#define INT_TEXT 21

typedef struct {
  ReferralEvent ev[CHUNK];
  gboolean ok[CHUNK];      /* converted; FALSE rows are already counted as errors */
  char *arena;             /* decimal texts of int64 keys */
  gsize arena_used, arena_cap;
  PyObject *keep;          /* texts made for int amounts */
} Chunk;

/* Fills @ev from row @row.  Returns: FALSE with an exception raised. */
static gboolean
convert_row (Column *cols, Py_ssize_t row, guint decimals, Chunk *chunk, ReferralEvent *ev)
{
  /* Messages say nothing of the row: take_row_error() prefixes it. */
  *ev = (ReferralEvent) REFERRAL_EVENT_INIT;

  /* type */
  Column *tc = &cols[COL_TYPE];
  if (tc->items != NULL)
    {
      PyObject *v = PyTuple_GET_ITEM (tc->items, row);
      const char *t = PyUnicode_Check (v) ? PyUnicode_AsUTF8 (v) : NULL;
      if (t == NULL)
        {
          PyErr_Clear ();
          return pyref_raisef (REFERRAL_ERROR_PARSE, "field \"type\" must be a string, "
                               "not %s", pyref_python_type_name (v)), FALSE;
        }
      if (!pyref_event_set_type_name (ev, t))
        return pyref_raisef (REFERRAL_ERROR_PARSE, "unknown type \"%s\"", t), FALSE;
    }
  else
    {
      gint64 code = ((const gint64 *) tc->buf.buf)[row];
      if (!pyref_event_set_type_code (ev, (long) code))
        return pyref_raisef (REFERRAL_ERROR_PARSE, "unknown type code %" G_GINT64_FORMAT,
                             code), FALSE;
    }

  for (Col c = COL_ID; c < N_COLS; c++)
    {
      Column *col = &cols[c];
      if (col->items == NULL && !col->has_buf)
        continue;
      if (c == COL_AMOUNT_MINOR)
        {
          ev->amount = ((const gint64 *) col->buf.buf)[row];
          continue;
        }
      if (col->has_buf)
        {
          gint64 n = ((const gint64 *) col->buf.buf)[row];
          if (n < 0)
            continue;
          char *text = chunk->arena + chunk->arena_used;
          int len = g_snprintf (text, INT_TEXT, "%" G_GINT64_FORMAT, n);
          chunk->arena_used += (gsize) len + 1;
          *col_slot (ev, c) = text;
          continue;
        }
      PyObject *v = PyTuple_GET_ITEM (col->items, row);
      if (v == Py_None)
        continue;
      if (c == COL_AMOUNT)
        {
          PyObject *text;
          gboolean ok = pyref_read_amount (v, decimals, ev, &text, NULL);
          /* The text must outlive the chunk when it was made here (an int's
           * text); a str of the column's tuple lives long enough anyway. */
          if (text != NULL && text != v)
            {
              if (PyList_Append (chunk->keep, text) < 0)
                ok = FALSE;
            }
          Py_XDECREF (text);
          if (!ok)
            return FALSE;
          continue;
        }
      if (!PyUnicode_Check (v))
        return pyref_raisef (REFERRAL_ERROR_PARSE, "field \"%s\" must be a string, not %s",
                             col_names[c], pyref_python_type_name (v)), FALSE;
      Py_ssize_t len;
      const char *s = PyUnicode_AsUTF8AndSize (v, &len);
      if (s == NULL)
        return FALSE;
      if ((size_t) len != strlen (s))
        return pyref_raisef (REFERRAL_ERROR_PARSE, "field \"%s\" contains a NUL character",
                             col_names[c]), FALSE;
      *col_slot (ev, c) = s;
    }
  return TRUE;
}

/* Raises the error of @e as its class, with attributes row and summary. */
static void
raise_row_error (const RowError *e, PyObject *summary)
{
  PyObject *cls = pyref_error_class (e->code);
  PyObject *exc = PyObject_CallFunction (cls, "s", e->message);
  if (exc == NULL)
    return;
  PyObject *row = PyLong_FromUnsignedLongLong (e->row);
  if (row != NULL && PyObject_SetAttrString (exc, "row", row) == 0
      && PyObject_SetAttrString (exc, "summary", summary) == 0)
    PyErr_SetObject (cls, exc);
  Py_XDECREF (row);
  Py_DECREF (exc);
}

PyObject *
pyref_engine_apply_columns (PyRefEngine *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "columns", "keep_going", NULL };
  PyObject *columns;
  int keep_going = 0;
  if (!pyref_engine_check_writable (self))
    return NULL;
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "O!|p:_apply_columns", kwlist, &PyDict_Type,
                                    &columns, &keep_going))
    return NULL;

  /* Every key must be a column name. */
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  while (PyDict_Next (columns, &pos, &key, &value))
    {
      const char *k = PyUnicode_Check (key) ? PyUnicode_AsUTF8 (key) : NULL;
      gboolean known = FALSE;
      for (int c = 0; k != NULL && c < N_COLS && !known; c++)
        known = strcmp (k, col_names[c]) == 0;
      if (!known)
        {
          PyErr_Clear ();
          PyObject *r = PyObject_Repr (key);
          pyref_raisef (REFERRAL_ERROR_PARSE, "unknown column %s", r ? PyUnicode_AsUTF8 (r) : "?");
          Py_XDECREF (r);
          return NULL;
        }
    }

  Column cols[N_COLS];
  memset (cols, 0, sizeof cols);
  Py_ssize_t n_rows = -1;
  PyObject *result = NULL;
  Chunk *chunk = NULL;
  GArray *errors = g_array_new (FALSE, FALSE, sizeof (RowError));
  g_array_set_clear_func (errors, row_error_clear);
  guint n_int_cols = 0;
  for (Col c = 0; c < N_COLS; c++)
    {
      Py_ssize_t n = column_open (columns, c, &cols[c]);
      if (n == -2)
        goto out;
      if (n == -1)
        {
          if (c == COL_TYPE || c == COL_ID)
            {
              pyref_raisef (REFERRAL_ERROR_PARSE, "column \"%s\" is required", col_names[c]);
              goto out;
            }
          continue;
        }
      if (cols[c].has_buf && c != COL_TYPE && c != COL_AMOUNT_MINOR)
        n_int_cols++;
      if (n_rows >= 0 && n != n_rows)
        {
          PyErr_Format (PyExc_ValueError, "column \"%s\" has %zd rows, column \"type\" %zd",
                        col_names[c], n, n_rows);
          goto out;
        }
      n_rows = n;
    }
  if (cols[COL_AMOUNT].items != NULL && cols[COL_AMOUNT_MINOR].has_buf)
    {
      PyErr_SetString (PyExc_ValueError, "give \"amount\" or \"amount_minor\", not both");
      goto out;
    }

  chunk = g_new0 (Chunk, 1);
  chunk->arena_cap = (gsize) CHUNK * n_int_cols * INT_TEXT + 1;
  chunk->arena = g_malloc (chunk->arena_cap);
  guint64 applied = 0, duplicates = 0, rows_done = 0;
  gboolean stopped = FALSE;
  guint decimals = self->decimals;
  ReferralEngine *engine = self->engine;

  for (Py_ssize_t start = 0; start < n_rows && !stopped; start += CHUNK)
    {
      Py_ssize_t end = MIN (n_rows, start + CHUNK);
      chunk->arena_used = 0;
      chunk->keep = PyList_New (0);
      if (chunk->keep == NULL)
        goto out;
      for (Py_ssize_t r = start; r < end; r++)
        {
          ReferralEvent *ev = &chunk->ev[r - start];
          chunk->ok[r - start] = convert_row (cols, r, decimals, chunk, ev);
          if (!chunk->ok[r - start] && !take_row_error (errors, (guint64) r))
            {
              Py_CLEAR (chunk->keep);
              goto out;
            }
        }

      /* Apply the chunk without the GIL.  A row that failed conversion is
       * an error like a rejected event (already recorded). */
      Py_ssize_t n = end - start;
      Py_ssize_t done = 0;
      guint64 ok_applied = 0, ok_dup = 0;
      GPtrArray *rejections = g_ptr_array_new ();
      self->busy = TRUE;
      Py_BEGIN_ALLOW_THREADS
      while (done < n)
        {
          if (!chunk->ok[done])
            {
              if (!keep_going)
                break;
              done++;
              continue;
            }
          /* A run of well-formed rows goes to the engine in one call, which
           * prefetches ahead within it. */
          Py_ssize_t run = done;
          while (run < n && chunk->ok[run])
            run++;
          gsize handled = 0, dups = 0;
          GError *error = NULL;
          gboolean all = referral_engine_apply_many (engine, &chunk->ev[done], (gsize) (run - done),
                                                     &handled, &dups, &error);
          ok_dup += dups;
          ok_applied += handled - dups;
          done += (Py_ssize_t) handled;
          if (all)
            continue;
          g_ptr_array_add (rejections, GSIZE_TO_POINTER ((gsize) done));
          g_ptr_array_add (rejections, error);
          if (!keep_going)
            break;
          done++;
        }
      Py_END_ALLOW_THREADS
      self->busy = FALSE;
      Py_CLEAR (chunk->keep);

      applied += ok_applied;
      duplicates += ok_dup;
      for (guint i = 0; i < rejections->len; i += 2)
        {
          GError *error = rejections->pdata[i + 1];
          RowError e = { (guint64) (start + GPOINTER_TO_SIZE (rejections->pdata[i])),
                         error->domain == REFERRAL_ERROR ? error->code : -1, NULL };
          e.message = g_strdup_printf ("row %" G_GUINT64_FORMAT ": %s", e.row, error->message);
          g_error_free (error);
          g_array_append_val (errors, e);
        }
      g_ptr_array_unref (rejections);
      if (done < n)
        {
          stopped = TRUE;
          rows_done = (guint64) (start + done + 1);
        }
      else
        rows_done = (guint64) end;
      if (pyref_reraise_fatal () || PyErr_CheckSignals () < 0)
        goto out;
    }

  /* Errors in row order (conversion errors were recorded before the
   * chunk's rejections). */
  if (errors->len > 1)
    {
      RowError *e = (RowError *) (void *) errors->data;
      for (guint i = 1; i < errors->len; i++)
        for (guint j = i; j > 0 && e[j - 1].row > e[j].row; j--)
          {
            RowError t = e[j];
            e[j] = e[j - 1];
            e[j - 1] = t;
          }
    }
  if (!keep_going && errors->len > 1)
    g_array_set_size (errors, 1);
  PyObject *messages = PyList_New (0);
  for (guint i = 0; messages != NULL && i < errors->len; i++)
    {
      PyObject *s = PyUnicode_FromString (g_array_index (errors, RowError, i).message);
      if (s == NULL || PyList_Append (messages, s) < 0)
        Py_CLEAR (messages);
      Py_XDECREF (s);
    }
  if (messages == NULL)
    goto out;
  result = run_summary (rows_done, applied, duplicates, errors->len, messages);
  Py_DECREF (messages);
  if (result != NULL && !keep_going && errors->len > 0)
    {
      raise_row_error (&g_array_index (errors, RowError, 0), result);
      Py_CLEAR (result);
    }

out:
  for (Col c = 0; c < N_COLS; c++)
    column_close (&cols[c]);
  if (chunk != NULL)
    {
      Py_XDECREF (chunk->keep);
      g_free (chunk->arena);
      g_free (chunk);
    }
  g_array_unref (errors);
  return result;
}

/* ------------------------------------------------------------ arrays out */

/* A new numpy array of @n items of @dtype, with its buffer in @view. */
static PyObject *
new_array (PyObject *numpy, Py_ssize_t n, const char *dtype, Py_buffer *view)
{
  PyObject *arr = PyObject_CallMethod (numpy, "empty", "ns", n, dtype);
  if (arr == NULL)
    return NULL;
  if (PyObject_GetBuffer (arr, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0)
    {
      Py_DECREF (arr);
      return NULL;
    }
  return arr;
}

typedef struct {
  const char *name;
  const char *dtype;
  PyObject *array;
  Py_buffer view;
} OutColumn;

/* Makes every array of @cols (@n items each).  Returns: FALSE with an
 * exception (arrays made so far are released by out_columns_free). */
static gboolean
out_columns_new (OutColumn *cols, gsize n_cols, Py_ssize_t n)
{
  PyObject *numpy = PyImport_ImportModule ("numpy");
  if (numpy == NULL)
    return FALSE;
  gboolean ok = TRUE;
  for (gsize i = 0; ok && i < n_cols; i++)
    ok = (cols[i].array = new_array (numpy, n, cols[i].dtype, &cols[i].view)) != NULL;
  Py_DECREF (numpy);
  return ok;
}

/* Releases the buffers; Returns: (transfer full) the dict of arrays when
 * @ok, else NULL. */
static PyObject *
out_columns_finish (OutColumn *cols, gsize n_cols, gboolean ok)
{
  PyObject *dict = ok ? PyDict_New () : NULL;
  for (gsize i = 0; i < n_cols; i++)
    {
      if (cols[i].array == NULL)
        continue;
      PyBuffer_Release (&cols[i].view);
      if (dict != NULL && PyDict_SetItemString (dict, cols[i].name, cols[i].array) < 0)
        Py_CLEAR (dict);
      Py_CLEAR (cols[i].array);
    }
  return dict;
}

PyObject *
pyref_engine_member_columns (PyRefEngine *self, PyObject *noargs)
{
  if (!pyref_engine_check_idle (self))
    return NULL;
  const ReferralTree *tree = referral_engine_tree (self->engine);
  const ReferralLedger *ledger = referral_engine_ledger (self->engine);
  guint32 n = referral_tree_size (tree);
  OutColumn cols[] = {
    { "available", "int64", NULL, { 0 } },
    { "held", "int64", NULL, { 0 } },
    { "rank", "uint8", NULL, { 0 } },
    { "sponsor", "int64", NULL, { 0 } },
    { "parent", "int64", NULL, { 0 } },
    { "n_children", "int64", NULL, { 0 } },
    { "n_sponsored", "int64", NULL, { 0 } },
  };
  gboolean ok = out_columns_new (cols, G_N_ELEMENTS (cols), n);
  if (ok)
    {
      gint64 *avail = cols[0].view.buf, *held = cols[1].view.buf;
      guint8 *rank = cols[2].view.buf;
      gint64 *sponsor = cols[3].view.buf, *parent = cols[4].view.buf;
      gint64 *n_children = cols[5].view.buf, *n_sponsored = cols[6].view.buf;
      for (guint32 m = 0; m < n; m++)
        {
          avail[m] = referral_ledger_balance (ledger,
                                              referral_ledger_member_account (ledger, m, FALSE));
          held[m] = referral_ledger_balance (ledger,
                                             referral_ledger_member_account (ledger, m, TRUE));
          rank[m] = referral_tree_rank (tree, m);
          ReferralMember s = referral_tree_sponsor (tree, m), p = referral_tree_parent (tree, m);
          sponsor[m] = s == REFERRAL_NO_MEMBER ? -1 : (gint64) s;
          parent[m] = p == REFERRAL_NO_MEMBER ? -1 : (gint64) p;
          n_children[m] = referral_tree_n_children (tree, m);
          n_sponsored[m] = referral_tree_n_sponsored (tree, m);
        }
    }
  return out_columns_finish (cols, G_N_ELEMENTS (cols), ok);
}

PyObject *
pyref_engine_posting_columns (PyRefEngine *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "start", "stop", NULL };
  PyObject *start_obj = Py_None, *stop_obj = Py_None;
  if (!pyref_engine_check_idle (self))
    return NULL;
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "|OO:posting_columns", kwlist, &start_obj,
                                    &stop_obj))
    return NULL;
  const ReferralLedger *ledger = referral_engine_ledger (self->engine);
  guint64 total = referral_ledger_n_postings (ledger);
  Py_ssize_t s = 0, e = (Py_ssize_t) total;
  if ((start_obj != Py_None
       && (s = PyNumber_AsSsize_t (start_obj, PyExc_OverflowError)) == -1 && PyErr_Occurred ())
      || (stop_obj != Py_None
          && (e = PyNumber_AsSsize_t (stop_obj, PyExc_OverflowError)) == -1 && PyErr_Occurred ()))
    return NULL;
  PySlice_AdjustIndices ((Py_ssize_t) total, &s, &e, 1);
  guint64 start = (guint64) s, stop = (guint64) MAX (s, e);
  Py_ssize_t n = (Py_ssize_t) (stop - start);

  OutColumn cols[] = {
    { "index", "int64", NULL, { 0 } },
    { "event", "int64", NULL, { 0 } },
    { "kind", "uint16", NULL, { 0 } },
    { "rule", "uint8", NULL, { 0 } },
    { "from_account", "int64", NULL, { 0 } },
    { "to_account", "int64", NULL, { 0 } },
    { "amount", "int64", NULL, { 0 } },
    { "cause", "int64", NULL, { 0 } },
    { "reversal", "bool", NULL, { 0 } },
  };
  gboolean ok = out_columns_new (cols, G_N_ELEMENTS (cols), n);
  if (ok)
    {
      gint64 *index = cols[0].view.buf, *event = cols[1].view.buf;
      guint16 *kind = cols[2].view.buf;
      guint8 *rule = cols[3].view.buf;
      gint64 *from = cols[4].view.buf, *to = cols[5].view.buf, *amount = cols[6].view.buf;
      gint64 *cause = cols[7].view.buf;
      guint8 *reversal = cols[8].view.buf; /* numpy bool is one byte, 0 or 1 */
      for (guint64 i = start; i < stop; i++)
        {
          const ReferralPosting *p = referral_ledger_posting (ledger, i);
          gsize j = (gsize) (i - start);
          guint64 c = referral_posting_cause (p, i);
          index[j] = (gint64) i;
          event[j] = p->event;
          kind[j] = p->kind;
          rule[j] = p->rule;
          from[j] = p->from;
          to[j] = p->to;
          amount[j] = p->amount;
          cause[j] = c == REFERRAL_NO_POSTING ? -1 : (gint64) c;
          reversal[j] = (p->flags & REFERRAL_POSTING_REVERSAL) ? 1 : 0;
        }
    }
  PyObject *dict = out_columns_finish (cols, G_N_ELEMENTS (cols), ok);
  if (dict == NULL)
    return NULL;

  /* Kind names by number: every kind the ledger knows. */
  guint n_kinds = referral_ledger_n_kinds (ledger);
  PyObject *names = PyList_New (n_kinds);
  for (guint k = 0; names != NULL && k < n_kinds; k++)
    {
      PyObject *s2 = PyUnicode_FromString (referral_ledger_kind_name (ledger, (ReferralKind) k));
      if (s2 == NULL)
        Py_CLEAR (names);
      else
        PyList_SET_ITEM (names, k, s2);
    }
  if (names == NULL || PyDict_SetItemString (dict, "kind_names", names) < 0)
    Py_CLEAR (dict);
  Py_XDECREF (names);
  return dict;
}
