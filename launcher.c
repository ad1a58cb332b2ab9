/*-------------------------------------------------------------------------
 *
 * launcher.c
 *		The calling session's side of pg_background: the registry of this
 *		session's tasks, segment setup, worker registration, waiting,
 *		cancel, detach, listing and clean-up.  Reading a worker's messages
 *		is in results.c.
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

/* Tasks detached while their worker still runs: kept only to count them. */
static List *pgbg_detached = NIL;

/*
 * Handles of this session's workers whose task is gone but whose process
 * may not have exited yet (it still holds its worker slot).  Handles live
 * in their own context, apart from the tasks, and are freed once the
 * postmaster reports the process stopped.
 */
static List *pgbg_exiting = NIL;
static MemoryContext pgbg_handle_context = NULL;

/*
 * How long a launch waits, at most, for this session's finished workers to
 * exit when every worker slot is taken.  They exit within milliseconds;
 * the bound is for one whose exit is held up (by a lock its clean-up
 * waits for, say), so that a launch cannot wait on it for long.
 */
#define PGBG_EXIT_WAIT_MS	10000

/*
 * How long a launch that found every slot taken waits for the idle pool
 * workers of other sessions it asked to exit, and how often it re-tries
 * meanwhile (see launcher_register).
 */
#define PGBG_OTHERS_WAIT_MS		2000

/* Room to spare in a segment's SQL and GUC areas (launcher_area_size). */
#define PGBG_AREA_SPARE			1024
#define PGBG_OTHERS_RETRY_MS	10
#define PGBG_OTHERS_ASK_MS		50

/* This session's counters. */
static struct
{
	int64		launched;
	int64		completed;
	int64		failed;
	int64		canceled;
	double		total_ms;		/* execution time of counted workers */
	int64		timed;			/* how many workers total_ms covers */
}			pgbg_counts;


static void launcher_check_queue_size(int32 queue_size);
static dsm_segment *launcher_setup_segment(const char *sql, Size sql_len,
										   Size guc_len, int32 queue_size,
										   bool results_disabled,
										   const char *label,
										   PgbgFixed **fixed, shm_mq **mq);
static Size launcher_area_size(Size len);
static void launcher_fill_fixed(PgbgFixed *fixed, bool results_disabled,
								const char *label);
static void launcher_rewrite_segment(dsm_segment *seg, PgbgFixed *fixed,
									 const char *sql, bool results_disabled,
									 const char *label);
static void launcher_pin_segment(dsm_segment *seg, PgbgFixed *fixed);
static BackgroundWorkerHandle *launcher_register(dsm_segment *seg,
												 PgbgFixed *fixed);
static int	launcher_wait_for_start(BackgroundWorkerHandle *handle,
									dsm_segment *seg, PgbgFixed *fixed,
									bool pooled);
static int	launcher_release_waiting_workers(void);
static bool launcher_worker_waits(PgbgTask *task);
static void launcher_unpin_if_unused(PgbgFixed *fixed, dsm_segment *seg);
static void launcher_give_go(PgbgFixed *fixed);
static void launcher_abandon_start(PgbgFixed *fixed);
static void launcher_prune_exiting(void);
static bool launcher_have_exiting_workers(void);
static void launcher_free_task(PgbgTask *task);
static void launcher_free_buffer(PgbgTask *task);
static void launcher_reap_detached(void);
static void launcher_refresh(void);
static void launcher_check_max_workers(void);
static PgbgState launcher_task_state(PgbgTask *task);
static void launcher_refresh_pinned(PgbgTask *task, void *arg);
static ReturnSetInfo *launcher_materialize(FunctionCallInfo fcinfo,
										   bool declared, TupleDesc *tupdesc,
										   Tuplestorestate **tupstore);

/* pgbg_wait's arguments and answer, through pgbg_with_task_pinned */
typedef struct LauncherWait
{
	int			timeout_ms;
	bool		ended;
} LauncherWait;

static void launcher_wait_pinned(PgbgTask *task, void *arg);
static bool launcher_wait_loop(PgbgTask *task, int timeout_ms);

/* ------------------------------------------------------------------------
 * Launch
 * ------------------------------------------------------------------------
 */

/*
 * Start a worker running sql; returns the new task, registered in this
 * session.  Until the end, the segment belongs to the current resource
 * owner, so any error on the way releases it.  label (1.9) is NULL or at
 * most PGBG_LABEL_MAX bytes (pgbg_check_label).
 *
 * The worker waits for our go before it runs anything (worker.c,
 * worker_wait_for_go), and we give it only once the task is in this
 * session's registry and nothing can fail any more.  So: launch returned
 * => the task is tracked (listed, counted, detached at session end);
 * launch raised (an interrupt while waiting for the start, an error
 * making the task) => the worker never runs the SQL: we tell it the launch
 * was abandoned, or, if this session dies first, it sees the queue's
 * receiver detach.  Either way it exits on its own, logging why.
 */
