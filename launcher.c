/*-------------------------------------------------------------------------
 *
 * launcher.c
 *		The calling session's side of pg_background: the registry of this
 *		session's tasks, segment setup, worker registration, reading the
 *		worker's messages, waiting, cancel, detach and clean-up.
 *
 * Every task has its own memory context under TopMemoryContext and its
 * segment mapping is pinned, so a task outlives the transaction that
 * launched it.  Every wait is on our latch and checks for interrupts.
 *
 * Copyright (c) 2026, pg_background contributors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shm_toc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_background.h"
#include "compat.h"

/* This session's tasks, most recent first. */
static List *pgbg_tasks = NIL;
static MemoryContext pgbg_context = NULL;

/* Row type of the buffered messages: one bytea, the type byte first. */
static TupleDesc pgbg_buffer_desc = NULL;

/* What a result read is building. */
typedef struct PgbgResultState
{
	PgbgTask   *task;
	bool		tags_only;		/* no rows: return command tags */
	bool		skip_rows;		/* the worker failed: only its error matters */
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	FmgrInfo   *finfo;
	Oid		   *typioparams;
	Datum	   *values;
	bool	   *nulls;
} PgbgResultState;

static void launcher_check_queue_size(int32 queue_size);
static dsm_segment *launcher_setup_segment(const char *sql, int32 queue_size,
										   bool results_disabled,
										   PgbgFixed **fixed, shm_mq **mq);
static BackgroundWorkerHandle *launcher_register(dsm_segment *seg,
												 PgbgFixed *fixed);
static int	launcher_wait_for_start(BackgroundWorkerHandle *handle,
									dsm_segment *seg, PgbgFixed *fixed);
static void launcher_unpin_if_unused(PgbgFixed *fixed, dsm_segment *seg);
static bool launcher_receive(PgbgTask *task, bool nowait, PgbgMessage *msg);
static bool launcher_pump(PgbgTask *task, bool nowait);
static void launcher_buffer_message(PgbgTask *task, PgbgMessage *msg);
static bool launcher_buffer_next(PgbgTask *task, PgbgMessage *msg);
static void launcher_note_error(PgbgTask *task, PgbgMessage *msg);
static bool launcher_late_termination(PgbgTask *task, PgbgMessage *msg);
static void launcher_emit_notice(PgbgTask *task, PgbgMessage *msg);
static void launcher_note_rowdesc(PgbgTask *task, PgbgMessage *msg);
static void launcher_fill_until_rowdesc(PgbgTask *task);
static void launcher_consume(PgbgResultState *state, PgbgMessage *msg);
static void launcher_raise_worker_error(PgbgTask *task, PgbgMessage *msg);
static void launcher_raise_lost(PgbgTask *task);
static bool launcher_task_finished(PgbgTask *task);
static void launcher_release(PgbgTask *task);
static PgbgState launcher_task_state(PgbgTask *task);
static ReturnSetInfo *launcher_materialize(FunctionCallInfo fcinfo,
										   TupleDesc *tupdesc,
										   Tuplestorestate **tupstore);

/* ------------------------------------------------------------------------
 * Launch
 * ------------------------------------------------------------------------
 */

/*
 * Start a worker running sql; returns the new task, registered in this
 * session.  Until the end, the segment belongs to the current resource
 * owner, so any error on the way releases it.
 */
