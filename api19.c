/*-------------------------------------------------------------------------
 *
 * api19.c
 *		What version 1.9 adds: labels, a worker's result information and
 *		structured error read without consuming its results, and detach or
 *		cancel of every handle of the session at once.
 *
 * Nothing here reads a worker's queue by other means than pgbg_pump, and
 * nothing here consumes the local buffer: a later pg_background_result_v2
 * returns everything, as if these functions had never been called.
 *
 * Copyright (c) 2026, pg_background contributors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pg_background.h"

PG_FUNCTION_INFO_V1(pg_background_result_info_v2);
PG_FUNCTION_INFO_V1(pg_background_error_info_v2);
PG_FUNCTION_INFO_V1(pg_background_detach_all_v2);
PG_FUNCTION_INFO_V1(pg_background_cancel_all_v2);

/* ------------------------------------------------------------------------
 * Labels
 * ------------------------------------------------------------------------
 */

/*
 * A launch's label: NULL for none (an empty string is none too), else a
 * palloc'd copy of at most PGBG_LABEL_MAX bytes.  Longer is an error, not a
 * silent cut: two labels that differ only past the limit must not look the
 * same.
 */
char *
pgbg_check_label(text *label)
{
	int			len;

	if (label == NULL)
		return NULL;
	len = VARSIZE_ANY_EXHDR(label);
	if (len == 0)
		return NULL;
	if (len > PGBG_LABEL_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("pg_background label is too long"),
				 errdetail("The label has %d bytes; at most %d are allowed.",
						   len, PGBG_LABEL_MAX)));
	return text_to_cstring(label);
}

/*
 * The worker's application_name: "pg_background:<label>:<pid>", or
 * "pg_background:<pid>" without a label.  pg_stat_activity keeps
 * NAMEDATALEN - 1 bytes of it, so a long label is shortened to keep the pid
 * whole.  It is visible from every database of the cluster, whatever their
 * encoding, so, as PostgreSQL does for application_name, every byte outside
 * printable ASCII shows as '?'.
 */
void
pgbg_format_appname(char *buf, size_t bufsize, const char *label, int pid)
{
	static const char prefix[] = PGBG_BGW_TYPE ":";
	char		pidpart[16];
	size_t		len;
	size_t		room;
	size_t		labellen;
	size_t		i;

	snprintf(pidpart, sizeof(pidpart), "%d", pid);
	labellen = label != NULL ? strnlen(label, PGBG_LABEL_MAX) : 0;
	if (labellen == 0)
	{
		snprintf(buf, bufsize, "%s%s", prefix, pidpart);
		return;
	}

	len = strlcpy(buf, prefix, bufsize);
	if (len >= bufsize)
		return;
	/* room for the label, the ':' before the pid, the pid and the '\0' */
	room = bufsize - len;
	if (room <= strlen(pidpart) + 2)
		labellen = 0;
	else
		labellen = Min(labellen, room - strlen(pidpart) - 2);
	for (i = 0; i < labellen; i++)
	{
		unsigned char c = (unsigned char) label[i];

		buf[len++] = (c >= 32 && c < 127) ? (char) c : '?';
	}
	buf[len] = '\0';
	snprintf(buf + len, bufsize - len, ":%s", pidpart);
}

/* ------------------------------------------------------------------------
 * Remembered while pumping (results.c calls these)
 * ------------------------------------------------------------------------
 */

/* The latest command tag; a malformed one is left for the result read. */
void
pgbg_note_tag(PgbgTask *task, PgbgMessage *msg)
{
	const char *tag;
	char	   *copy;

	if (!pgbg_parse_command_tag(msg->data, msg->len, &tag))
		return;
	copy = MemoryContextStrdup(task->cxt, tag);
	if (task->last_tag != NULL)
		pfree(task->last_tag);
	task->last_tag = copy;
}

/* The worker's error, as it arrived; parsed when someone asks. */
void
pgbg_note_error_raw(PgbgTask *task, PgbgMessage *msg)
{
	char	   *copy = MemoryContextAlloc(task->cxt, Max(msg->len, 1));

	memcpy(copy, msg->data, msg->len);
	if (task->error_raw != NULL)
		pfree(task->error_raw);
	task->error_raw = copy;
	task->error_raw_len = msg->len;
}

/* ------------------------------------------------------------------------
 * Result information and error
 * ------------------------------------------------------------------------
 */

