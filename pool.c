/*-------------------------------------------------------------------------
 *
 * pool.c
 *		The warm worker pool, launcher side: workers of this session that
 *		finished a task and wait for the next one.
 *
 * With pg_background.pool_size > 0 at launch, a worker that finishes its
 * task without error resets its session (what DISCARD ALL resets), tells
 * the launcher it has let go of the task and waits (worker.c).  When the
 * launcher is done with the task (its results read, or the handle
 * detached) it keeps the worker, up to pool_size of them: the worker's
 * last segment stays mapped as the channel to it.  A launch by the same
 * user, role and security context takes the most recently pooled worker
 * instead of starting a new process.  When the task fits in the worker's
 * segment (SQL, settings, the same queue size) and the last task's output
 * was read to its end, the new task is written over the last one and both
 * sides keep their queue handles: no segment is made or mapped.
 * Otherwise the new task's segment is handed over and the worker moves to
 * it.  Everything else (a fresh cookie, the go handshake, list, wait,
 * cancel, detach) is as for a fresh worker.
 *
 * Every change of a worker's pool state is a compare-and-exchange on the
 * segment (PgbgPoolState), so the launcher handing over a task and the
 * worker giving up after pg_background.pool_idle_timeout never both win.
 * Detaching the segment, which this session's exit does too, tells the
 * worker to exit: the pool empties when the session ends.
 *
 * Copyright (c) 2026, pg_background contributors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/memutils.h"

#include "pg_background.h"
#include "compat.h"

/* One idle worker of this session. */
typedef struct PoolEntry
{
	dsm_segment *seg;			/* the segment of its last task */
	PgbgFixed  *fixed;
	BackgroundWorkerHandle *handle;
	shm_mq_handle *mqh;			/* NULL: the queue cannot be used again */
	uint32		seq;			/* task_seq of its last task */

	/* whom it ran its last task as; a next task must match */
	Oid			authenticated_user_id;
	Oid			outer_user_id;
	Oid			current_user_id;
	int			sec_context;
} PoolEntry;

/* How long a launch waits for a pooled worker to finish its reset. */
#define PGBG_POOL_READY_WAIT_MS		1000

/* Idle workers, most recently pooled first. */
static List *pool_entries = NIL;
static MemoryContext pool_context = NULL;

static void pool_segment_detached(dsm_segment *seg, Datum arg);
static void pool_release(PoolEntry *entry);
static bool pool_entry_alive(PoolEntry *entry);
static bool pool_wait_ready(PoolEntry *entry);
static void pool_trim(int keep);

/*
 * Mark a new task's segment for the pool when the session has one.  The
 * setting in force at launch decides, as for worker_timeout.  Called while
 * the segment is set up, before any worker has seen it.
 */
void
pgbg_pool_prepare(dsm_segment *seg, PgbgFixed *fixed)
{
	fixed->poolable = pgbg_pool_size > 0;
	fixed->idle_timeout_ms = pgbg_pool_idle_timeout;
	fixed->next_handle = DSM_HANDLE_INVALID;
	pg_atomic_init_u32(&fixed->pool_state, PGBG_POOL_NONE);
	if (fixed->poolable)
		on_dsm_detach(seg, pool_segment_detached, PointerGetDatum(fixed));
}

/*
 * Tell a worker that waits after its task to exit, unless it already has a
 * next task or has given up.  Only atomics, a spinlock and a latch: safe in
 * a detach callback and in PG_CATCH.
 */
void
pgbg_pool_tell_exit(PgbgFixed *fixed)
{
	uint32		state = pg_atomic_read_u32(&fixed->pool_state);
	PGPROC	   *proc;

	for (;;)
	{
		if (state != PGBG_POOL_NONE && state != PGBG_POOL_IDLE)
			return;
		if (pg_atomic_compare_exchange_u32(&fixed->pool_state, &state,
										   PGBG_POOL_EXIT))
			break;
	}
	SpinLockAcquire(&fixed->mutex);
	proc = fixed->worker_proc;
	SpinLockRelease(&fixed->mutex);
	if (proc != NULL)
		SetLatch(&proc->procLatch);
}