PgbgTask *
pgbg_launch(text *sql, int32 queue_size, bool results_disabled,
			const char *label)
{
	char	   *sqlstr = text_to_cstring(sql);
	dsm_segment *volatile seg = NULL;
	PgbgFixed  *volatile fixed = NULL;
	shm_mq	   *mq;
	shm_mq_handle *volatile mqh = NULL;
	BackgroundWorkerHandle *volatile handle = NULL;
	MemoryContext taskcxt;
	MemoryContext oldcxt;
	PgbgTask   *task;
	int			pid;

	launcher_check_queue_size(queue_size);
	launcher_check_max_workers();

	if (pgbg_context == NULL)
		pgbg_context = AllocSetContextCreate(TopMemoryContext,
											 "pg_background tasks",
											 ALLOCSET_SMALL_SIZES);
	taskcxt = AllocSetContextCreate(pgbg_context, "pg_background task",
									ALLOCSET_SMALL_SIZES);

	PG_TRY();
	{
		PgbgFixed  *f;
		dsm_segment *sg;
		shm_mq_handle *mh;
		BackgroundWorkerHandle *h;
		Size		sql_len = strlen(sqlstr) + 1;
		Size		guc_len = EstimateGUCStateSpace();

		if (pgbg_pool_reuse(sql_len, guc_len, queue_size, &sg, &f, &mh, &h))
		{
			/*
			 * A pooled worker whose segment fits the task: it stays attached
			 * to it and its queue, and waits for our go; the segment gets
			 * the new task written over the last one.
			 */
			seg = sg;
			fixed = f;
			mqh = mh;
			handle = h;
			launcher_rewrite_segment(sg, f, sqlstr, results_disabled, label);
			SpinLockAcquire(&f->mutex);
			pid = f->worker_pid;
			SpinLockRelease(&f->mutex);
		}
		else
		{
			sg = launcher_setup_segment(sqlstr, sql_len, guc_len, queue_size,
										results_disabled, label, &f, &mq);
			seg = sg;
			fixed = f;

			/*
			 * Attach to the queue before the worker exists: if this session
			 * dies before the worker starts, detaching the segment then marks
			 * the queue detached, so the worker never blocks on a reader
			 * that is gone, and never runs the SQL of a launch that did not
			 * return.  The handle outlives the task if its worker is pooled
			 * with the segment.
			 */
			oldcxt = MemoryContextSwitchTo(pgbg_context);
			mh = shm_mq_attach(mq, sg, NULL);
			MemoryContextSwitchTo(oldcxt);
			mqh = mh;
			launcher_pin_segment(sg, f);

			/*
			 * A worker of this session's pool takes the task if one can
			 * (pool.c); a pooled worker that dies before it attaches leaves
			 * the segment to the next one, or to a fresh worker.
			 */
			pid = 0;
			while (pid == 0)
			{
				bool		pooled;

				h = pgbg_pool_hand_over(sg);
				pooled = (h != NULL);
				if (!pooled)
					h = launcher_register(sg, f);
				handle = h;
				pid = launcher_wait_for_start(h, sg, f, pooled);
				if (pid == 0)
				{
					handle = NULL;
					pgbg_retire_handle(h);
				}
			}
			shm_mq_set_handle(mh, h);
		}

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
		task->label = label != NULL ? pstrdup(label) : NULL;
		task->seg = sg;
		task->fixed = f;
		task->seq = f->task_seq;
		task->handle = h;
		task->mqh = mh;
		MemoryContextSwitchTo(oldcxt);

		/*
		 * An interrupt that came during the launch fails the launch, rather
		 * than the statement right after the worker got its go.
		 */
		CHECK_FOR_INTERRUPTS();

		/* the last step that can fail */
		oldcxt = MemoryContextSwitchTo(pgbg_context);
		pgbg_tasks = lcons(task, pgbg_tasks);
		MemoryContextSwitchTo(oldcxt);
	}
	PG_CATCH();
	{
		if (mqh != NULL)
			shm_mq_detach(mqh);
		if (handle != NULL)
		{
			pid_t		wpid;

			launcher_abandon_start(fixed);

			/*
			 * A worker that is gone without having attached (a kept worker
			 * terminated after the hand-over, or one that never started)
			 * will not drop the segment's pin: drop it here.
			 */
			if (GetBackgroundWorkerPid(handle, &wpid) == BGWH_STOPPED)
				launcher_unpin_if_unused(fixed, seg);
			pgbg_retire_handle(handle);
		}
		else if (fixed != NULL)
		{
			/* no worker: drop the pin, if launcher_register took it */
			launcher_unpin_if_unused(fixed, seg);
		}
		MemoryContextDelete(taskcxt);
		PG_RE_THROW();
	}
	PG_END_TRY();

	/* Nothing from here on can fail: the task is this session's now. */

	/* the mapping outlives this transaction */
	dsm_pin_mapping(task->seg);
	pgbg_counts.launched++;
	launcher_give_go(task->fixed);
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
launcher_setup_segment(const char *sql, Size sql_len, Size guc_len,
					   int32 queue_size, bool results_disabled,
					   const char *label, PgbgFixed **fixedp, shm_mq **mqp)
{
	shm_toc_estimator e;
	Size		sql_space = launcher_area_size(sql_len);
	Size		guc_space = launcher_area_size(guc_len);
	Size		segsize;
	dsm_segment *seg;
	shm_toc    *toc;
	PgbgFixed  *fixed;
	char	   *sqlp;
	char	   *gucp;
	shm_mq	   *mq;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, sizeof(PgbgFixed));
	shm_toc_estimate_chunk(&e, sql_space);
	shm_toc_estimate_chunk(&e, guc_space);
	shm_toc_estimate_chunk(&e, (Size) queue_size);
	shm_toc_estimate_keys(&e, PGBG_NKEYS);
	segsize = shm_toc_estimate(&e);

	seg = dsm_create(segsize, 0);
	toc = shm_toc_create(PGBG_MAGIC, dsm_segment_address(seg), segsize);

	fixed = shm_toc_allocate(toc, sizeof(PgbgFixed));
	MemSet(fixed, 0, sizeof(PgbgFixed));
	SpinLockInit(&fixed->mutex);
	pg_atomic_init_u32(&fixed->cancel_requested, 0);
	pg_atomic_init_u32(&fixed->timed_out, 0);
	launcher_fill_fixed(fixed, results_disabled, label);
	fixed->sql_space = sql_space;
	fixed->guc_space = guc_space;
	fixed->queue_size = queue_size;
	shm_toc_insert(toc, PGBG_KEY_FIXED, fixed);
	pgbg_pool_prepare(seg, fixed);

	sqlp = shm_toc_allocate(toc, sql_space);
	strlcpy(sqlp, sql, sql_space);
	shm_toc_insert(toc, PGBG_KEY_SQL, sqlp);

	gucp = shm_toc_allocate(toc, guc_space);
	SerializeGUCState(guc_space, gucp);
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
 * With the pool on, the SQL and GUC areas get some room to spare, so that
 * a pooled worker's segment can take later tasks in place
 * (pgbg_pool_reuse).
 */
static Size
launcher_area_size(Size len)
{
	return MAXALIGN(len + (pgbg_pool_size > 0 ? PGBG_AREA_SPARE : 0));
}

/*
 * What the worker needs to become the caller, and a new task's fresh
 * state.  Leaves alone what belongs to the segment (its mutex, the pool
 * state, the worker's pid and PGPROC, the sizes).
 */
static void
launcher_fill_fixed(PgbgFixed *fixed, bool results_disabled,
					const char *label)
{
	fixed->database_id = MyDatabaseId;
	fixed->authenticated_user_id = GetAuthenticatedUserId();
	fixed->outer_user_id = GetCurrentRoleId();
	GetUserIdAndSecContext(&fixed->current_user_id, &fixed->sec_context);
	fixed->results_disabled = results_disabled;
	fixed->timeout_ms = pgbg_worker_timeout;
	strlcpy(fixed->label, label != NULL ? label : "", sizeof(fixed->label));
	fixed->launcher_pid = MyProcPid;
	fixed->committed = false;
	fixed->commits = 0;
	fixed->started_at = 0;
	fixed->finished_at = 0;
	fixed->has_progress = false;
	fixed->has_progress_msg = false;
	fixed->progress_pct = 0;
	fixed->progress_msg[0] = '\0';
	pg_atomic_write_u32(&fixed->cancel_requested, 0);
	pg_atomic_write_u32(&fixed->timed_out, 0);
	SpinLockAcquire(&fixed->mutex);
	fixed->task_seq++;
	fixed->launcher_proc = MyProc;
	fixed->launcher_waits = false;
	SpinLockRelease(&fixed->mutex);
}

/*
 * Write a task over the last one in a pooled worker's segment (claimed by
 * pgbg_pool_reuse: the worker waits for our go and looks at nothing else).
 */
static void
launcher_rewrite_segment(dsm_segment *seg, PgbgFixed *fixed, const char *sql,
						 bool results_disabled, const char *label)
{
	shm_toc    *toc = shm_toc_attach(PGBG_MAGIC, dsm_segment_address(seg));
	char	   *sqlp = shm_toc_lookup(toc, PGBG_KEY_SQL, false);
	char	   *gucp = shm_toc_lookup(toc, PGBG_KEY_GUC, false);

	launcher_fill_fixed(fixed, results_disabled, label);
	fixed->idle_timeout_ms = pgbg_pool_idle_timeout;
	strlcpy(sqlp, sql, fixed->sql_space);
	SerializeGUCState(fixed->guc_space, gucp);
}

/*
 * Pin the segment, so it survives until a worker has attached even if we
 * exit before that; the worker that attaches unpins it.
 */
static void
launcher_pin_segment(dsm_segment *seg, PgbgFixed *fixed)
{
	dsm_pin_segment(seg);
	fixed->segment_pinned = true;
	fixed->launcher_pid = MyProcPid;
}

/*
 * Register the dynamic worker for a pinned segment.
 *
 * When every slot is taken and some are held by workers of this session
 * that have finished but not yet exited (a result read returns when the
 * output ends, a moment before the process is gone), wait for them: the
 * postmaster sets our latch when one exits (bgw_notify_pid).  Slots held
 * by other sessions' exiting workers cannot be waited for that way (no
 * notice reaches us), so then, as when the slots are really in use, the
 * launch fails at once.
 */
static BackgroundWorkerHandle *
launcher_register(dsm_segment *seg, PgbgFixed *fixed)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	MemoryContext oldcxt;
	TimestampTz deadline = 0;
	TimestampTz others_deadline = 0;
	TimestampTz others_asked = 0;
	bool		registered;

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

	if (pgbg_handle_context == NULL)
		pgbg_handle_context = AllocSetContextCreate(TopMemoryContext,
													"pg_background worker handles",
													ALLOCSET_SMALL_SIZES);

	for (;;)
	{
		long		remaining;

		/* the handle outlives the task (pgbg_retire_handle) */
		oldcxt = MemoryContextSwitchTo(pgbg_handle_context);
		registered = RegisterDynamicBackgroundWorker(&worker, &handle);
		MemoryContextSwitchTo(oldcxt);
		if (registered)
			break;

		/*
		 * Idle workers must never make a launch fail: this session's pooled
		 * workers, and its workers that finished and wait to be pooled, are
		 * let go first.
		 */
		(void) pgbg_pool_release_all();
		(void) launcher_release_waiting_workers();

		if (deadline == 0)
			deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												   PGBG_EXIT_WAIT_MS);
		if (!launcher_have_exiting_workers())
		{
			TimestampTz now = GetCurrentTimestamp();

			/*
			 * Then the idle pool workers of other sessions, one at a time.
			 * Nothing tells us when one is gone (the postmaster notifies its
			 * own session), so this wait alone re-tries at short intervals,
			 * for at most PGBG_OTHERS_WAIT_MS, and only after one was asked
			 * to go; another is asked every PGBG_OTHERS_ASK_MS.
			 */
			if (others_deadline == 0)
			{
				if (pgbg_pool_release_others() > 0)
				{
					others_deadline = TimestampTzPlusMilliseconds(now,
																  PGBG_OTHERS_WAIT_MS);
					others_asked = now;
				}
			}
			else if (now >= TimestampTzPlusMilliseconds(others_asked,
														PGBG_OTHERS_ASK_MS))
			{
				(void) pgbg_pool_release_others();
				others_asked = now;
			}
			if (others_deadline == 0 || now >= others_deadline)
			{
				/* one of ours may have exited since the attempt: try once more */
				oldcxt = MemoryContextSwitchTo(pgbg_handle_context);
				registered = RegisterDynamicBackgroundWorker(&worker, &handle);
				MemoryContextSwitchTo(oldcxt);
				break;
			}
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 PGBG_OTHERS_RETRY_MS, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			continue;
		}

		/* TimestampTz counts microseconds; round up to whole ms */
		remaining = (long) ((deadline - GetCurrentTimestamp() + 999) / 1000);
		if (remaining <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 remaining, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	if (!registered)
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
 * segment.  A pooled worker that exits before it attaches returns 0.
 */
static int
launcher_wait_for_start(BackgroundWorkerHandle *handle, dsm_segment *seg,
						PgbgFixed *fixed, bool pooled)
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

			/* a pooled worker that died: the segment is still pinned */
			if (pooled && status == BGWH_STOPPED)
				return 0;

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
 * Start handshake and exiting workers
 * ------------------------------------------------------------------------
 */

/*
 * The task is tracked: let the worker run its SQL.  If it already waits
 * (it published its PGPROC), wake it; otherwise it sees the go when it
 * first looks.  Cannot fail.
 */
static void
launcher_give_go(PgbgFixed *fixed)
{
	PGPROC	   *proc;

	SpinLockAcquire(&fixed->mutex);
	fixed->launch_state = PGBG_LAUNCH_GO;
	proc = fixed->worker_proc;
	SpinLockRelease(&fixed->mutex);
	if (proc != NULL)
		SetLatch(&proc->procLatch);
}

/*
 * The launch is failing after the worker was registered: tell the worker
 * to exit without running anything.  It cannot have begun, since the go
 * is given only after the last step that can fail.  It is not terminated
 * through its handle: a worker that never starts would never drop the
 * segment's pin.  Started, it attaches (dropping the pin), sees this and
 * exits at once, logging why; this session's detach of the queue at the
 * end of the transaction wakes it too.  Called in PG_CATCH: only spinlock
 * and latch operations here.
 */
static void
launcher_abandon_start(PgbgFixed *fixed)
{
	PGPROC	   *proc;

	SpinLockAcquire(&fixed->mutex);
	Assert(fixed->launch_state == PGBG_LAUNCH_PENDING);
	fixed->launch_state = PGBG_LAUNCH_ABANDONED;
	proc = fixed->worker_proc;
	SpinLockRelease(&fixed->mutex);
	if (proc != NULL)
		SetLatch(&proc->procLatch);
}

/*
 * A task no longer needs its worker's handle.  If the process has not
 * exited yet, keep the handle so that a launch can wait for the slot
 * (launcher_register); otherwise free it.
 */
void
pgbg_retire_handle(BackgroundWorkerHandle *handle)
{
	pid_t		pid;
	MemoryContext oldcxt;

	if (handle == NULL)
		return;

	launcher_prune_exiting();
	switch (GetBackgroundWorkerPid(handle, &pid))
	{
		case BGWH_NOT_YET_STARTED:
		case BGWH_STARTED:
			oldcxt = MemoryContextSwitchTo(pgbg_handle_context);
			pgbg_exiting = lappend(pgbg_exiting, handle);
			MemoryContextSwitchTo(oldcxt);
			break;
		case BGWH_STOPPED:
		case BGWH_POSTMASTER_DIED:
			pfree(handle);
			break;
	}
}

/* Free the kept handles of workers that have exited. */
static void
launcher_prune_exiting(void)
{
	ListCell   *lc;

	foreach(lc, pgbg_exiting)
	{
		BackgroundWorkerHandle *handle = lfirst(lc);
		pid_t		pid;
		BgwHandleStatus status = GetBackgroundWorkerPid(handle, &pid);

		if (status == BGWH_STOPPED || status == BGWH_POSTMASTER_DIED)
		{
			pgbg_exiting = foreach_delete_current(pgbg_exiting, lc);
			pfree(handle);
		}
	}
}

/*
 * Does this session have a worker that has finished but still holds its
 * slot?  Those of released tasks, and those of tracked or detached tasks
 * whose output ended or that are in their exit already.  A worker still
 * running its SQL does not count: it may keep its slot for hours.
 */
static bool
launcher_have_exiting_workers(void)
{
	List	   *lists[2] = {pgbg_tasks, pgbg_detached};
	int			i;

	launcher_prune_exiting();
	if (pgbg_exiting != NIL)
		return true;

	for (i = 0; i < (int) lengthof(lists); i++)
	{
		ListCell   *lc;

		foreach(lc, lists[i])
		{
			PgbgTask   *task = lfirst(lc);
			TimestampTz finished;
			pid_t		pid;

			if (task->seg == NULL ||
				GetBackgroundWorkerPid(task->handle, &pid) != BGWH_STARTED ||
				launcher_worker_waits(task))
				continue;
			SpinLockAcquire(&task->fixed->mutex);
			finished = task->fixed->finished_at;
			SpinLockRelease(&task->fixed->mutex);
			if (task->stream_ended || finished != 0)
				return true;
		}
	}
	return false;
}

/*
 * Does the task's worker wait, after the task, to be pooled (rather than
 * run it or exit)?
 */
static bool
launcher_worker_waits(PgbgTask *task)
{
	uint32		state;

	if (!pgbg_worker_done(task))
		return false;
	state = pg_atomic_read_u32(&task->fixed->pool_state);
	return state == PGBG_POOL_NONE || state == PGBG_POOL_IDLE;
}

/*
 * Tell this session's workers that finished their task and wait to be
 * pooled to exit instead (their task is still tracked; everything it sent
 * is in its queue already).  Returns how many.
 */
static int
launcher_release_waiting_workers(void)
{
	List	   *lists[2] = {pgbg_tasks, pgbg_detached};
	int			n = 0;
	int			i;

	for (i = 0; i < (int) lengthof(lists); i++)
	{
		ListCell   *lc;

		foreach(lc, lists[i])
		{
			PgbgTask   *task = lfirst(lc);

			if (task->seg == NULL || !launcher_worker_waits(task))
				continue;
			pgbg_pool_tell_exit(task->fixed);
			n++;
		}
	}
	return n;
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
	PgbgTask   *task = pgbg_search_task(pid, check_cookie, cookie);

	if (task != NULL)
	{
		/* the launching role is not named: the caller may not know it */
		if (!pgbg_task_usable(task))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for pg_background worker with PID %d",
							pid),
					 errdetail("Only the role that launched a worker, or a superuser, can use it.")));
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
 * This session's task for pid (and cookie), whoever launched it; NULL if
 * there is none.
 */
PgbgTask *
pgbg_search_task(int pid, bool check_cookie, uint64 cookie)
{
	ListCell   *lc;

	foreach(lc, pgbg_tasks)
	{
		PgbgTask   *task = lfirst(lc);

		if (task->pid == pid && (!check_cookie || task->cookie == cookie))
			return task;
	}
	return NULL;
}

/* May the current user use the task? */
bool
pgbg_task_usable(PgbgTask *task)
{
	return task->user_id == GetUserId() || superuser();
}

/* This session's tasks, most recent first (api19.c iterates over a copy). */
List *
pgbg_session_tasks(void)
{
	return pgbg_tasks;
}

/*
 * Re-entrancy (DESIGN.md): reading a task's messages can run user code --
 * decoding a row runs type input and receive functions and domain checks,
 * and a notice passed on runs emit_log_hook -- and that code may call back
 * into this extension for the very task being read.  So whatever reads or
 * waits on a task pins it first, and unpins it on every way out, ERROR
 * included (PG_TRY: an ERROR caught by an exception block must not leave
 * the task pinned).  A call that would free or consume a pinned task (read,
 * wait, detach, cancel with a grace period) raises 55006 and changes
 * nothing; listing and statistics leave a pinned task's queue alone.  A
 * release asked for by the reader itself while the task is pinned (its
 * worker's error ends the read) happens when the pin goes.
 */
void
pgbg_check_not_busy(PgbgTask *task)
{
	if (task->busy)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("pg_background worker with PID %d is in use", task->pid),
				 errdetail("A statement of this session is reading its results or waiting for it; code run by that statement (a type's input function, a domain's check) cannot read it, wait for it, detach it or cancel it with a grace period."),
				 errhint("Call these functions after the statement that reads the results.")));
}