PgbgTask *
pgbg_launch(text *sql, int32 queue_size, bool results_disabled)
{
	char	   *sqlstr = text_to_cstring(sql);
	dsm_segment *seg;
	PgbgFixed  *fixed;
	shm_mq	   *mq;
	BackgroundWorkerHandle *handle;
	MemoryContext taskcxt;
	MemoryContext oldcxt;
	PgbgTask   *task;
	int			pid;

	launcher_check_queue_size(queue_size);

	if (pgbg_context == NULL)
		pgbg_context = AllocSetContextCreate(TopMemoryContext,
											 "pg_background tasks",
											 ALLOCSET_SMALL_SIZES);
	taskcxt = AllocSetContextCreate(pgbg_context, "pg_background task",
									ALLOCSET_SMALL_SIZES);

	PG_TRY();
	{
		seg = launcher_setup_segment(sqlstr, queue_size, results_disabled,
									 &fixed, &mq);

		/* the handle must live as long as the task: see launcher_release */
		oldcxt = MemoryContextSwitchTo(taskcxt);
		handle = launcher_register(seg, fixed);
		MemoryContextSwitchTo(oldcxt);

		pid = launcher_wait_for_start(handle, seg, fixed);
	}
	PG_CATCH();
	{
		MemoryContextDelete(taskcxt);
		PG_RE_THROW();
	}
	PG_END_TRY();

	oldcxt = MemoryContextSwitchTo(taskcxt);
	task = palloc0(sizeof(PgbgTask));
	task->cxt = taskcxt;
	task->pid = pid;
	do
	{
		if (!pg_strong_random(&task->cookie, sizeof(task->cookie)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random cookie")));
	} while (task->cookie == 0);
	task->user_id = GetUserId();
	task->launched_at = GetCurrentTimestamp();
	task->queue_size = queue_size;
	task->results_disabled = results_disabled;
	task->sql_preview = pnstrdup(sqlstr,
								 pg_mbcliplen(sqlstr, strlen(sqlstr),
											  PGBG_SQL_PREVIEW_LEN));
	task->seg = seg;
	task->fixed = fixed;
	task->handle = handle;
	task->mqh = shm_mq_attach(mq, seg, handle);
	MemoryContextSwitchTo(oldcxt);

	/* from now on the mapping outlives this transaction */
	dsm_pin_mapping(seg);

	oldcxt = MemoryContextSwitchTo(pgbg_context);
	pgbg_tasks = lcons(task, pgbg_tasks);
	MemoryContextSwitchTo(oldcxt);
	pfree(sqlstr);
	return task;
}

static void
launcher_check_queue_size(int32 queue_size)
{
	if ((int64) queue_size < (int64) shm_mq_minimum_size ||
		(int64) queue_size > PGBG_MAX_QUEUE_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("queue size %d is out of range", queue_size),
				 errdetail("The queue size must be between %d and %d bytes.",
						   (int) shm_mq_minimum_size,
						   (int) PGBG_MAX_QUEUE_SIZE)));
}

/*
 * Create the segment: fixed header, SQL text, serialized GUC state and the
 * message queue, with this backend as the queue's receiver.
 */
static dsm_segment *
launcher_setup_segment(const char *sql, int32 queue_size,
					   bool results_disabled, PgbgFixed **fixedp, shm_mq **mqp)
{
	shm_toc_estimator e;
	Size		sql_len = strlen(sql) + 1;
	Size		guc_len = EstimateGUCStateSpace();
	Size		segsize;
	dsm_segment *seg;
	shm_toc    *toc;
	PgbgFixed  *fixed;
	char	   *sqlp;
	char	   *gucp;
	shm_mq	   *mq;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, sizeof(PgbgFixed));
	shm_toc_estimate_chunk(&e, sql_len);
	shm_toc_estimate_chunk(&e, guc_len);
	shm_toc_estimate_chunk(&e, (Size) queue_size);
	shm_toc_estimate_keys(&e, PGBG_NKEYS);
	segsize = shm_toc_estimate(&e);

	seg = dsm_create(segsize, 0);
	toc = shm_toc_create(PGBG_MAGIC, dsm_segment_address(seg), segsize);

	fixed = shm_toc_allocate(toc, sizeof(PgbgFixed));
	MemSet(fixed, 0, sizeof(PgbgFixed));
	fixed->database_id = MyDatabaseId;
	fixed->authenticated_user_id = GetAuthenticatedUserId();
	fixed->outer_user_id = GetCurrentRoleId();
	GetUserIdAndSecContext(&fixed->current_user_id, &fixed->sec_context);
	fixed->launcher_pid = MyProcPid;
	fixed->results_disabled = results_disabled;
	SpinLockInit(&fixed->mutex);
	pg_atomic_init_u32(&fixed->cancel_requested, 0);
	shm_toc_insert(toc, PGBG_KEY_FIXED, fixed);

	sqlp = shm_toc_allocate(toc, sql_len);
	memcpy(sqlp, sql, sql_len);
	shm_toc_insert(toc, PGBG_KEY_SQL, sqlp);

	gucp = shm_toc_allocate(toc, guc_len);
	SerializeGUCState(guc_len, gucp);
	shm_toc_insert(toc, PGBG_KEY_GUC, gucp);

	mq = shm_mq_create(shm_toc_allocate(toc, (Size) queue_size),
					   (Size) queue_size);
	shm_toc_insert(toc, PGBG_KEY_QUEUE, mq);
	shm_mq_set_receiver(mq, MyProc);

	*fixedp = fixed;
	*mqp = mq;
	return seg;
}