/*
 * The error a result read would raise now, if any: the worker's own error,
 * or 57014 when we stopped it (cancel, pg_background.worker_timeout), or
 * 08006 when it went away without a word.  False when there is none (yet).
 * The strings are allocated in the current memory context.
 */
bool
pgbg_task_error(PgbgTask *task, ErrorData *edata)
{
	bool		stopped;
	bool		timed_out;
	int			commits;
	const char *unit;

	MemSet(edata, 0, sizeof(ErrorData));
	timed_out = pg_atomic_read_u32(&task->fixed->timed_out) != 0;
	stopped = timed_out || task->cancel_requested;

	/*
	 * Truthful outcomes: like the result read, say when part of the work had
	 * committed before the error (a procedure's COMMIT, a VACUUM).
	 */
	SpinLockAcquire(&task->fixed->mutex);
	commits = task->fixed->committed ? 0 : task->fixed->commits;
	SpinLockRelease(&task->fixed->mutex);
	unit = commits == 1 ? "commit" : "commits";

	if (task->has_error)
	{
		if (task->error_raw == NULL ||
			!pgbg_parse_errornotice(task->error_raw, task->error_raw_len, edata))
		{
			MemSet(edata, 0, sizeof(ErrorData));
			edata->sqlerrcode = ERRCODE_PROTOCOL_VIOLATION;
			edata->message = psprintf("malformed error message from pg_background worker with PID %d",
									  task->pid);
			return true;
		}
		if (!stopped ||
			(edata->sqlerrcode != ERRCODE_ADMIN_SHUTDOWN &&
			 edata->sqlerrcode != ERRCODE_QUERY_CANCELED))
		{
			if (commits > 0)
			{
				char	   *note;

				note = psprintf("Part of its work had already committed (%d %s) before the error.",
								commits, unit);
				edata->detail = edata->detail ?
					psprintf("%s\n%s", edata->detail, note) : note;
			}
			return true;
		}
	}
	else if (!task->stream_ended || task->saw_end)
		return false;

	/* stopped by us, or gone without saying why */
	MemSet(edata, 0, sizeof(ErrorData));
	if (timed_out)
	{
		edata->sqlerrcode = ERRCODE_QUERY_CANCELED;
		edata->message = psprintf("pg_background worker with PID %d was stopped by pg_background.worker_timeout",
								  task->pid);
		if (commits > 0)
			edata->detail = psprintf("It ran longer than %d ms; part of its work had already committed (%d %s) before it stopped.",
									 task->fixed->timeout_ms, commits, unit);
		else
			edata->detail = psprintf("It ran longer than %d ms; its transaction did not commit.",
									 task->fixed->timeout_ms);
	}
	else if (task->cancel_requested)
	{
		edata->sqlerrcode = ERRCODE_QUERY_CANCELED;
		edata->message = psprintf("pg_background worker with PID %d was canceled",
								  task->pid);
		if (commits > 0)
			edata->detail = psprintf("Part of its work had already committed (%d %s) before it stopped.",
									 commits, unit);
		else
			edata->detail = pstrdup("Its transaction did not commit.");
	}
	else
	{
		edata->sqlerrcode = ERRCODE_CONNECTION_FAILURE;
		edata->message = psprintf("lost connection to pg_background worker with PID %d",
								  task->pid);
		if (commits > 0)
			edata->detail = psprintf("Part of its work had already committed (%d %s) before it ended.",
									 commits, unit);
		edata->hint = pstrdup("More details may be available in the server log.");
	}
	return true;
}

static TupleDesc
api19_tupdesc(FunctionCallInfo fcinfo)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning a composite type called in context that cannot accept it")));
	return BlessTupleDesc(tupdesc);
}

/*
 * The number at the end of a command tag ("SELECT 3", "INSERT 0 5",
 * "UPDATE 2"): the rows the statement returned or changed.  Tags without
 * one ("CREATE TABLE") count 0.
 */
int64
pgbg_tag_rows(const char *tag)
{
	const char *p = strrchr(tag, ' ');
	int64		rows = 0;

	if (p == NULL || p[1] == '\0')
		return 0;
	for (p++; *p != '\0'; p++)
	{
		if (*p < '0' || *p > '9')
			return 0;
		if (rows > (PG_INT64_MAX - 9) / 10)
			return 0;
		rows = rows * 10 + (*p - '0');
	}
	return rows;
}