static void
launcher_pin_task(PgbgTask *task)
{
	pgbg_check_not_busy(task);
	task->busy = true;
}

static void
launcher_unpin_task(PgbgTask *task)
{
	task->busy = false;
	if (task->release_pending)
	{
		task->release_pending = false;
		pgbg_release_task(task);
	}
}

/*
 * Run fn(task, arg) with the task pinned, and unpin it on every way out.
 * The one place that pins: reading, waiting and refreshing all go through
 * here.
 */
void
pgbg_with_task_pinned(PgbgTask *task, PgbgPinnedFunc fn, void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;

	launcher_pin_task(task);
	PG_TRY();
	{
		fn(task, arg);
	}
	PG_CATCH();
	{
		/* fn may have been in the task's contexts: leave them first */
		MemoryContextSwitchTo(cxt);

		/*
		 * A worker's error being thrown keeps its file and function names
		 * by reference (elog.c assumes they are constants), and they point
		 * into the task's message context (results.c).  If the unpin
		 * releases the task, that context must not go with it: let it live
		 * as long as the caller's memory, as parallel.c keeps its message
		 * context until the next message.
		 */
		if (task->release_pending && task->msgcxt != NULL)
		{
			MemoryContextSetParent(task->msgcxt, cxt);
			task->msgcxt = NULL;
		}
		launcher_unpin_task(task);
		PG_RE_THROW();
	}
	PG_END_TRY();
	launcher_unpin_task(task);
}

