/*-------------------------------------------------------------------------
 *
 * api110.c
 *		What version 1.10 adds: an outcome that never raises for a handle,
 *		one-call synchronous runs, a drain of many handles under one time
 *		budget, waiting for the first of several workers, cancel by label,
 *		a jsonb status, purge of finished handles and the whole SQL text.
 *
 * Every wait is on our latch: the postmaster sets it when a worker exits
 * (bgw_notify_pid) and shm_mq sets it when a worker sends, so nothing here
 * polls.  While waiting, every worker's queue is read into its local buffer,
 * so a worker with much output never blocks on a full queue.
 *
 * Copyright (c) 2026, pg_background contributors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "storage/shm_toc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_background.h"
#include "compat.h"

/* full_sql_v2 returns at most this much of the SQL, then the marker */
#define PGBG_FULL_SQL_MAX		65536
#define PGBG_FULL_SQL_MARKER	"[...]"

/* how long run_v2 and run_query_v2 wait for a worker canceled on timeout */
#define PGBG_RUN_CANCEL_GRACE_MS	1000

/* the columns of type pg_background_outcome */
#define PGBG_OUTCOME_NATTS		12

PG_FUNCTION_INFO_V1(pg_background_outcome_v2);
PG_FUNCTION_INFO_V1(pg_background_run_v2);
PG_FUNCTION_INFO_V1(pg_background_run_query_v2);
PG_FUNCTION_INFO_V1(pg_background_drain_v2);
PG_FUNCTION_INFO_V1(pg_background_wait_any_v2);
PG_FUNCTION_INFO_V1(pg_background_cancel_by_label_v2);
PG_FUNCTION_INFO_V1(pg_background_status_v2_1_10);
PG_FUNCTION_INFO_V1(pg_background_purge_v2);
PG_FUNCTION_INFO_V1(pg_background_full_sql_v2);

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------
 */

/*
 * This session's task for (pid, cookie) if the current user may use it,
 * else NULL: for the functions that must not raise on a bad handle.
 */
static void api110_outcome_of_args(FunctionCallInfo fcinfo, Datum *values,
								   bool *nulls);

static PgbgTask *
api110_lookup(int pid, uint64 cookie)
{
	PgbgTask   *task = pgbg_search_task(pid, true, cookie);

	return task != NULL && pgbg_task_usable(task) ? task : NULL;
}

static int32
api110_queue_size(FunctionCallInfo fcinfo, int argno)
{
	int32		queue_size = PG_ARGISNULL(argno) ? 0 : PG_GETARG_INT32(argno);

	return queue_size <= 0 ? pgbg_default_queue_size : queue_size;
}