/*
 * Register the dynamic worker.  The segment is pinned first, so it
 * survives until the worker has attached even if we exit before that.
 */
static BackgroundWorkerHandle *
launcher_register(dsm_segment *seg, PgbgFixed *fixed)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;

	MemSet(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, sizeof(worker.bgw_library_name), "pg_background");
	snprintf(worker.bgw_function_name, sizeof(worker.bgw_function_name), "pg_background_worker_main");
	snprintf(worker.bgw_name, sizeof(worker.bgw_name), "pg_background worker for PID %d",
			 MyProcPid);
	snprintf(worker.bgw_type, sizeof(worker.bgw_type), PGBG_BGW_TYPE);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	dsm_pin_segment(seg);
	fixed->segment_pinned = true;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		launcher_unpin_if_unused(fixed, seg);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not register background process"),
				 errdetail("Every background worker slot is in use."),
				 errhint("You may need to increase max_worker_processes, or wait for running workers to finish.")));
	}
	return handle;
}

/*
 * Wait on our latch until the worker has attached to the segment (it sets
 * our latch when it attaches to the queue; the postmaster sets it when the
 * worker's state changes), so a task is "running" as soon as launch
 * returns.  A fast worker may already have finished: it left its pid in the
 * segment.
 */
static int
launcher_wait_for_start(BackgroundWorkerHandle *handle, dsm_segment *seg,
						PgbgFixed *fixed)
{
	for (;;)
	{
		pid_t		pid;
		pid_t		attached_pid;
		BgwHandleStatus status;

		SpinLockAcquire(&fixed->mutex);
		attached_pid = fixed->worker_pid;
		SpinLockRelease(&fixed->mutex);
		if (attached_pid != 0)
			return attached_pid;

		status = GetBackgroundWorkerPid(handle, &pid);
		if (status == BGWH_STOPPED || status == BGWH_POSTMASTER_DIED)
		{
			/* it may have attached and finished since we looked */
			SpinLockAcquire(&fixed->mutex);
			attached_pid = fixed->worker_pid;
			SpinLockRelease(&fixed->mutex);
			if (attached_pid != 0)
				return attached_pid;

			launcher_unpin_if_unused(fixed, seg);
			if (status == BGWH_POSTMASTER_DIED)
				ereport(ERROR,
						(errcode(ERRCODE_ADMIN_SHUTDOWN),
						 errmsg("cannot start background processes without postmaster"),
						 errhint("Kill all remaining database processes and restart the database.")));
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("could not start background process"),
					 errhint("More details may be available in the server log.")));
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, 0,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Drop the pin if the worker never attached (it would have dropped it). */
static void
launcher_unpin_if_unused(PgbgFixed *fixed, dsm_segment *seg)
{
	bool		unpin;

	SpinLockAcquire(&fixed->mutex);
	unpin = fixed->segment_pinned;
	fixed->segment_pinned = false;
	SpinLockRelease(&fixed->mutex);
	if (unpin)
		dsm_unpin_segment(dsm_segment_handle(seg));
}

/* ------------------------------------------------------------------------
 * Registry
 * ------------------------------------------------------------------------
 */

/*
 * Find this session's task for pid (and cookie, for the v2 API), and check
 * that the current user may use it.  Unknown pid and wrong cookie give the
 * same error, so a guessed cookie tells nothing.
 */
PgbgTask *
pgbg_find_task(int pid, bool check_cookie, uint64 cookie)
{
	ListCell   *lc;

	foreach(lc, pgbg_tasks)
	{
		PgbgTask   *task = lfirst(lc);

		if (task->pid != pid)
			continue;
		if (check_cookie && task->cookie != cookie)
			continue;

		if (task->user_id != GetUserId() && !superuser())
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for pg_background worker with PID %d",
							pid),
					 errdetail("The worker was launched by role \"%s\".",
							   GetUserNameFromId(task->user_id, true))));
		return task;
	}

	if (check_cookie)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no pg_background worker with PID %d and this cookie in this session",
						pid),
				 errhint("A handle is gone once its results were read or it was detached.")));
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("PID %d is not attached to this session", pid),
			 errhint("A worker is gone once its results were read or it was detached.")));
	return NULL;				/* keep compiler quiet */
}