/*
 * Read what a task's worker has sent so far into its local buffer, without
 * waiting and without consuming anything; returns whether the task has
 * ended.  A task that a statement is reading or waiting for is left alone
 * (its reader owns its queue) and the answer is what is known already.
 * Passing notices on can run user code that calls back into us, so the
 * task is pinned meanwhile; the caller checks pgbg_task_registered()
 * afterwards if it walks a list of tasks.
 */
bool
pgbg_refresh_task(PgbgTask *task)
{
	bool		ended = false;

	if (task->busy)
		return task->stream_ended;
	pgbg_with_task_pinned(task, launcher_refresh_pinned, &ended);
	return ended;
}

static void
launcher_refresh_pinned(PgbgTask *task, void *arg)
{
	while (pgbg_pump(task, true))
		;
	*(bool *) arg = pgbg_task_finished(task);
}

/*
 * Is the task still in this session's registry?  User code run while a
 * task is refreshed may have detached it, or another task of a list being
 * walked.
 */
bool
pgbg_task_registered(PgbgTask *task)
{
	return list_member_ptr(pgbg_tasks, task);
}

/*
 * Free a task: keep its worker in the pool if it may serve another task
 * (pool.c), else drop the segment pin if its worker never attached and
 * detach from the segment; then free its memory.  The worker's handle (not in the
 * task's context) is kept while the process still exists.  The task
 * leaves the registry last, once nothing can fail any more.
 */
