/* The C API of a Kiln project compiled as a library: `kiln build --emit=lib` writes
 * target/lib<project>.a and target/<project>.h, this file with `kiln_project_` and
 * `KILN_PROJECT_` renamed after the project (so that two projects link into one program) and the
 * project's tables, sinks and columns listed where the marker below is.
 *
 * An instance maintains every model of the project over the changes pushed into it. Changes are
 * grouped in ticks: push any number, then commit; the commit delivers each sink model's
 * consolidated changes to a callback. Ticks are atomic: a SQL runtime error (division by zero,
 * overflow, an invalid cast) leaves the instance exactly as it was before the change or tick
 * that raised it, and is returned to the caller, who decides what to do.
 *
 * Linking: the archive holds the engine and everything it needs except the C++ standard library
 * and simdjson, whose shared libraries come with Debian (libstdc++6, libsimdjson14):
 *     cc app.c target/libshop.a -lstdc++ -lsimdjson -lm -lpthread
 *
 * Ownership: the library never keeps a pointer the caller passed after the call returns (it
 * copies rows and strings), and pointers it returns are valid until the next call on the same
 * instance, unless said otherwise. Errors: functions return a kiln_project_status; the library
 * never prints, exits or aborts on the caller's account; kiln_project_error() tells what failed.
 *
 * Threads: an instance is used by one thread at a time (calls on one instance must not overlap);
 * different instances are independent, and may be used from different threads at once. The
 * library has no global state.
 */
#ifndef KILN_PROJECT_API_H
#define KILN_PROJECT_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this API. kiln_project_open refuses options of another version, so a program
 * compiled against one Kiln's header does not run against another Kiln's library. */
#define KILN_PROJECT_API_VERSION 1

typedef enum kiln_project_status {
  KILN_PROJECT_OK = 0,
  /* The change does not fit its table: JSON that does not parse, a value of the wrong type, NULL
   * in a NOT NULL column, an insert of a key the table has, a delete of one it has not. Nothing
   * changed. */
  KILN_PROJECT_BAD_CHANGE = 1,
  /* A SQL runtime error. From a push: nothing of that change is applied, the tick's earlier
   * changes are. From a commit: nothing of the tick is applied (on_error FAIL). */
  KILN_PROJECT_RUNTIME_ERROR = 2,
  /* A misuse: an unknown table, sink or column, a setter for another type, a NULL argument. */
  KILN_PROJECT_INVALID_ARGUMENT = 3,
  /* kiln_project_open: options of another API version, or a library of another runtime ABI. */
  KILN_PROJECT_VERSION_MISMATCH = 4,
  KILN_PROJECT_INTERNAL_ERROR = 5 /* out of memory, or a bug: the message says */
} kiln_project_status;

typedef enum kiln_project_op {
  KILN_PROJECT_INSERT = 0,
  KILN_PROJECT_DELETE = 1, /* of a table with a primary key: the row needs only its key columns */
  KILN_PROJECT_UPSERT = 2  /* tables with a primary key only */
} kiln_project_op;

typedef enum kiln_project_on_error {
  /* A runtime error raised by a commit fails the commit: nothing of the tick is applied. */
  KILN_PROJECT_ON_ERROR_FAIL = 0,
  /* The commit leaves out the changes that raise errors (each reported by
   * kiln_project_left_out) and applies the rest. */
  KILN_PROJECT_ON_ERROR_ISOLATE = 1
} kiln_project_on_error;

/* Column types, as kiln_project_column_type reports them. */
typedef enum kiln_project_type {
  KILN_PROJECT_TYPE_BOOLEAN = 0,
  KILN_PROJECT_TYPE_INTEGER = 1,
  KILN_PROJECT_TYPE_BIGINT = 2,
  KILN_PROJECT_TYPE_DOUBLE = 3,
  KILN_PROJECT_TYPE_NUMERIC = 4,
  KILN_PROJECT_TYPE_TEXT = 5,
  KILN_PROJECT_TYPE_DATE = 6,
  KILN_PROJECT_TYPE_TIMESTAMP = 7,
  KILN_PROJECT_TYPE_TIMESTAMPTZ = 8, /* timestamp with time zone: an instant, kept in UTC */
  KILN_PROJECT_TYPE_JSONB = 9,       /* jsonb: its text as PostgreSQL prints it */
  KILN_PROJECT_TYPE_INTERVAL = 10    /* interval: its text through kiln_project_format_value */
} kiln_project_type;