static int32
api110_millis(FunctionCallInfo fcinfo, int argno, const char *what)
{
	int32		ms = PG_ARGISNULL(argno) ? 0 : PG_GETARG_INT32(argno);

	if (ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative", what)));
	return ms;
}

/* Milliseconds left until deadline, rounded up; 0 when it has passed. */
static int
api110_remaining(TimestampTz deadline)
{
	int64		us = deadline - GetCurrentTimestamp();

	if (us <= 0)
		return 0;
	return (int) Min((us + 999) / 1000, (int64) PG_INT32_MAX);
}

/*
 * The columns of pg_background_outcome for a task, or for an unknown handle
 * (task NULL): its pid and cookie, every other column NULL.  Picks up what
 * the worker sent so far without waiting; consumes nothing.
 */
static void
api110_outcome_values(PgbgTask *task, int32 pid, int64 cookie,
					  Datum *values, bool *nulls)
{
	ErrorData	edata;
	bool		failed;
	int			i;

	for (i = 0; i < PGBG_OUTCOME_NATTS; i++)
		nulls[i] = true;
	values[0] = Int32GetDatum(pid);
	nulls[0] = false;
	values[1] = Int64GetDatum(cookie);
	nulls[1] = false;
	if (task == NULL)
		return;

	pgbg_refresh_task(task);
	failed = pgbg_task_error(task, &edata);

	values[2] = CStringGetTextDatum(pgbg_task_state_name(task));
	values[3] = BoolGetDatum(task->consumed);
	values[4] = BoolGetDatum(task->saw_end && !failed);
	values[5] = BoolGetDatum(failed);
	for (i = 2; i <= 5; i++)
		nulls[i] = false;
	if (task->last_tag != NULL)
	{
		values[6] = Int64GetDatum(pgbg_tag_rows(task->last_tag));
		values[7] = CStringGetTextDatum(task->last_tag);
		nulls[6] = nulls[7] = false;
	}
	if (failed)
	{
		values[8] = CStringGetTextDatum(unpack_sql_state(edata.sqlerrcode));
		nulls[8] = false;
		if (edata.message != NULL)
		{
			values[9] = CStringGetTextDatum(edata.message);
			nulls[9] = false;
		}
	}
	if (task->label != NULL)
	{
		values[10] = CStringGetTextDatum(task->label);
		nulls[10] = false;
	}
	values[11] = TimestampTzGetDatum(task->launched_at);
	nulls[11] = false;
}

/* The (pid, cookie) of each non-NULL element of a pg_background_handle[]. */
typedef struct Api110Handle
{
	int32		pid;
	int64		cookie;
	Datum		datum;			/* the element itself */
} Api110Handle;

static int
api110_handles(ArrayType *arr, Api110Handle **handlesp)
{
	Oid			elemtype = ARR_ELEMTYPE(arr);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *elemnulls;
	int			nelems;
	int			n = 0;
	int			i;
	Api110Handle *handles;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign,
					  &elems, &elemnulls, &nelems);
	handles = palloc(sizeof(Api110Handle) * Max(nelems, 1));
	for (i = 0; i < nelems; i++)
	{
		HeapTupleHeader td;
		bool		pidnull;
		bool		cookienull;
		Datum		pid;
		Datum		cookie;

		if (elemnulls[i])
			continue;
		td = DatumGetHeapTupleHeader(elems[i]);
		pid = GetAttributeByNum(td, 1, &pidnull);
		cookie = GetAttributeByNum(td, 2, &cookienull);
		if (pidnull || cookienull)
			continue;
		handles[n].pid = DatumGetInt32(pid);
		handles[n].cookie = DatumGetInt64(cookie);
		handles[n].datum = PointerGetDatum(td);
		n++;
	}
	*handlesp = handles;
	return n;
}

/*
 * Wait for a task and, if the wait is interrupted (statement_timeout,
 * pg_cancel_backend, an error), ask its worker to stop before the error
 * goes on: a one-call run must not leave its worker running unseen.  The
 * handle stays in the session (pg_background_purge_v2 forgets it).
 */
static bool
api110_wait_or_stop(PgbgTask *task, int timeout_ms)
{
	bool		done = false;

	PG_TRY();
	{
		done = pgbg_wait(task, timeout_ms);
	}
	PG_CATCH();
	{
		pgbg_cancel(task, 0);	/* reads nothing, cannot fail */
		PG_RE_THROW();
	}
	PG_END_TRY();
	return done;
}

/* ------------------------------------------------------------------------
 * pg_background_outcome_v2 and pg_background_status_v2
 * ------------------------------------------------------------------------
 */

/*
 * pg_background_outcome_v2(p_pid, p_cookie): state, result information and
 * error of a handle in one row.  An unknown handle, a wrong cookie or
 * another user's handle is no error: all but pid and cookie are NULL.
 */