static void
launcher_free_task(PgbgTask *task)
{
	if (task->seg != NULL && !pgbg_pool_offer(task))
	{
		pid_t		pid;

		if (GetBackgroundWorkerPid(task->handle, &pid) == BGWH_STOPPED)
			launcher_unpin_if_unused(task->fixed, task->seg);
		/* a poolable worker waiting for its next task is told to exit */
		if (task->mqh != NULL)
		{
			shm_mq_detach(task->mqh);
			task->mqh = NULL;
		}
		dsm_detach(task->seg);
		task->seg = NULL;
	}
	launcher_free_buffer(task);
	pgbg_retire_handle(task->handle);
	pgbg_tasks = list_delete_ptr(pgbg_tasks, task);
	MemoryContextDelete(task->cxt);
}

static void
launcher_free_buffer(PgbgTask *task)
{
	if (task->buffer != NULL)
	{
		ExecClearTuple(task->buffer_slot);
		tuplestore_end(task->buffer);	/* closes its temporary file */
		task->buffer = NULL;
		task->buffered = 0;
	}
}

/*
 * Forget a task.  If its worker still runs, stop reading its queue (the
 * worker carries on, its output goes nowhere) but keep the segment mapped
 * until the worker exits, only to count how it ended.
 *
 * Errors at any line (DESIGN.md): this never reads the queue -- output
 * being thrown away is not drained, and reading it would run interrupt
 * checks and notice hooks -- and the task leaves the registry only after
 * everything that can fail is done.  A worker whose process has exited is
 * counted from the flags in the segment (committed, timed out, canceled),
 * not from what is left in its queue.
 */