/*
 * Forget a task: detach from its segment (the worker, if still running,
 * carries on and its output goes nowhere) and free its memory.
 *
 * The BackgroundWorkerHandle was allocated by RegisterDynamicBackgroundWorker
 * and its layout is private to PostgreSQL's bgworker.c; we never pfree it
 * ourselves.  We allocated it into the task's context, so it goes away
 * with the task and not a moment earlier.
 */
static void
launcher_release(PgbgTask *task)
{
	pgbg_tasks = list_delete_ptr(pgbg_tasks, task);

	if (task->seg != NULL)
	{
		pid_t		pid;

		/* a worker that never attached must not leave the segment pinned */
		if (GetBackgroundWorkerPid(task->handle, &pid) == BGWH_STOPPED)
			launcher_unpin_if_unused(task->fixed, task->seg);
		dsm_detach(task->seg);
		task->seg = NULL;
	}
	if (task->buffer != NULL)
	{
		ExecClearTuple(task->buffer_slot);
		tuplestore_end(task->buffer);	/* closes its temporary file */
	}
	MemoryContextDelete(task->cxt);
}

void
pgbg_detach(PgbgTask *task)
{
	launcher_release(task);
}

/* ------------------------------------------------------------------------
 * Reading the worker's messages
 * ------------------------------------------------------------------------
 */

/*
 * Read one message.  Returns false when nothing is available (nowait) or
 * the stream has ended; a blocking read waits on our latch inside
 * shm_mq_receive and checks for interrupts.
 */
static bool
launcher_receive(PgbgTask *task, bool nowait, PgbgMessage *msg)
{
	shm_mq_result res;
	Size		nbytes;
	void	   *data;

	if (task->stream_ended || task->mqh == NULL)
		return false;

	CHECK_FOR_INTERRUPTS();
	res = shm_mq_receive(task->mqh, &nbytes, &data, nowait);
	if (res == SHM_MQ_WOULD_BLOCK)
		return false;
	if (res == SHM_MQ_DETACHED)
	{
		task->stream_ended = true;
		return false;
	}
	if (nbytes < 1 || nbytes > (Size) PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("invalid message size %zu from pg_background worker with PID %d",
						nbytes, task->pid)));

	msg->type = ((const char *) data)[0];
	msg->data = (const char *) data + 1;
	msg->len = (int) nbytes - 1;
	if (msg->type == 'Z')
	{
		task->stream_ended = true;
		task->saw_end = true;
	}
	return true;
}

/*
 * Read one message into the local buffer (notices are passed on at once).
 * Returns false when no message was read.
 */
static bool
launcher_pump(PgbgTask *task, bool nowait)
{
	PgbgMessage msg;

	if (!launcher_receive(task, nowait, &msg))
		return false;

	switch (msg.type)
	{
		case 'N':
			launcher_emit_notice(task, &msg);
			break;
		case 'E':
			if (launcher_late_termination(task, &msg))
				break;
			launcher_note_error(task, &msg);
			task->has_error = true;
			if (!task->results_disabled)
				launcher_buffer_message(task, &msg);
			break;
		case 'T':
			launcher_note_rowdesc(task, &msg);
			if (!task->results_disabled)
				launcher_buffer_message(task, &msg);
			break;
		case 'A':				/* notifications, parameter status: ignored */
		case 'S':
			break;
		default:
			if (!task->results_disabled)
				launcher_buffer_message(task, &msg);
			break;
	}
	return true;
}