typedef struct kiln_project_options {
  int32_t api_version; /* KILN_PROJECT_API_VERSION */
  int32_t on_error;    /* kiln_project_on_error */
} kiln_project_options;

/* The project's tables (sources), sinks, indexes (models materialized as `index`) and their
 * columns, by number.
 * @KILN_PROJECT_CONSTANTS@ */

typedef struct kiln_project kiln_project;         /* one instance of the project */
typedef struct kiln_project_row kiln_project_row; /* a row being built, or a sink's row */

/* Opens an instance. On failure *instance is NULL and, if error_size > 0, `error` holds the
 * message (NUL-terminated, cut to error_size - 1 bytes). */
kiln_project_status kiln_project_open(const kiln_project_options *options, kiln_project **instance,
                                      char *error, size_t error_size);
/* Frees the instance; an uncommitted tick is dropped. NULL is allowed. */
void kiln_project_close(kiln_project *instance);
/* What the last failed call on the instance failed with (NUL-terminated; "" if none). Valid until
 * the next call on the instance. */
const char *kiln_project_error(const kiln_project *instance);

/* ---- Changes ----
 * Pushes change number kiln_project_changes_pushed() of the tick (counting every push, failed or
 * not, from 0): `json` is the row as a JSON object, {"id":1,"amount":"12.50","name":null}; a
 * column it leaves out is NULL. */
kiln_project_status kiln_project_push_json(kiln_project *instance, int32_t table, int32_t op,
                                           const char *json, size_t length);

/* Typed rows, for the hot path: begin a row of `table` (every column NULL), set its columns,
 * push it. The row belongs to the instance and is valid until it is pushed or another row is
 * begun. Each setter checks the column's type:
 *   set_bool     BOOLEAN
 *   set_int64    INTEGER (range-checked), BIGINT, NUMERIC (an integer value)
 *   set_double   DOUBLE PRECISION
 *   set_text     TEXT; for any other type, the value in PostgreSQL's text form ("12.50",
 *                "2024-01-31", "2024-01-31 12:00:00", "t", JSON text for JSONB), parsed as
 *                PostgreSQL parses it
 *   set_date     DATE: days since 2000-01-01
 *   set_timestamp TIMESTAMP: microseconds since 2000-01-01 00:00:00; TIMESTAMP WITH TIME ZONE:
 *                 microseconds since 2000-01-01 00:00:00 UTC */
kiln_project_row *kiln_project_row_begin(kiln_project *instance, int32_t table);
kiln_project_status kiln_project_set_null(kiln_project_row *row, int32_t column);
kiln_project_status kiln_project_set_bool(kiln_project_row *row, int32_t column, int value);
kiln_project_status kiln_project_set_int64(kiln_project_row *row, int32_t column, int64_t value);
kiln_project_status kiln_project_set_double(kiln_project_row *row, int32_t column, double value);
kiln_project_status kiln_project_set_text(kiln_project_row *row, int32_t column, const char *text,
                                          size_t length);
kiln_project_status kiln_project_set_date(kiln_project_row *row, int32_t column, int32_t days);
kiln_project_status kiln_project_set_timestamp(kiln_project_row *row, int32_t column,
                                               int64_t micros);
kiln_project_status kiln_project_row_push(kiln_project_row *row, int32_t op);

/* Changes pushed in the current tick, failed ones included. */
int64_t kiln_project_changes_pushed(const kiln_project *instance);

/* ---- Ticks ---- */

/* Receives one consolidated change of a sink: weight > 0 inserts the row (that many times),
 * weight < 0 deletes it. The row is valid during the call only. */
typedef void (*kiln_project_change_fn)(void *context, int32_t sink, const kiln_project_row *row,
                                       int64_t weight);

/* Ends the tick: maintains every model and calls on_change (if not NULL) for each change of each
 * sink, in a deterministic order. Returns KILN_PROJECT_RUNTIME_ERROR if a SQL runtime error
 * leaves nothing of the tick applied (kiln_project_error names the model, the location in its
 * file and the change to blame); the instance is then as it was before the tick. */
kiln_project_status kiln_project_commit(kiln_project *instance, kiln_project_change_fn on_change,
                                        void *context);
/* Drops the current tick: the instance is as it was after the last commit. */
void kiln_project_rollback(kiln_project *instance);