void
pgbg_release_task(PgbgTask *task)
{
	if (task->busy)
	{
		task->release_pending = true;
		return;
	}

	if (!task->accounted && !task->stream_ended && !pgbg_process_gone(task))
	{
		MemoryContext oldcxt;

		/* the only step that can fail comes first */
		oldcxt = MemoryContextSwitchTo(pgbg_context);
		pgbg_detached = lappend(pgbg_detached, task);
		MemoryContextSwitchTo(oldcxt);

		shm_mq_detach(task->mqh);
		task->mqh = NULL;
		launcher_free_buffer(task);
		pgbg_tasks = list_delete_ptr(pgbg_tasks, task);
		return;
	}
	pgbg_account(task);
	launcher_free_task(task);
}

void
pgbg_detach(PgbgTask *task)
{
	pgbg_check_not_busy(task);
	pgbg_release_task(task);
}

/*
 * A pooled worker about to serve another task forgets what its last task
 * did as a launcher: the tasks that task launched and did not read are
 * detached (their workers, as when a session ends, no longer wait on
 * queues nobody reads), its own pool is let go, and its statistics start
 * again.  Nothing here can fail.
 */
void
pgbg_forget_session(void)
{
	while (pgbg_tasks != NIL)
	{
		PgbgTask   *task = linitial(pgbg_tasks);

		task->busy = false;		/* no read of it is in progress now */
		task->accounted = true; /* counted in no later statistics */
		pgbg_release_task(task);
	}
	(void) pgbg_pool_release_all();
	MemSet(&pgbg_counts, 0, sizeof(pgbg_counts));
}

/*
 * Count and free detached tasks whose worker has exited or, pooled, let go
 * of the task (then it may serve the next launch).
 */
static void
launcher_reap_detached(void)
{
	ListCell   *lc;

	foreach(lc, pgbg_detached)
	{
		PgbgTask   *task = lfirst(lc);

		if (!pgbg_process_gone(task))
			continue;
		pgbg_detached = foreach_delete_current(pgbg_detached, lc);
		pgbg_account(task);
		launcher_free_task(task);
	}
}

/* ------------------------------------------------------------------------
 * Statistics
 * ------------------------------------------------------------------------
 */