/* Append a message to the task's buffer, which spills to disk if large. */
static void
launcher_buffer_message(PgbgTask *task, PgbgMessage *msg)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(task->cxt);
	bytea	   *b = palloc(VARHDRSZ + 1 + msg->len);
	Datum		value;
	bool		isnull = false;

	if (pgbg_buffer_desc == NULL)
	{
		MemoryContextSwitchTo(TopMemoryContext);
		pgbg_buffer_desc = CreateTemplateTupleDesc(1);
		TupleDescInitEntry(pgbg_buffer_desc, 1, "msg", BYTEAOID, -1, 0);
		MemoryContextSwitchTo(task->cxt);
	}
	if (task->buffer == NULL)
	{
		/* interXact: it must outlive the transaction that fills it */
		task->buffer = tuplestore_begin_heap(false, true, work_mem);
		task->buffer_slot = MakeSingleTupleTableSlot(pgbg_buffer_desc,
													 &TTSOpsMinimalTuple);
	}

	SET_VARSIZE(b, VARHDRSZ + 1 + msg->len);
	VARDATA(b)[0] = msg->type;
	memcpy(VARDATA(b) + 1, msg->data, msg->len);
	value = PointerGetDatum(b);
	tuplestore_putvalues(task->buffer, pgbg_buffer_desc, &value, &isnull);
	pfree(b);
	task->buffered++;
	MemoryContextSwitchTo(oldcxt);
}

/* Take the oldest buffered message; its data lives until the next call. */
static bool
launcher_buffer_next(PgbgTask *task, PgbgMessage *msg)
{
	bytea	   *b;
	bool		isnull;

	if (task->buffered == 0)
		return false;
	if (!tuplestore_gettupleslot(task->buffer, true, false, task->buffer_slot))
		return false;
	task->buffered--;
	b = DatumGetByteaPP(slot_getattr(task->buffer_slot, 1, &isnull));
	msg->type = VARDATA_ANY(b)[0];
	msg->data = VARDATA_ANY(b) + 1;
	msg->len = VARSIZE_ANY_EXHDR(b) - 1;
	return true;
}

/*
 * A worker terminated (by cancel or pg_terminate_backend) after its SQL
 * committed, but before it could say so, has still finished its work: treat
 * that as the normal end of the stream, not as a failure.
 */
static bool
launcher_late_termination(PgbgTask *task, PgbgMessage *msg)
{
	ErrorData	edata;
	bool		committed;

	SpinLockAcquire(&task->fixed->mutex);
	committed = task->fixed->committed;
	SpinLockRelease(&task->fixed->mutex);
	if (!committed ||
		!pgbg_parse_errornotice(msg->data, msg->len, &edata) ||
		edata.sqlerrcode != ERRCODE_ADMIN_SHUTDOWN)
		return false;

	task->stream_ended = true;
	task->saw_end = true;
	return true;
}

/* Remember the worker's error message for pg_background_list_v2(). */
static void
launcher_note_error(PgbgTask *task, PgbgMessage *msg)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(task->cxt);
	ErrorData	edata;
	const char *text = "malformed error message from worker";
	size_t		len;

	if (pgbg_parse_errornotice(msg->data, msg->len, &edata))
		text = edata.message;
	len = strlen(text);
	if (task->last_error)
		pfree(task->last_error);
	if (len <= PGBG_LAST_ERROR_LEN)
		task->last_error = pstrdup(text);
	else
	{
		int			keep = pg_mbcliplen(text, len, PGBG_LAST_ERROR_LEN - 3);

		task->last_error = psprintf("%.*s...", keep, text);
	}
	MemoryContextSwitchTo(oldcxt);
}

/* Parse the row description once, when it arrives. */
static void
launcher_note_rowdesc(PgbgTask *task, PgbgMessage *msg)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(task->cxt);
	char	   *why = NULL;
	bool		ok;

	ok = pgbg_parse_rowdesc(msg->data, msg->len, &task->rowdesc, &why);
	MemoryContextSwitchTo(oldcxt);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("invalid row description from pg_background worker with PID %d",
						task->pid),
				 errdetail_internal("%s", why)));
	task->has_rowdesc = true;
}

/* Pass a worker's notice or warning on to our client. */
static void
launcher_emit_notice(PgbgTask *task, PgbgMessage *msg)
{
	ErrorData	edata;

	if (!pgbg_parse_errornotice(msg->data, msg->len, &edata))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("malformed notice from pg_background worker with PID %d",
						task->pid)));
	if (edata.elevel >= ERROR)
		edata.elevel = WARNING;
	edata.cursorpos = 0;
	ThrowErrorData(&edata);
}

/* ------------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------------
 */


/*
 * Buffer messages until we know what the result looks like: a row
 * description, an error, or the end of the stream (command tags only).
 * Nothing is consumed, so a wrong column definition list can be corrected
 * and the read repeated.
 */
static void
launcher_fill_until_rowdesc(PgbgTask *task)
{
	while (!task->has_rowdesc && !task->has_error && !task->stream_ended)
		(void) launcher_pump(task, false);
}