/* The changes the last commit left out (KILN_PROJECT_ON_ERROR_ISOLATE): how many, and the i-th's
 * number in its tick and reason (valid until the next call on the instance). */
int64_t kiln_project_left_out_count(const kiln_project *instance);
kiln_project_status kiln_project_left_out(const kiln_project *instance, int64_t i, int64_t *change,
                                          const char **reason);

/* ---- Rows (a sink's rows in on_change, or a row being built) ---- */
int32_t kiln_project_row_columns(const kiln_project_row *row);
const char *kiln_project_column_name(const kiln_project_row *row, int32_t column);
int32_t kiln_project_column_type(const kiln_project_row *row, int32_t column);
int kiln_project_is_null(const kiln_project_row *row, int32_t column);
/* The value of a non-NULL column (0 for NULL, or for a column of another type):
 *   get_int64   BOOLEAN (0/1), INTEGER, BIGINT, DATE (days), TIMESTAMP [WITH TIME ZONE]
 *               (microseconds)
 *   get_double  DOUBLE PRECISION, NUMERIC (rounded to the nearest double)
 *   get_text    TEXT, and JSONB in its canonical text; not NUL-terminated: *length bytes */
int64_t kiln_project_get_int64(const kiln_project_row *row, int32_t column);
double kiln_project_get_double(const kiln_project_row *row, int32_t column);
const char *kiln_project_get_text(const kiln_project_row *row, int32_t column, size_t *length);
/* The value in PostgreSQL's text form, or the row as a JSON object; like snprintf, writes at most
 * `size` bytes including a terminating NUL and returns the length the whole text has. A NULL
 * value formats as "" (check kiln_project_is_null). */
size_t kiln_project_format_value(const kiln_project_row *row, int32_t column, char *buffer,
                                 size_t size);
size_t kiln_project_format_json(const kiln_project_row *row, char *buffer, size_t size);

/* ---- Index models ----
 * A model materialized as `index` ({{ config(materialized='index', unique_key='id') }}) is kept
 * for lookups by its unique_key. Begin a key row of the index (every column NULL), set its key
 * columns with the setters above, and look it up: `visit` is called for every current row whose
 * key columns equal the key row's (NULL equals NULL here), with its multiplicity. A scan visits
 * every row. Both read the state of the last commit, so they fail
 * (KILN_PROJECT_INVALID_ARGUMENT) while the tick has changes; they return how many rows they
 * visited, or -1 on an error (kiln_project_error tells). The row passed to `visit` is valid during
 * the call only. */
typedef void (*kiln_project_row_fn)(void *context, const kiln_project_row *row, int64_t count);
kiln_project_row *kiln_project_key_begin(kiln_project *instance, int32_t index);
int64_t kiln_project_lookup(kiln_project *instance, const kiln_project_row *key,
                            kiln_project_row_fn visit, void *context);
int64_t kiln_project_scan(kiln_project *instance, int32_t index, kiln_project_row_fn visit,
                          void *context);

/* ---- Checkpoints ----
 * Writes the instance's state between ticks to the file `path` (NUL-terminated) atomically: a
 * temporary file beside it, fsync'ed, renamed over it. Positions in the caller's own inputs are
 * the caller's to keep (store them with the file, and resume from them). Fails
 * (KILN_PROJECT_INVALID_ARGUMENT) while a tick has changes. */
kiln_project_status kiln_project_checkpoint(kiln_project *instance, const char *path);
/* Loads a checkpoint into an instance that has not been given a change yet. A damaged file
 * (checksums) or one written by another build of the project fails, leaving the instance as it
 * was opened. */
kiln_project_status kiln_project_restore(kiln_project *instance, const char *path);

/* ---- Stats ---- */
typedef struct kiln_project_stats {
  int64_t ticks;          /* committed */
  int64_t changes_in;     /* applied, in committed ticks */
  int64_t bad_changes;    /* KILN_PROJECT_BAD_CHANGE pushes */
  int64_t runtime_errors; /* changes that raised, and ticks that failed */
  int64_t changes_out;    /* delivered to on_change */
  int64_t state_entries;  /* entries in every operator's state */
  int64_t state_bytes;    /* bytes of it, strings included */
} kiln_project_stats;
kiln_project_status kiln_project_get_stats(kiln_project *instance, kiln_project_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* KILN_PROJECT_API_H */
