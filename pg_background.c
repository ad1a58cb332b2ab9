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

#include "pg_background.h"

PG_MODULE_MAGIC;

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
PG_FUNCTION_INFO_V1(pg_background_status_v2);
PG_FUNCTION_INFO_V1(pg_background_cancel);

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
								   false);

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
								   false);

	return make_handle(fcinfo, task);
}

Datum
pg_background_submit_v2(PG_FUNCTION_ARGS)
{
	PgbgTask   *task = pgbg_launch(PG_GETARG_TEXT_PP(0), PG_GETARG_INT32(1),
								   true);

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

	pgbg_cancel(task, Min(grace, PGBG_MAX_GRACE_MS));
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
