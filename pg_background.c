/*-------------------------------------------------------------------------
 *
 * pg_background.c
 *		Run SQL in dynamic background workers and read the results later.
 *
 * This file holds the module magic and every SQL-callable function.  They
 * validate their arguments, call launcher.c, and build the return value.
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
#include "utils/guc.h"

#include "pg_background.h"
#include "compat.h"

PG_MODULE_MAGIC;

/* GUCs (1.8) */
int			pgbg_max_workers = 16;
int			pgbg_default_queue_size = PGBG_DEFAULT_QUEUE_SIZE;
int			pgbg_worker_timeout = 0;
int			pgbg_pool_size = 0;
int			pgbg_pool_idle_timeout = 60000;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(pg_background_launch);
PG_FUNCTION_INFO_V1(pg_background_result);
PG_FUNCTION_INFO_V1(pg_background_detach);
PG_FUNCTION_INFO_V1(pg_background_launch_v2);
PG_FUNCTION_INFO_V1(pg_background_submit_v2);
PG_FUNCTION_INFO_V1(pg_background_result_v2);
PG_FUNCTION_INFO_V1(pg_background_detach_v2);
PG_FUNCTION_INFO_V1(pg_background_cancel_v2);
PG_FUNCTION_INFO_V1(pg_background_cancel_v2_grace);
PG_FUNCTION_INFO_V1(pg_background_wait_v2);
PG_FUNCTION_INFO_V1(pg_background_wait_v2_timeout);
PG_FUNCTION_INFO_V1(pg_background_list_v2);
PG_FUNCTION_INFO_V1(pg_background_launch_1_8);
PG_FUNCTION_INFO_V1(pg_background_launch_v2_1_8);
PG_FUNCTION_INFO_V1(pg_background_submit_v2_1_8);
PG_FUNCTION_INFO_V1(pg_background_stats_v2);
PG_FUNCTION_INFO_V1(pg_background_progress);
PG_FUNCTION_INFO_V1(pg_background_get_progress_v2);
PG_FUNCTION_INFO_V1(pg_background_status_v2);
PG_FUNCTION_INFO_V1(pg_background_cancel);
PG_FUNCTION_INFO_V1(pg_background_launch_v2_1_9);
PG_FUNCTION_INFO_V1(pg_background_submit_v2_1_9);