/* Whoever detaches a poolable segment is done with its worker. */
static void
pool_segment_detached(dsm_segment *seg, Datum arg)
{
	pgbg_pool_tell_exit((PgbgFixed *) DatumGetPointer(arg));
}

/*
 * The task is being freed: keep its worker if it may serve another task.
 * Returns true when the worker went into the pool; the task's segment and
 * worker handle then belong to the pool (task->seg and task->handle are
 * NULL).  A worker whose task failed, was canceled or timed out is never
 * kept: it exits.
 */
bool
pgbg_pool_offer(PgbgTask *task)
{
	PgbgFixed  *fixed = task->fixed;
	PoolEntry  *entry;
	MemoryContext oldcxt;
	uint32		expected = PGBG_POOL_NONE;
	pid_t		pid;

	if (pgbg_pool_size <= 0)
	{
		pgbg_pool_trim();
		return false;
	}
	if (task->seg == NULL || !fixed->poolable)
		return false;
	if (task->cancel_requested || task->has_error ||
		pg_atomic_read_u32(&fixed->timed_out) != 0 ||
		pg_atomic_read_u32(&fixed->cancel_requested) != 0)
		return false;

	/*
	 * It finished without error: its end marker came (it may still be
	 * resetting its session), or it has let go of the task (a detached
	 * task's queue was not read).
	 */
	if (!pgbg_worker_done(task) ||
		GetBackgroundWorkerPid(task->handle, &pid) != BGWH_STARTED)
		return false;

	pool_trim(pgbg_pool_size - 1);
	if (list_length(pool_entries) >= pgbg_pool_size)
		return false;

	/* what can fail comes first */
	if (pool_context == NULL)
		pool_context = AllocSetContextCreate(TopMemoryContext,
											 "pg_background pool",
											 ALLOCSET_SMALL_SIZES);
	oldcxt = MemoryContextSwitchTo(pool_context);
	entry = palloc0(sizeof(PoolEntry));
	pool_entries = lcons(entry, pool_entries);
	MemoryContextSwitchTo(oldcxt);

	if (!pg_atomic_compare_exchange_u32(&fixed->pool_state, &expected,
										PGBG_POOL_IDLE))
	{
		/* it gave up waiting, or is told to exit */
		pool_entries = list_delete_first(pool_entries);
		pfree(entry);
		return false;
	}

	entry->seg = task->seg;
	entry->fixed = fixed;
	entry->seq = task->seq;
	entry->handle = task->handle;
	entry->authenticated_user_id = fixed->authenticated_user_id;
	entry->outer_user_id = fixed->outer_user_id;
	entry->current_user_id = fixed->current_user_id;
	entry->sec_context = fixed->sec_context;

	/*
	 * The queue can serve the next task only if this one's output was read
	 * to its end marker: nothing of it is left in the queue.
	 */
	if (task->mqh != NULL && !task->saw_end)
	{
		shm_mq_detach(task->mqh);
		task->mqh = NULL;
	}
	entry->mqh = task->mqh;
	task->mqh = NULL;
	task->seg = NULL;
	task->handle = NULL;
	return true;
}

/* Does a pooled worker's last task match the current user and context? */
static bool
pool_entry_matches(PoolEntry *entry)
{
	Oid			current_user_id;
	int			sec_context;

	GetUserIdAndSecContext(&current_user_id, &sec_context);
	return entry->authenticated_user_id == GetAuthenticatedUserId() &&
		entry->outer_user_id == GetCurrentRoleId() &&
		entry->current_user_id == current_user_id &&
		entry->sec_context == sec_context;
}