/*
 * pg_background_result_info_v2(pid, cookie): the row count and command tag
 * of the last statement that finished so far, whether the worker completed
 * its SQL, and whether it failed.  Consumes nothing.
 */
Datum
pg_background_result_info_v2(PG_FUNCTION_ARGS)
{
	PgbgTask   *task = pgbg_find_task(PG_GETARG_INT32(0), true,
									  (uint64) PG_GETARG_INT64(1));
	TupleDesc	tupdesc = api19_tupdesc(fcinfo);
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	ErrorData	edata;
	bool		failed;

	pgbg_refresh_task(task);
	failed = pgbg_task_error(task, &edata);

	if (task->last_tag != NULL)
	{
		values[0] = Int64GetDatum(pgbg_tag_rows(task->last_tag));
		values[1] = CStringGetTextDatum(task->last_tag);
	}
	else
	{
		nulls[0] = true;
		nulls[1] = true;
	}
	values[2] = BoolGetDatum(task->saw_end && !failed);
	values[3] = BoolGetDatum(failed);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

static void
api19_set_text(Datum *values, bool *nulls, int i, const char *s)
{
	if (s != NULL)
		values[i] = CStringGetTextDatum(s);
	else
		nulls[i] = true;
}

/*
 * pg_background_error_info_v2(pid, cookie): the error a result read would
 * raise, field by field; NULL while there is none.  Consumes nothing.
 */
Datum
pg_background_error_info_v2(PG_FUNCTION_ARGS)
{
	PgbgTask   *task = pgbg_find_task(PG_GETARG_INT32(0), true,
									  (uint64) PG_GETARG_INT64(1));
	TupleDesc	tupdesc = api19_tupdesc(fcinfo);
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	ErrorData	edata;

	pgbg_refresh_task(task);
	if (!pgbg_task_error(task, &edata))
		PG_RETURN_NULL();

	values[0] = CStringGetTextDatum(unpack_sql_state(edata.sqlerrcode));
	api19_set_text(values, nulls, 1, edata.message);
	api19_set_text(values, nulls, 2, edata.detail);
	api19_set_text(values, nulls, 3, edata.hint);
	api19_set_text(values, nulls, 4, edata.context);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* ------------------------------------------------------------------------
 * Every handle at once
 * ------------------------------------------------------------------------
 */

/*
 * The session's tasks the current user may act on, as a list of its own:
 * detaching removes tasks from the session's list.
 */
List *
pgbg_my_tasks(void)
{
	List	   *mine = NIL;
	ListCell   *lc;
	bool		is_super = superuser();

	foreach(lc, pgbg_session_tasks())
	{
		PgbgTask   *task = lfirst(lc);

		if (task->user_id == GetUserId() || is_super)
			mine = lappend(mine, task);
	}
	return mine;
}

/*
 * pg_background_detach_all_v2(): detach every handle of this session that
 * the current user may use (the same rule as for one handle); returns how
 * many.  The workers run on, as with pg_background_detach_v2().
 */
Datum
pg_background_detach_all_v2(PG_FUNCTION_ARGS)
{
	List	   *mine = pgbg_my_tasks();
	ListCell   *lc;
	int32		n = 0;

	/* refuse before acting when one is in use (re-entrancy) */
	foreach(lc, mine)
		pgbg_check_not_busy((PgbgTask *) lfirst(lc));
	foreach(lc, mine)
	{
		pgbg_detach((PgbgTask *) lfirst(lc));
		n++;
	}
	list_free(mine);
	PG_RETURN_INT32(n);
}

/*
 * pg_background_cancel_all_v2(): cancel every worker of this session that
 * the current user may use and that has not ended yet; returns how many.
 * The handles stay, so their outcome can still be read.
 */
Datum
pg_background_cancel_all_v2(PG_FUNCTION_ARGS)
{
	List	   *mine = pgbg_my_tasks();
	ListCell   *lc;
	int32		n = 0;

	foreach(lc, mine)
	{
		PgbgTask   *task = lfirst(lc);

		if (!pgbg_task_registered(task) || pgbg_refresh_task(task) ||
			!pgbg_task_registered(task))
			continue;
		pgbg_cancel(task, 0);
		n++;
	}
	list_free(mine);
	PG_RETURN_INT32(n);
}