void
_PG_init(void)
{
	DefineCustomIntVariable("pg_background.max_workers",
							"Maximum number of pg_background workers one session may have running.",
							"Detached workers count until they exit.",
							&pgbg_max_workers,
							16, 1, 1000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_background.default_queue_size",
							"Queue size used when a launch passes a queue_size of 0 or less.",
							NULL,
							&pgbg_default_queue_size,
							PGBG_DEFAULT_QUEUE_SIZE, 1024, (int) PGBG_MAX_QUEUE_SIZE,
							PGC_USERSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_background.worker_timeout",
							"Stops a pg_background worker that runs longer than this.",
							"Zero means no limit.  The value in force at launch applies.",
							&pgbg_worker_timeout,
							0, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_background.pool_size",
							"Number of finished pg_background workers this session keeps for its next launches.",
							"Zero turns the warm worker pool off.  The value in force at launch decides whether a worker may be pooled.",
							&pgbg_pool_size,
							0, 0, 1000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_background.pool_idle_timeout",
							"Time after which an idle pooled pg_background worker exits.",
							"The value in force at launch applies to the worker of that launch.",
							&pgbg_pool_idle_timeout,
							60000, 1, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	pgbg_reserve_guc_prefix("pg_background");
}

/* Background worker entry point, named in launcher.c's registration. */
void
pg_background_worker_main(Datum main_arg)
{
	pgbg_worker_run(DatumGetUInt32(main_arg));
}

/* The v2 handle: pid and cookie. */
#define PG_GETARG_TASK_V2() \
	pgbg_find_task(PG_GETARG_INT32(0), true, (uint64) PG_GETARG_INT64(1))

static Datum
make_handle(FunctionCallInfo fcinfo, PgbgTask *task)
{
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning pg_background_handle called in context that cannot accept it")));
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Int32GetDatum(task->pid);
	values[1] = Int64GetDatum((int64) task->cookie);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

static int
check_millis(int32 ms, const char *what)
{
	if (ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative", what)));
	return ms;
}

/* ---- v1 API: workers named by pid ---- */

Datum
pg_background_launch(PG_FUNCTION_ARGS)
{
	PgbgTask   *task = pgbg_launch(PG_GETARG_TEXT_PP(0), PG_GETARG_INT32(1),
								   false, NULL);

	PG_RETURN_INT32(task->pid);
}

Datum
pg_background_result(PG_FUNCTION_ARGS)
{
	pgbg_result(pgbg_find_task(PG_GETARG_INT32(0), false, 0), fcinfo);
	return (Datum) 0;
}

Datum
pg_background_detach(PG_FUNCTION_ARGS)
{
	pgbg_detach(pgbg_find_task(PG_GETARG_INT32(0), false, 0));
	PG_RETURN_VOID();
}

/* ---- v2 API: workers named by (pid, cookie) ---- */

Datum
pg_background_launch_v2(PG_FUNCTION_ARGS)
{
	PgbgTask   *task = pgbg_launch(PG_GETARG_TEXT_PP(0), PG_GETARG_INT32(1),
								   false, NULL);

	return make_handle(fcinfo, task);
}

Datum
pg_background_submit_v2(PG_FUNCTION_ARGS)
{
	PgbgTask   *task = pgbg_launch(PG_GETARG_TEXT_PP(0), PG_GETARG_INT32(1),
								   true, NULL);

	return make_handle(fcinfo, task);
}

Datum
pg_background_result_v2(PG_FUNCTION_ARGS)
{
	pgbg_result(PG_GETARG_TASK_V2(), fcinfo);
	return (Datum) 0;
}

Datum
pg_background_detach_v2(PG_FUNCTION_ARGS)
{
	pgbg_detach(PG_GETARG_TASK_V2());
	PG_RETURN_VOID();
}

Datum
pg_background_cancel_v2(PG_FUNCTION_ARGS)
{
	pgbg_cancel(PG_GETARG_TASK_V2(), 0);
	PG_RETURN_VOID();
}

/*
 * grace_ms is capped at an hour: longer waits are almost certainly a bug
 * in the caller, and the cap keeps the deadline arithmetic far from
 * overflow.
 */
Datum
pg_background_cancel_v2_grace(PG_FUNCTION_ARGS)
{
	PgbgTask   *task = PG_GETARG_TASK_V2();
	int			grace = check_millis(PG_GETARG_INT32(2), "grace_ms");

	if (grace > PGBG_MAX_GRACE_MS)
	{
		ereport(NOTICE,
				(errmsg("grace_ms %d is capped to %d", grace, PGBG_MAX_GRACE_MS)));
		grace = PGBG_MAX_GRACE_MS;
	}
	pgbg_cancel(task, grace);
	PG_RETURN_VOID();
}

Datum
pg_background_wait_v2(PG_FUNCTION_ARGS)
{
	(void) pgbg_wait(PG_GETARG_TASK_V2(), -1);
	PG_RETURN_VOID();
}

Datum
pg_background_wait_v2_timeout(PG_FUNCTION_ARGS)
{
	PgbgTask   *task = PG_GETARG_TASK_V2();
	int			timeout = check_millis(PG_GETARG_INT32(2), "timeout_ms");

	PG_RETURN_BOOL(pgbg_wait(task, timeout));
}

Datum
pg_background_list_v2(PG_FUNCTION_ARGS)
{
	pgbg_list(fcinfo);
	return (Datum) 0;
}

/* ---- 1.8 ---- */

/*
 * From 1.8 on, a queue_size of 0 or less means pg_background.default_queue_size;
 * the 1.6 entry points keep refusing it.
 */
static int32
queue_size_1_8(int32 queue_size)
{
	return queue_size <= 0 ? pgbg_default_queue_size : queue_size;
}

Datum
pg_background_launch_1_8(PG_FUNCTION_ARGS)
{
	PgbgTask   *task = pgbg_launch(PG_GETARG_TEXT_PP(0),
								   queue_size_1_8(PG_GETARG_INT32(1)), false,
								   NULL);

	PG_RETURN_INT32(task->pid);
}

Datum
pg_background_launch_v2_1_8(PG_FUNCTION_ARGS)
{
	PgbgTask   *task = pgbg_launch(PG_GETARG_TEXT_PP(0),
								   queue_size_1_8(PG_GETARG_INT32(1)), false,
								   NULL);

	return make_handle(fcinfo, task);
}

Datum
pg_background_submit_v2_1_8(PG_FUNCTION_ARGS)
{
	PgbgTask   *task = pgbg_launch(PG_GETARG_TEXT_PP(0),
								   queue_size_1_8(PG_GETARG_INT32(1)), true,
								   NULL);

	return make_handle(fcinfo, task);
}

/* ---- 1.9 ---- */

/*
 * launch_v2 and submit_v2 with a label.  Not STRICT, so that the label may
 * be NULL: a NULL sql gives NULL as a STRICT function would, a NULL
 * queue_size means pg_background.default_queue_size.
 */
static Datum
launch_1_9(FunctionCallInfo fcinfo, bool results_disabled)
{
	int32		queue_size;
	char	   *label;
	PgbgTask   *task;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	queue_size = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1);
	label = PG_ARGISNULL(2) ? NULL : pgbg_check_label(PG_GETARG_TEXT_PP(2));
	task = pgbg_launch(PG_GETARG_TEXT_PP(0), queue_size_1_8(queue_size),
					   results_disabled, label);
	return make_handle(fcinfo, task);
}

Datum
pg_background_launch_v2_1_9(PG_FUNCTION_ARGS)
{
	return launch_1_9(fcinfo, false);
}

Datum
pg_background_submit_v2_1_9(PG_FUNCTION_ARGS)
{
	return launch_1_9(fcinfo, true);
}

Datum
pg_background_stats_v2(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc = pgbg_result_tupdesc(fcinfo);
	PgbgStats	stats;
	Datum		values[7];
	bool		nulls[7] = {false};

	pgbg_get_stats(&stats);
	values[0] = Int64GetDatum(stats.launched);
	values[1] = Int64GetDatum(stats.completed);
	values[2] = Int64GetDatum(stats.failed);
	values[3] = Int64GetDatum(stats.canceled);
	values[4] = Int32GetDatum(stats.active);
	values[5] = Float8GetDatum(stats.avg_execution_ms);
	nulls[5] = !stats.have_avg;
	values[6] = Int32GetDatum(pgbg_max_workers);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* Not STRICT: msg may be NULL; pct may not. */
Datum
pg_background_progress(PG_FUNCTION_ARGS)
{
	char	   *msg = NULL;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("progress percentage must not be null")));
	if (!PG_ARGISNULL(1))
		msg = text_to_cstring(PG_GETARG_TEXT_PP(1));
	pgbg_worker_report_progress(PG_GETARG_INT32(0), msg);
	PG_RETURN_VOID();
}

Datum
pg_background_get_progress_v2(PG_FUNCTION_ARGS)
{
	PgbgTask   *task = PG_GETARG_TASK_V2();
	TupleDesc	tupdesc = pgbg_result_tupdesc(fcinfo);
	Datum		values[2];
	bool		nulls[2] = {false, false};
	int32		pct;
	char	   *msg;

	if (!pgbg_get_progress(task, &pct, &msg))
		PG_RETURN_NULL();
	values[0] = Int32GetDatum(pct);
	if (msg != NULL)
		values[1] = CStringGetTextDatum(msg);
	else
		nulls[1] = true;
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/*
 * Functions of the early 1.5 API.  Only a hand-made 1.5 installation still
 * has SQL objects pointing at them; ALTER EXTENSION ... UPDATE drops them.
 */
static void
report_removed(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("function %s() was removed in pg_background 1.6", name),
			 errhint("Run ALTER EXTENSION pg_background UPDATE and use pg_background_list_v2() or pg_background_cancel_v2().")));
}

Datum
pg_background_status_v2(PG_FUNCTION_ARGS)
{
	report_removed("pg_background_status_v2");
	PG_RETURN_VOID();
}

Datum
pg_background_cancel(PG_FUNCTION_ARGS)
{
	report_removed("pg_background_cancel");
	PG_RETURN_VOID();
}