/*
 * pg_background_result and pg_background_result_v2: return everything the
 * worker sent, then forget the task.
 */
void
pgbg_result(PgbgTask *task, FunctionCallInfo fcinfo)
{
	PgbgResultState state;
	PgbgMessage msg;
	int			natts;

	if (task->results_disabled)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_background worker with PID %d has no results to read",
						task->pid),
				 errdetail("It was started with pg_background_submit_v2(), which discards results."),
				 errhint("Use pg_background_wait_v2() to wait for it, or pg_background_launch_v2() to read results.")));
	if (task->consumed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("results of pg_background worker with PID %d were already read",
						task->pid),
				 errhint("Detach the handle with pg_background_detach_v2().")));

	MemSet(&state, 0, sizeof(state));
	state.task = task;
	(void) launcher_materialize(fcinfo, &state.tupdesc, &state.tupstore);

	launcher_fill_until_rowdesc(task);

	/*
	 * A worker that has already failed (a cancelled one, typically) reports
	 * its error whatever the column definition list says: the error is its
	 * result.  Draining a stopped worker's queue is bounded by its size.
	 */
	if (task->has_rowdesc && !task->has_error)
		(void) launcher_task_finished(task);
	if (task->has_error)
		state.skip_rows = true;
	else if (task->has_rowdesc)
		pgbg_check_rowtype(&task->rowdesc, state.tupdesc);
	else if (!task->has_error)
	{
		if (!task->saw_end)
			launcher_raise_lost(task);
		state.tags_only = true;
		pgbg_check_tag_rowtype(state.tupdesc);
	}

	/* the column definition list fits: from here on we consume */
	task->consumed = true;
	natts = state.tupdesc->natts;
	state.values = palloc(sizeof(Datum) * Max(natts, 1));
	state.nulls = palloc(sizeof(bool) * Max(natts, 1));
	if (task->has_rowdesc && !state.skip_rows)
	{
		state.finfo = palloc0(sizeof(FmgrInfo) * Max(natts, 1));
		state.typioparams = palloc0(sizeof(Oid) * Max(natts, 1));
		pgbg_prepare_decoders(&task->rowdesc, state.tupdesc, state.finfo,
							  state.typioparams);
	}

	while (launcher_buffer_next(task, &msg))
		launcher_consume(&state, &msg);
	while (launcher_receive(task, false, &msg))
	{
		if (msg.type == 'N')
			launcher_emit_notice(task, &msg);
		else
			launcher_consume(&state, &msg);
	}
	if (!task->saw_end)
		launcher_raise_lost(task);

	launcher_release(task);
}

/* Handle one message of a result being read. */
static void
launcher_consume(PgbgResultState *state, PgbgMessage *msg)
{
	PgbgTask   *task = state->task;

	CHECK_FOR_INTERRUPTS();
	if (state->skip_rows && msg->type != 'E')
		return;
	switch (msg->type)
	{
		case 'D':
			if (state->tags_only || state->finfo == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_PROTOCOL_VIOLATION),
						 errmsg("unexpected data row from pg_background worker with PID %d",
								task->pid)));
			pgbg_decode_datarow(msg->data, msg->len, &task->rowdesc,
								state->tupdesc, state->finfo,
								state->typioparams, state->values,
								state->nulls);
			tuplestore_putvalues(state->tupstore, state->tupdesc,
								 state->values, state->nulls);
			break;
		case 'C':
			if (state->tags_only)
			{
				const char *tag;

				if (!pgbg_parse_command_tag(msg->data, msg->len, &tag))
					ereport(ERROR,
							(errcode(ERRCODE_PROTOCOL_VIOLATION),
							 errmsg("malformed command tag from pg_background worker with PID %d",
									task->pid)));
				state->values[0] = CStringGetTextDatum(tag);
				state->nulls[0] = false;
				tuplestore_putvalues(state->tupstore, state->tupdesc,
									 state->values, state->nulls);
			}
			break;
		case 'E':
			if (!launcher_late_termination(task, msg))
				launcher_raise_worker_error(task, msg);
			break;
		case 'T':				/* parsed when it arrived */
		case 'Z':
		case 'A':
		case 'S':
			break;
		case 'N':
			launcher_emit_notice(task, msg);
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("unknown message type %d from pg_background worker with PID %d",
							(int) (unsigned char) msg->type, task->pid)));
	}
}