/*
 * Count a task's outcome, once, as soon as this session learns of it.  A
 * worker that committed completed, even if it was terminated afterwards; a
 * worker stopped by pg_background.worker_timeout failed; one stopped by
 * cancel was canceled.
 */
void
pgbg_account(PgbgTask *task)
{
	bool		committed;
	TimestampTz started;
	TimestampTz finished;

	if (task->accounted)
		return;
	task->accounted = true;

	SpinLockAcquire(&task->fixed->mutex);
	committed = task->fixed->committed;
	started = task->fixed->started_at;
	finished = task->fixed->finished_at;
	SpinLockRelease(&task->fixed->mutex);

	if (task->saw_end || committed)
		pgbg_counts.completed++;
	else if (pg_atomic_read_u32(&task->fixed->timed_out) != 0)
		pgbg_counts.failed++;
	else if (task->cancel_requested)
		pgbg_counts.canceled++;
	else
		pgbg_counts.failed++;

	if (started == 0)
		started = task->launched_at;
	if (finished == 0)
		finished = GetCurrentTimestamp();
	pgbg_counts.total_ms += (double) (finished - started) / 1000.0;
	pgbg_counts.timed++;
}

/*
 * Bring every task's state up to date, without blocking.  Draining a
 * finished task passes its notices on, which can run user code that
 * changes the registry: walk a copy, skip tasks that have left it, and
 * leave a task another statement is reading alone (re-entrancy).
 */
static void
launcher_refresh(void)
{
	List	   *tasks;
	ListCell   *lc;

	launcher_reap_detached();
	pgbg_pool_trim();
	tasks = list_copy(pgbg_tasks);
	foreach(lc, tasks)
	{
		PgbgTask   *task = lfirst(lc);

		if (!pgbg_task_registered(task) || task->busy || task->accounted)
			continue;
		if (pgbg_refresh_task(task) && pgbg_task_registered(task))
			pgbg_account(task);
	}
	list_free(tasks);
}

void
pgbg_get_stats(PgbgStats *stats)
{
	launcher_refresh();
	stats->launched = pgbg_counts.launched;
	stats->completed = pgbg_counts.completed;
	stats->failed = pgbg_counts.failed;
	stats->canceled = pgbg_counts.canceled;
	stats->active = (int32) (pgbg_counts.launched - pgbg_counts.completed -
							 pgbg_counts.failed - pgbg_counts.canceled);
	stats->have_avg = pgbg_counts.timed > 0;
	stats->avg_execution_ms = stats->have_avg ?
		pgbg_counts.total_ms / pgbg_counts.timed : 0.0;
}

/*
 * pg_background.max_workers limits the workers this session has running
 * at once, detached ones included.
 */
static void
launcher_check_max_workers(void)
{
	PgbgStats	stats;

	pgbg_get_stats(&stats);
	if (stats.active >= pgbg_max_workers)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("this session already has %d running pg_background workers",
						stats.active),
				 errdetail("pg_background.max_workers is %d.", pgbg_max_workers),
				 errhint("Wait for a worker to finish, or raise pg_background.max_workers.")));
}

/* The last progress a task's worker reported; false if none yet. */
bool
pgbg_get_progress(PgbgTask *task, int32 *pct, char **msg)
{
	char		buf[PGBG_PROGRESS_MSG_LEN];
	bool		has;
	bool		has_msg;

	/* copy under the spinlock, allocate after releasing it */
	SpinLockAcquire(&task->fixed->mutex);
	has = task->fixed->has_progress;
	has_msg = task->fixed->has_progress_msg;
	*pct = task->fixed->progress_pct;
	memcpy(buf, task->fixed->progress_msg, sizeof(buf));
	SpinLockRelease(&task->fixed->mutex);

	buf[sizeof(buf) - 1] = '\0';
	*msg = has && has_msg ? pstrdup(buf) : NULL;
	return has;
}

/*
 * Set up a materialize-mode set-returning function with the caller's
 * column definition list as the row type (declared: the function's
 * declared composite result type instead).
 */
ReturnSetInfo *
pgbg_materialize(FunctionCallInfo fcinfo, TupleDesc *tupdesc,
				 Tuplestorestate **tupstore)
{
	return launcher_materialize(fcinfo, false, tupdesc, tupstore);
}

ReturnSetInfo *
pgbg_materialize_declared(FunctionCallInfo fcinfo, TupleDesc *tupdesc,
						  Tuplestorestate **tupstore)
{
	return launcher_materialize(fcinfo, true, tupdesc, tupstore);
}

static ReturnSetInfo *
launcher_materialize(FunctionCallInfo fcinfo, bool declared,
					 TupleDesc *tupdesc, Tuplestorestate **tupstore)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcxt;
	TupleDesc	desc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (declared)
	{
		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("function returning a composite type called in context that cannot accept it")));
	}
	else if ((desc = rsinfo->expectedDesc) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("a column definition list is required for functions returning \"record\""),
				 errhint("Call it in FROM with a column definition list, e.g. AS (result text).")));

	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	*tupdesc = CreateTupleDescCopy(desc);
	/* random access only where the caller may need it, as PostgreSQL does */
	*tupstore = tuplestore_begin_heap((rsinfo->allowedModes &
									   SFRM_Materialize_Random) != 0,
									  false, work_mem);
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

/*
 * Is the worker done with the task: has its process exited (or the
 * postmaster died), or has a poolable worker let go of it?  Either way it
 * sends nothing more, and its task's outcome is settled.
 */