Datum
pg_background_outcome_v2(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc = pgbg_result_tupdesc(fcinfo);
	Datum		values[PGBG_OUTCOME_NATTS];
	bool		nulls[PGBG_OUTCOME_NATTS];

	api110_outcome_of_args(fcinfo, values, nulls);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/*
 * The outcome of the handle (p_pid, p_cookie) that outcome_v2 and status_v2
 * were called with; a NULL argument is no handle: all else NULL.
 */
static void
api110_outcome_of_args(FunctionCallInfo fcinfo, Datum *values, bool *nulls)
{
	int			i;

	if (!PG_ARGISNULL(0) && !PG_ARGISNULL(1))
	{
		api110_outcome_values(api110_lookup(PG_GETARG_INT32(0),
											(uint64) PG_GETARG_INT64(1)),
							  PG_GETARG_INT32(0), PG_GETARG_INT64(1),
							  values, nulls);
		return;
	}
	for (i = 0; i < PGBG_OUTCOME_NATTS; i++)
		nulls[i] = true;
	for (i = 0; i < 2; i++)
	{
		if (!PG_ARGISNULL(i))
		{
			values[i] = PG_GETARG_DATUM(i);
			nulls[i] = false;
		}
	}
}

/*
 * pg_background_status_v2(p_pid, p_cookie): the outcome as a jsonb object
 * whose keys are the columns of pg_background_outcome.  Never raises for a
 * bad handle either.
 */
Datum
pg_background_status_v2_1_10(PG_FUNCTION_ARGS)
{
	static const struct
	{
		const char *name;
		Oid			type;
	}			cols[PGBG_OUTCOME_NATTS] =
	{
		{"pid", INT4OID},
		{"cookie", INT8OID},
		{"state", TEXTOID},
		{"consumed", BOOLOID},
		{"completed", BOOLOID},
		{"has_error", BOOLOID},
		{"row_count", INT8OID},
		{"command_tag", TEXTOID},
		{"sqlstate", TEXTOID},
		{"error_message", TEXTOID},
		{"label", TEXTOID},
		{"launched_at", TIMESTAMPTZOID},
	};
	TupleDesc	tupdesc = CreateTemplateTupleDesc(PGBG_OUTCOME_NATTS);
	Datum		values[PGBG_OUTCOME_NATTS];
	bool		nulls[PGBG_OUTCOME_NATTS];
	Datum		json;
	int			i;

	for (i = 0; i < PGBG_OUTCOME_NATTS; i++)
		TupleDescInitEntry(tupdesc, i + 1, cols[i].name, cols[i].type, -1, 0);
	tupdesc = BlessTupleDesc(tupdesc);

	api110_outcome_of_args(fcinfo, values, nulls);

	json = DirectFunctionCall1(row_to_json,
							   HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	return DirectFunctionCall1(jsonb_in,
							   CStringGetDatum(text_to_cstring(DatumGetTextPP(json))));
}

/* ------------------------------------------------------------------------
 * Synchronous runs
 * ------------------------------------------------------------------------
 */

/*
 * pg_background_run_v2(sql, queue_size, timeout_ms, label): launch, wait
 * (timeout_ms 0: as long as it takes), collect the outcome, detach.  On
 * timeout the worker is canceled (and given a second to stop): timed_out is
 * true and completed false, unless the worker did commit before it stopped.
 * The result rows are not read.
 */
Datum
pg_background_run_v2(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	int32		queue_size;
	int32		timeout_ms;
	char	   *label;
	TimestampTz start;
	PgbgTask   *task;
	bool		finished;
	ErrorData	edata;
	bool		failed;
	Datum		values[9];
	bool		nulls[9] = {false};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	tupdesc = pgbg_result_tupdesc(fcinfo);
	queue_size = api110_queue_size(fcinfo, 1);
	timeout_ms = api110_millis(fcinfo, 2, "timeout_ms");
	label = PG_ARGISNULL(3) ? NULL : pgbg_check_label(PG_GETARG_TEXT_PP(3));

	start = GetCurrentTimestamp();
	task = pgbg_launch(PG_GETARG_TEXT_PP(0), queue_size, false, label);

	/*
	 * The rows are never returned: do not keep them (a large result would
	 * fill memory and disk, or fail on temp_file_limit).  The worker still
	 * sends them, with the command tags that give row_count; reading its
	 * queue notes tags and errors and drops the rest, as for a submitted
	 * worker, whose results cannot be read either.
	 */
	task->results_disabled = true;
	finished = api110_wait_or_stop(task, timeout_ms > 0 ? timeout_ms : -1);
	if (!finished)
		pgbg_cancel(task, PGBG_RUN_CANCEL_GRACE_MS);

	pgbg_refresh_task(task);
	failed = pgbg_task_error(task, &edata);
	values[0] = Int32GetDatum(task->pid);
	values[1] = BoolGetDatum(task->saw_end && !failed);
	values[2] = BoolGetDatum(!finished);
	values[3] = BoolGetDatum(failed);
	if (task->last_tag != NULL)
	{
		values[4] = Int64GetDatum(pgbg_tag_rows(task->last_tag));
		values[5] = CStringGetTextDatum(task->last_tag);
	}
	else
		nulls[4] = nulls[5] = true;
	if (failed)
	{
		values[6] = CStringGetTextDatum(unpack_sql_state(edata.sqlerrcode));
		values[7] = CStringGetTextDatum(edata.message);
	}
	else
		nulls[6] = nulls[7] = true;

	pgbg_detach(task);
	values[8] = Int64GetDatum((GetCurrentTimestamp() - start) / 1000);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/*
 * pg_background_run_query_v2(sql, queue_size, timeout_ms, label, col_def):
 * launch and return the rows, described by the call's column definition
 * list (col_def is accepted for compatibility and not needed).  57014 on
 * timeout (the worker is canceled), the worker's own SQLSTATE on its error.
 */
Datum
pg_background_run_query_v2(PG_FUNCTION_ARGS)
{
	int32		queue_size;
	int32		timeout_ms;
	char	   *label;
	PgbgTask   *task;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	/*
	 * Called where no rows can be returned (in a SELECT list, without a
	 * column definition list): refuse before launching, not once the
	 * worker runs (pgbg_materialize raises the error).
	 */
	if (PG_ARGISNULL(0) || rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0 ||
		rsinfo->expectedDesc == NULL)
	{
		TupleDesc	tupdesc;
		Tuplestorestate *tupstore;

		(void) pgbg_materialize(fcinfo, &tupdesc, &tupstore);
		return (Datum) 0;
	}
	queue_size = api110_queue_size(fcinfo, 1);
	timeout_ms = api110_millis(fcinfo, 2, "timeout_ms");
	label = PG_ARGISNULL(3) ? NULL : pgbg_check_label(PG_GETARG_TEXT_PP(3));

	task = pgbg_launch(PG_GETARG_TEXT_PP(0), queue_size, false, label);
	if (timeout_ms > 0 && !api110_wait_or_stop(task, timeout_ms))
	{
		int			pid = task->pid;
		bool		committed;
		int			commits;

		pgbg_cancel(task, PGBG_RUN_CANCEL_GRACE_MS);

		/*
		 * Truthful outcomes: a worker whose SQL committed before the cancel
		 * reached it has finished, and its rows are the result; one that had
		 * committed part of its work (a procedure's COMMIT) says so.
		 */
		SpinLockAcquire(&task->fixed->mutex);
		committed = task->fixed->committed;
		commits = task->fixed->commits;
		SpinLockRelease(&task->fixed->mutex);
		if (!committed)
		{
			pgbg_detach(task);
			if (commits > 0)
				ereport(ERROR,
						(errcode(ERRCODE_QUERY_CANCELED),
						 errmsg("pg_background worker with PID %d did not finish within %d ms",
								pid, timeout_ms),
						 errdetail_plural("It was canceled; part of its work had already committed (%d commit) before it stopped.",
										  "It was canceled; part of its work had already committed (%d commits) before it stopped.",
										  commits, commits)));
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("pg_background worker with PID %d did not finish within %d ms",
							pid, timeout_ms),
					 errdetail("It was canceled; its transaction did not commit.")));
		}
	}

	/*
	 * As while waiting: if the read fails (a cancel or statement_timeout of
	 * this call, a column definition list that does not fit, an error
	 * decoding a row) and the task is still ours, stop its worker, which
	 * nobody holds a handle to.  The task is looked up again by pid and
	 * cookie: a worker's error has freed it already.
	 */
	{
		int			pid = task->pid;
		uint64		cookie = task->cookie;

		PG_TRY();
		{
			pgbg_result(task, fcinfo);
		}
		PG_CATCH();
		{
			ListCell   *lc;

			foreach(lc, pgbg_session_tasks())
			{
				PgbgTask   *t = lfirst(lc);

				if (t->pid == pid && t->cookie == cookie)
					pgbg_cancel(t, 0);	/* reads nothing, cannot fail */
			}
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	return (Datum) 0;
}

/* ------------------------------------------------------------------------
 * Many handles
 * ------------------------------------------------------------------------
 */

/*
 * pg_background_drain_v2(handles, timeout_ms): one outcome row per non-NULL
 * handle, in the array's order, after waiting for each one with what is
 * left of one budget for them all (timeout_ms 0: no limit).  Handles whose
 * worker ended are detached; those still running when the budget is spent
 * are kept, so they can be waited for again.  A bad handle gives a row with
 * NULLs, as from pg_background_outcome_v2.
 */
Datum
pg_background_drain_v2(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	int32		timeout_ms;
	TimestampTz deadline = 0;
	Api110Handle *handles;
	List	   *ended_tasks = NIL;
	ListCell   *lc;
	int			n;
	int			i;

	(void) pgbg_materialize_declared(fcinfo, &tupdesc, &tupstore);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	timeout_ms = api110_millis(fcinfo, 1, "timeout_ms");
	if (timeout_ms > 0)
		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);

	n = api110_handles(PG_GETARG_ARRAYTYPE_P(0), &handles);

	/* refuse before acting when one is in use (re-entrancy) */
	for (i = 0; i < n; i++)
	{
		PgbgTask   *task = api110_lookup(handles[i].pid, (uint64) handles[i].cookie);

		if (task != NULL)
			pgbg_check_not_busy(task);
	}

	for (i = 0; i < n; i++)
	{
		PgbgTask   *task = api110_lookup(handles[i].pid, (uint64) handles[i].cookie);
		Datum		values[PGBG_OUTCOME_NATTS];
		bool		nulls[PGBG_OUTCOME_NATTS];
		bool		ended = false;

		CHECK_FOR_INTERRUPTS();
		if (task != NULL)
			ended = pgbg_wait(task, timeout_ms > 0 ? api110_remaining(deadline) : -1);
		api110_outcome_values(task, handles[i].pid, handles[i].cookie,
							  values, nulls);
		tuplestore_putvalues(tupstore, tupdesc, values, nulls);
		if (ended)
			ended_tasks = list_append_unique_ptr(ended_tasks, task);
	}

	/*
	 * Detach only once every outcome is in the result: an interrupt or an
	 * error while waiting for a later handle (statement_timeout, a cancel)
	 * loses the rows, so it must not have forgotten the earlier handles.
	 */
	foreach(lc, ended_tasks)
		pgbg_detach((PgbgTask *) lfirst(lc));
	return (Datum) 0;
}

/*
 * pg_background_wait_any_v2(handles, timeout_ms): the first handle whose
 * worker has ended (its process exited), or NULL when timeout_ms passes
 * first (0: no limit).  Woken by the postmaster when a worker exits, and by
 * each message a worker sends (which is read into its buffer), never by a
 * timer.  Raises 42704 when no handle of the array belongs to this session
 * and the current user.
 */
Datum
pg_background_wait_any_v2(PG_FUNCTION_ARGS)
{
	int32		timeout_ms;
	TimestampTz deadline = 0;
	Api110Handle *handles;
	PgbgTask  **tasks;
	int			n;
	int			nvalid = 0;
	int			i;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	timeout_ms = api110_millis(fcinfo, 1, "timeout_ms");
	n = api110_handles(PG_GETARG_ARRAYTYPE_P(0), &handles);
	tasks = palloc0(sizeof(PgbgTask *) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		tasks[i] = api110_lookup(handles[i].pid, (uint64) handles[i].cookie);
		if (tasks[i] != NULL)
			nvalid++;
	}
	if (nvalid == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no handle in the array is a pg_background worker of this session"),
				 errhint("A handle is gone once its results were read or it was detached.")));
	/* as for pg_background_wait_v2: not on a worker being read (re-entrancy) */
	for (i = 0; i < n; i++)
		if (tasks[i] != NULL)
			pgbg_check_not_busy(tasks[i]);

	if (timeout_ms > 0)
		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	for (;;)
	{
		int			events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;
		long		remaining = -1;

		for (i = 0; i < n; i++)
		{
			if (tasks[i] == NULL)
				continue;
			if (pgbg_refresh_task(tasks[i]) && pgbg_process_gone(tasks[i]))
				PG_RETURN_DATUM(handles[i].datum);
		}
		if (timeout_ms > 0)
		{
			remaining = api110_remaining(deadline);
			if (remaining <= 0)
				PG_RETURN_NULL();
			events |= WL_TIMEOUT;
		}
		(void) WaitLatch(MyLatch, events, remaining, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * pg_background_cancel_by_label_v2(pattern, grace_ms): cancel every worker
 * of this session (and the current user) whose label matches the LIKE
 * pattern and that has not ended; returns how many.  With grace_ms, waits
 * up to that long in all for them to end.
 */
Datum
pg_background_cancel_by_label_v2(PG_FUNCTION_ARGS)
{
	List	   *mine;
	List	   *matched = NIL;
	List	   *canceled = NIL;
	ListCell   *lc;
	int32		grace_ms;
	TimestampTz deadline;
	text	   *pattern;

	if (PG_ARGISNULL(0))
		PG_RETURN_INT32(0);
	pattern = PG_GETARG_TEXT_PP(0);
	grace_ms = api110_millis(fcinfo, 1, "grace_ms");
	if (grace_ms > PGBG_MAX_GRACE_MS)
	{
		ereport(NOTICE,
				(errmsg("grace_ms %d is capped to %d", grace_ms, PGBG_MAX_GRACE_MS)));
		grace_ms = PGBG_MAX_GRACE_MS;
	}

	mine = pgbg_my_tasks();
	foreach(lc, mine)
	{
		PgbgTask   *task = lfirst(lc);

		if (!pgbg_task_registered(task) || task->label == NULL ||
			!DatumGetBool(DirectFunctionCall2Coll(textlike, DEFAULT_COLLATION_OID,
												  PointerGetDatum(cstring_to_text(task->label)),
												  PointerGetDatum(pattern))))
			continue;
		if (pgbg_refresh_task(task) || !pgbg_task_registered(task))
			continue;
		/* waiting out the grace period needs the task: refuse before acting */
		if (grace_ms > 0)
			pgbg_check_not_busy(task);
		matched = lappend(matched, task);
	}
	foreach(lc, matched)
	{
		PgbgTask   *task = lfirst(lc);

		pgbg_cancel(task, 0);
		canceled = lappend(canceled, task);
	}

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), grace_ms);
	if (grace_ms > 0)
		foreach(lc, canceled)
			(void) pgbg_wait((PgbgTask *) lfirst(lc), api110_remaining(deadline));

	PG_RETURN_INT32(list_length(canceled));
}

/*
 * pg_background_purge_v2(): forget (detach) every handle of this session
 * and the current user whose worker has ended; running ones stay.  Returns
 * how many were forgotten.
 */
Datum
pg_background_purge_v2(PG_FUNCTION_ARGS)
{
	List	   *mine = pgbg_my_tasks();
	ListCell   *lc;
	int32		n = 0;

	foreach(lc, mine)
	{
		PgbgTask   *task = lfirst(lc);

		/* a handle in use by a read of this session is not finished with */
		if (!pgbg_task_registered(task) || task->busy ||
			!pgbg_refresh_task(task) || !pgbg_task_registered(task))
			continue;
		pgbg_detach(task);
		n++;
	}
	PG_RETURN_INT32(n);
}

/*
 * pg_background_full_sql_v2(pid, cookie): the SQL the worker was given, up
 * to 64 KiB (cut at a character boundary, then "[...]").
 */
Datum
pg_background_full_sql_v2(PG_FUNCTION_ARGS)
{
	PgbgTask   *task = pgbg_find_task(PG_GETARG_INT32(0), true,
									  (uint64) PG_GETARG_INT64(1));
	shm_toc    *toc;
	const char *sql;
	size_t		len;
	int			keep;

	if (task->seg == NULL)
		PG_RETURN_NULL();
	toc = shm_toc_attach(PGBG_MAGIC, dsm_segment_address(task->seg));
	sql = toc != NULL ? shm_toc_lookup(toc, PGBG_KEY_SQL, true) : NULL;
	if (sql == NULL)
		PG_RETURN_NULL();
	len = strlen(sql);
	if (len <= PGBG_FULL_SQL_MAX)
		PG_RETURN_TEXT_P(cstring_to_text_with_len(sql, (int) len));
	keep = pg_mbcliplen(sql, (int) len, PGBG_FULL_SQL_MAX);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%.*s%s", keep, sql,
											  PGBG_FULL_SQL_MARKER)));
}