/*
 * Claim a pooled worker whose segment can take a task of these sizes in
 * place.  On success the segment (its mapping now owned by the current
 * resource owner, as a new one's), its queue handle and the worker's
 * handle are the caller's, and the worker waits for the caller's go, as a
 * fresh worker does; the caller writes the task into the segment.  If the
 * launch fails, the caller abandons the start and the worker exits.
 */
bool
pgbg_pool_reuse(Size sql_len, Size guc_len, int32 queue_size,
				dsm_segment **seg, PgbgFixed **fixed, shm_mq_handle **mqh,
				BackgroundWorkerHandle **handle)
{
	ListCell   *lc;

	foreach(lc, pool_entries)
	{
		PoolEntry  *entry = lfirst(lc);
		PgbgFixed  *f = entry->fixed;
		uint32		expected = PGBG_POOL_IDLE;

		if (entry->mqh == NULL || f->queue_size != queue_size ||
			sql_len > f->sql_space || guc_len > f->guc_space ||
			!pool_entry_matches(entry) || !pool_entry_alive(entry) ||
			!pool_wait_ready(entry))
			continue;

		/* can fail: first, while the entry is still the pool's */
		dsm_unpin_mapping(entry->seg);

		/*
		 * The worker must not see the go of its last task once it sees the
		 * claim; it is told to wait for ours.
		 */
		SpinLockAcquire(&f->mutex);
		f->launch_state = PGBG_LAUNCH_PENDING;
		SpinLockRelease(&f->mutex);
		f->next_handle = dsm_segment_handle(entry->seg);

		pool_entries = foreach_delete_current(pool_entries, lc);
		if (!pg_atomic_compare_exchange_u32(&f->pool_state, &expected,
											PGBG_POOL_NEXT))
		{
			/* it gave up waiting a moment ago */
			dsm_pin_mapping(entry->seg);
			pool_release(entry);
			continue;
		}

		/*
		 * No latch is set: the worker needs waking only for the go (or the
		 * abandon), which sets it.
		 */
		*seg = entry->seg;
		*fixed = f;
		*mqh = entry->mqh;
		*handle = entry->handle;
		pfree(entry);
		return true;
	}
	return false;
}

/*
 * Hand the task whose segment is seg to a pooled worker that ran its last
 * task as the current user, role and security context.  The segment must
 * already be pinned (the worker unpins it when it attaches).  Returns the
 * worker's handle, now the caller's, or NULL when no worker of the pool
 * can take it.  The worker may still die before it attaches: the caller
 * waits for the attach as for a fresh worker and falls back to one.
 */
BackgroundWorkerHandle *
pgbg_pool_hand_over(dsm_segment *seg)
{
	ListCell   *lc;

	foreach(lc, pool_entries)
	{
		PoolEntry  *entry = lfirst(lc);
		BackgroundWorkerHandle *handle;
		uint32		expected = PGBG_POOL_IDLE;
		PGPROC	   *proc;

		/* one whose reset is held up (by a lock, say) is passed over */
		if (!pool_entry_matches(entry) || !pool_entry_alive(entry) ||
			!pool_wait_ready(entry))
			continue;

		pool_entries = foreach_delete_current(pool_entries, lc);

		entry->fixed->next_handle = dsm_segment_handle(seg);
		/* the compare-and-exchange is a full barrier */
		if (!pg_atomic_compare_exchange_u32(&entry->fixed->pool_state,
											&expected, PGBG_POOL_NEXT))
		{
			/* it gave up waiting a moment ago */
			pool_release(entry);
			continue;
		}
		SpinLockAcquire(&entry->fixed->mutex);
		proc = entry->fixed->worker_proc;
		SpinLockRelease(&entry->fixed->mutex);
		if (proc != NULL)
			SetLatch(&proc->procLatch);

		/* the worker reads the handle before it lets go of the old segment */
		handle = entry->handle;
		if (entry->mqh != NULL)
			shm_mq_detach(entry->mqh);
		dsm_detach(entry->seg);
		pfree(entry);
		return handle;
	}
	return NULL;
}