bool
pgbg_process_gone(PgbgTask *task)
{
	pid_t		pid;
	BgwHandleStatus status = GetBackgroundWorkerPid(task->handle, &pid);

	return status == BGWH_STOPPED || status == BGWH_POSTMASTER_DIED ||
		pgbg_worker_done(task);
}

/*
 * Has a poolable worker finished the task without error?  Its end marker
 * came (it sends nothing after it), or it reset its session and let go of
 * the task (worker.c) -- all a detached task's launcher can know.  It
 * then waits to be pooled or told to exit.
 */
bool
pgbg_worker_done(PgbgTask *task)
{
	uint32		left_seq;

	if (task->seg == NULL || !task->fixed->poolable)
		return false;
	if (task->saw_end && !task->has_error)
		return true;
	SpinLockAcquire(&task->fixed->mutex);
	left_seq = task->fixed->left_seq;
	SpinLockRelease(&task->fixed->mutex);
	return left_seq == task->seq;
}

/*
 * Has the task ended?  Drains what is left when it has.  The caller has
 * pinned the task.
 */
bool
pgbg_task_finished(PgbgTask *task)
{
	pid_t		pid;
	BgwHandleStatus status;

	if (task->stream_ended)
		return true;
	status = GetBackgroundWorkerPid(task->handle, &pid);
	if (status == BGWH_STOPPED || status == BGWH_POSTMASTER_DIED ||
		pgbg_worker_done(task))
	{
		while (pgbg_pump(task, true))
			;
		return true;
	}
	return false;
}

/*
 * Wait until the task ends or timeout_ms passes (-1: no limit), reading
 * its messages meanwhile so it never blocks on a full queue.  Returns
 * whether it ended.
 *
 * "Ended" means the worker process has exited, not only that its last
 * message arrived: then its background worker slot is free again, and a
 * launch right after a wait or a cancel with grace cannot fail for want
 * of one.  The postmaster sets our latch when the worker exits
 * (bgw_notify_pid), so this costs no polling.
 */
bool
pgbg_wait(PgbgTask *task, int timeout_ms)
{
	LauncherWait w = {timeout_ms, false};

	pgbg_with_task_pinned(task, launcher_wait_pinned, &w);
	return w.ended;
}

static void
launcher_wait_pinned(PgbgTask *task, void *arg)
{
	LauncherWait *w = (LauncherWait *) arg;

	w->ended = launcher_wait_loop(task, w->timeout_ms);
}

static bool
launcher_wait_loop(PgbgTask *task, int timeout_ms)
{
	TimestampTz deadline = 0;

	if (timeout_ms >= 0)
		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											   timeout_ms);
	for (;;)
	{
		long		remaining = -1;
		int			events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;

		while (pgbg_pump(task, true))
			;
		if (pgbg_task_finished(task) && pgbg_process_gone(task))
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
	/*
	 * Cancel reads nothing (code run by a read of this very task may call
	 * it); only waiting out a grace period would, and that is refused on a
	 * busy task before anything is done.
	 */
	if (grace_ms > 0)
		pgbg_check_not_busy(task);
	if (task->stream_ended || pgbg_process_gone(task))
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

	if (task->stream_ended || pgbg_worker_done(task))
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

/* A task's state as pg_background_list_v2() shows it (1.10: outcome_v2). */
const char *
pgbg_task_state_name(PgbgTask *task)
{
	return pgbg_state_names[launcher_task_state(task)];
}

/* The column types pg_background_list_v2() returns, in order. */
static const Oid pgbg_list_types[] = {
	INT4OID, INT8OID, TIMESTAMPTZOID, OIDOID, INT4OID, TEXTOID, TEXTOID,
	TEXTOID, BOOLOID, TEXTOID
};

void
pgbg_list(FunctionCallInfo fcinfo)
{
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	List	   *tasks;
	ListCell   *lc;
	int			i;

	(void) pgbg_materialize(fcinfo, &tupdesc, &tupstore);
	launcher_refresh();
	/* 1.9 added the tenth column, label; nine columns still work */
	if (tupdesc->natts != (int) lengthof(pgbg_list_types) &&
		tupdesc->natts != (int) lengthof(pgbg_list_types) - 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column definition list of pg_background_list_v2() must have %d or %d columns",
						(int) lengthof(pgbg_list_types) - 1,
						(int) lengthof(pgbg_list_types)),
				 errhint("Use AS (pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4, state text, sql_preview text, last_error text, consumed bool, label text).")));
	for (i = 0; i < tupdesc->natts; i++)
		if (TupleDescAttr(tupdesc, i)->atttypid != pgbg_list_types[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of the column definition list of pg_background_list_v2() must have type %s",
							i + 1, format_type_be(pgbg_list_types[i])),
					 errhint("Use AS (pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4, state text, sql_preview text, last_error text, consumed bool, label text).")));

	/*
	 * launcher_refresh() above picked up every task's errors and state
	 * changes (and ran whatever user code passing notices on runs); nothing
	 * below runs user code, so the registry stays as it is now.
	 */
	tasks = pgbg_my_tasks();
	foreach(lc, tasks)
	{
		PgbgTask   *task = lfirst(lc);
		Datum		values[lengthof(pgbg_list_types)];
		bool		nulls[lengthof(pgbg_list_types)];

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
		if (task->label)
			values[9] = CStringGetTextDatum(task->label);
		else
			nulls[9] = true;
		tuplestore_putvalues(tupstore, tupdesc, values, nulls);
	}
	list_free(tasks);
}