/*
 * The worker's error is its result: rethrow it here with its SQLSTATE,
 * message, detail, hint and context (which names the worker), and forget
 * the task.  Its cursor position points into the worker's SQL, not the
 * caller's query, so it is dropped.  A FATAL in the worker is an ERROR
 * here: it must not end the caller's session.
 */
static void
launcher_raise_worker_error(PgbgTask *task, PgbgMessage *msg)
{
	ErrorData	edata;
	bool		canceled = task->cancel_requested;
	int			pid = task->pid;

	if (!pgbg_parse_errornotice(msg->data, msg->len, &edata))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("malformed error message from pg_background worker with PID %d",
						pid)));

	/* edata lives in the current context, not the task's */
	launcher_release(task);

	if (canceled && (edata.sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
					 edata.sqlerrcode == ERRCODE_QUERY_CANCELED))
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("pg_background worker with PID %d was canceled", pid),
				 errdetail("Its transaction did not commit.")));

	if (edata.elevel != ERROR)
		edata.elevel = ERROR;
	edata.cursorpos = 0;
	ThrowErrorData(&edata);
}

/* The worker went away without saying it finished or failed. */
static void
launcher_raise_lost(PgbgTask *task)
{
	int			pid = task->pid;
	bool		canceled = task->cancel_requested;

	launcher_release(task);
	if (canceled)
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("pg_background worker with PID %d was canceled", pid)));
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("lost connection to pg_background worker with PID %d", pid),
			 errhint("More details may be available in the server log.")));
}

/*
 * Set up a materialize-mode set-returning function with the caller's
 * column definition list as the row type.
 */
static ReturnSetInfo *
launcher_materialize(FunctionCallInfo fcinfo, TupleDesc *tupdesc,
					 Tuplestorestate **tupstore)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcxt;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (rsinfo->expectedDesc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("a column definition list is required for functions returning \"record\""),
				 errhint("Call it in FROM with a column definition list, e.g. AS (result text).")));

	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	*tupdesc = CreateTupleDescCopy(rsinfo->expectedDesc);
	*tupstore = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(oldcxt);

	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = *tupstore;
	rsinfo->setDesc = *tupdesc;
	return rsinfo;
}

/* ------------------------------------------------------------------------
 * Waiting and cancel
 * ------------------------------------------------------------------------
 */

/* Has the task ended?  Drains what is left when it has. */
static bool
launcher_task_finished(PgbgTask *task)
{
	pid_t		pid;
	BgwHandleStatus status;

	if (task->stream_ended)
		return true;
	status = GetBackgroundWorkerPid(task->handle, &pid);
	if (status == BGWH_STOPPED || status == BGWH_POSTMASTER_DIED)
	{
		while (launcher_pump(task, true))
			;
		return true;
	}
	return false;
}

/*
 * Wait until the task ends or timeout_ms passes (-1: no limit), reading
 * its messages meanwhile so it never blocks on a full queue.  Returns
 * whether it ended.
 */