/*
 * A task goes to a pooled worker (in place or in a new segment) only once
 * the worker has finished resetting its session after the last one, so a
 * worker's reset never holds up a launch for long: if the reset fails,
 * or the worker is terminated meanwhile, it exits without ever having been
 * handed the task, and the launch goes to another worker.  The reset
 * takes well under a millisecond; the worker wakes us when it is done
 * (launcher_waits), the postmaster when it exits.  A reset held up for
 * long (by a lock) is not waited for: false, the worker stays pooled.
 */
static bool
pool_wait_ready(PoolEntry *entry)
{
	PgbgFixed  *f = entry->fixed;
	TimestampTz deadline = 0;

	for (;;)
	{
		bool		ready;
		long		remaining;

		SpinLockAcquire(&f->mutex);
		ready = (f->left_seq == entry->seq);
		f->launcher_waits = !ready;
		SpinLockRelease(&f->mutex);
		if (ready)
			return true;
		if (!pool_entry_alive(entry))
			return false;

		if (deadline == 0)
			deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												   PGBG_POOL_READY_WAIT_MS);
		/* TimestampTz counts microseconds; round up to whole ms */
		remaining = (long) ((deadline - GetCurrentTimestamp() + 999) / 1000);
		if (remaining <= 0)
			return false;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 remaining, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Is the pooled worker still there and waiting? */
static bool
pool_entry_alive(PoolEntry *entry)
{
	pid_t		pid;

	return pg_atomic_read_u32(&entry->fixed->pool_state) == PGBG_POOL_IDLE &&
		GetBackgroundWorkerPid(entry->handle, &pid) == BGWH_STARTED;
}

/* Let a pooled worker go: it exits. */
static void
pool_release(PoolEntry *entry)
{
	pgbg_pool_tell_exit(entry->fixed);
	if (entry->mqh != NULL)
		shm_mq_detach(entry->mqh);
	dsm_detach(entry->seg);
	pgbg_retire_handle(entry->handle);
	pfree(entry);
}

/*
 * Keep at most keep pooled workers, the most recently pooled; drop those
 * that are gone or gave up.
 */
static void
pool_trim(int keep)
{
	ListCell   *lc;
	int			n = 0;

	foreach(lc, pool_entries)
	{
		PoolEntry  *entry = lfirst(lc);

		if (n < keep && pool_entry_alive(entry))
		{
			n++;
			continue;
		}
		pool_entries = foreach_delete_current(pool_entries, lc);
		pool_release(entry);
	}
}

/*
 * Keep no more pooled workers than pg_background.pool_size says now (it
 * may have been lowered), and forget those that are gone.
 */
void
pgbg_pool_trim(void)
{
	if (pool_entries != NIL)
		pool_trim(Max(pgbg_pool_size, 0));
}

/*
 * Every worker slot is taken: let this session's idle workers go.  Returns
 * how many; the postmaster tells us when each has exited (bgw_notify_pid),
 * and their handles are kept for that wait (pgbg_retire_handle).
 */
int
pgbg_pool_release_all(void)
{
	int			n = list_length(pool_entries);

	pool_trim(0);
	return n;
}

/*
 * Every worker slot is taken and this session has no worker of its own
 * that will exit: ask an idle pool worker of another session to exit.  It
 * is found by the wait event it idles with and sent SIGUSR2, which an idle
 * pool worker takes as "exit" (worker.c) and a worker that was just handed
 * a task ignores; the compare-and-exchange on its segment decides which.
 * Returns how many were asked: one, or none.
 */
int
pgbg_pool_release_others(void)
{
	uint32		event = pgbg_pool_idle_event();
	uint32		i;

	for (i = 0; i < ProcGlobal->allProcCount; i++)
	{
		PGPROC	   *proc = &ProcGlobal->allProcs[i];
		int			pid = proc->pid;

		if (pid == 0 || pid == MyProcPid || proc->wait_event_info != event)
			continue;
		if (kill(pid, SIGUSR2) == 0)
			return 1;
	}
	return 0;
}