bool
pgbg_wait(PgbgTask *task, int timeout_ms)
{
	TimestampTz deadline = 0;

	if (timeout_ms >= 0)
		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											   timeout_ms);
	for (;;)
	{
		long		remaining = -1;
		int			events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;

		while (launcher_pump(task, true))
			;
		if (launcher_task_finished(task))
			return true;

		if (timeout_ms >= 0)
		{
			/* TimestampTz counts microseconds; round up to whole ms */
			remaining = (long) ((deadline - GetCurrentTimestamp() + 999) / 1000);
			if (remaining <= 0)
				return false;
			events |= WL_TIMEOUT;
		}
		(void) WaitLatch(MyLatch, events, remaining, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Ask the worker to stop: set the flag it checks between statements and
 * have the postmaster send it SIGTERM through its handle (never a signal to
 * a bare pid, which may have been reused; never SIGKILL: the postmaster
 * treats a killed backend as a crash and restarts the cluster).  With
 * grace_ms, wait that long for it to end, draining its output meanwhile.
 *
 * What this can and cannot do: SIGTERM makes the worker raise FATAL at its
 * next interrupt check, which every executor loop, lock wait and sleep
 * performs; code that runs long without checking (a C function in a tight
 * loop) only stops when it returns.  On Windows, PostgreSQL emulates
 * signals with a named pipe served by a thread of the target process, so
 * delivery is the same in principle but is only noticed at those same
 * interrupt checks, and a worker blocked in a Windows system call may not
 * see it until the call returns.  The flag covers the gap between
 * statements on every platform; a statement_timeout set inside the
 * worker's SQL is the backstop for the rest.
 */
void
pgbg_cancel(PgbgTask *task, int grace_ms)
{
	if (launcher_task_finished(task))
		return;

	task->cancel_requested = true;
	pg_atomic_write_u32(&task->fixed->cancel_requested, 1);
	TerminateBackgroundWorker(task->handle);

	if (grace_ms > 0)
		(void) pgbg_wait(task, grace_ms);
}

/* ------------------------------------------------------------------------
 * Listing
 * ------------------------------------------------------------------------
 */

static PgbgState
launcher_task_state(PgbgTask *task)
{
	pid_t		pid;
	pid_t		attached;

	if (task->stream_ended)
		return PGBG_STATE_STOPPED;
	switch (GetBackgroundWorkerPid(task->handle, &pid))
	{
		case BGWH_NOT_YET_STARTED:
			return PGBG_STATE_STARTING;
		case BGWH_STOPPED:
			return PGBG_STATE_STOPPED;
		case BGWH_POSTMASTER_DIED:
			return PGBG_STATE_POSTMASTER_DIED;
		case BGWH_STARTED:
			break;
	}
	SpinLockAcquire(&task->fixed->mutex);
	attached = task->fixed->worker_pid;
	SpinLockRelease(&task->fixed->mutex);
	return attached != 0 ? PGBG_STATE_RUNNING : PGBG_STATE_STARTING;
}

static const char *const pgbg_state_names[] = {
	[PGBG_STATE_STARTING] = "starting",
	[PGBG_STATE_RUNNING] = "running",
	[PGBG_STATE_STOPPED] = "stopped",
	[PGBG_STATE_POSTMASTER_DIED] = "postmaster_died",
};

/* The column types pg_background_list_v2() returns, in order. */
static const Oid pgbg_list_types[] = {
	INT4OID, INT8OID, TIMESTAMPTZOID, OIDOID, INT4OID, TEXTOID, TEXTOID,
	TEXTOID, BOOLOID
};

void
pgbg_list(FunctionCallInfo fcinfo)
{
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	ListCell   *lc;
	int			i;

	(void) launcher_materialize(fcinfo, &tupdesc, &tupstore);
	if (tupdesc->natts != (int) lengthof(pgbg_list_types))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column definition list of pg_background_list_v2() must have %d columns",
						(int) lengthof(pgbg_list_types)),
				 errhint("Use AS (pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4, state text, sql_preview text, last_error text, consumed bool).")));
	for (i = 0; i < tupdesc->natts; i++)
		if (TupleDescAttr(tupdesc, i)->atttypid != pgbg_list_types[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of the column definition list of pg_background_list_v2() must have type %s",
							i + 1, format_type_be(pgbg_list_types[i])),
					 errhint("Use AS (pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4, state text, sql_preview text, last_error text, consumed bool).")));

	foreach(lc, pgbg_tasks)
	{
		PgbgTask   *task = lfirst(lc);
		Datum		values[lengthof(pgbg_list_types)];
		bool		nulls[lengthof(pgbg_list_types)];

		if (task->user_id != GetUserId() && !superuser())
			continue;

		/* pick up errors and state changes without blocking */
		while (launcher_pump(task, true))
			;

		MemSet(nulls, 0, sizeof(nulls));
		values[0] = Int32GetDatum(task->pid);
		values[1] = Int64GetDatum((int64) task->cookie);
		values[2] = TimestampTzGetDatum(task->launched_at);
		values[3] = ObjectIdGetDatum(task->user_id);
		values[4] = Int32GetDatum(task->queue_size);
		values[5] = CStringGetTextDatum(pgbg_state_names[launcher_task_state(task)]);
		values[6] = CStringGetTextDatum(task->sql_preview);
		if (task->last_error)
			values[7] = CStringGetTextDatum(task->last_error);
		else
			nulls[7] = true;
		values[8] = BoolGetDatum(task->consumed);
		tuplestore_putvalues(tupstore, tupdesc, values, nulls);
	}
}
