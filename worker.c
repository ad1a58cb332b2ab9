/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The background worker: attach to the launcher's segment, send every
 *		protocol message into its shm_mq, become the caller (database,
 *		users, security context, GUCs), run the SQL statement by statement,
 *		and exit -- or, in a session with a warm worker pool, reset the
 *		session and wait for the next task (see pool.c).
 *
 * The order of the identity restore follows parallel.c: connect as the
 * authenticated user, restore GUCs (which restores session_authorization),
 * then the role of SET ROLE, then the current user and security context.
 *
 * Copyright (c) 2026, pg_background contributors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/printtup.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "catalog/namespace.h"
#include "commands/prepare.h"
#include "commands/sequence.h"
#include "libpq/libpq.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/sinval.h"
#include "replication/origin.h"
#include "storage/bufmgr.h"
#include "storage/lock.h"
#include "storage/shm_toc.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/portal.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/timeout.h"

#include "pg_background.h"
#include "compat.h"

static PgbgFixed *worker_fixed = NULL;
static dsm_segment *worker_seg = NULL;

/* whom this process connected as; a pooled task must be the same */
static Oid	worker_database_id = InvalidOid;
static Oid	worker_authenticated_user_id = InvalidOid;

/* the job's own transactions are running (worker_xact_callback counts) */
static bool worker_in_job = false;

/* a terminate or cancel came while idle, just before a task was handed */
static bool worker_exit_after_task = false;

/* fixed->task_seq of the task this worker was given the go for */
static uint32 worker_task_seq = 0;

/* registered once per process: a pooled worker runs several tasks */
static TimeoutId worker_timeout_id = MAX_TIMEOUTS;

/*
 * A pooled worker skips restoring the caller's settings when nothing
 * changed since the last task: the caller sent the same state, and ours
 * is still what restoring it gave (the last task SET nothing that lasts).
 * Comparing the serialized states costs far less than restoring them
 * (time zone abbreviations, locales).
 */
static bool worker_gucs_known = false;
static char *worker_gucs_caller = NULL;
static Size worker_gucs_caller_len = 0;
static char *worker_gucs_own = NULL;
static Size worker_gucs_own_len = 0;

/* SIGUSR2: a launch that found no free slot asks an idle worker to go */
static volatile sig_atomic_t worker_release_requested = false;

/*
 * A submitted worker's output is never read, so what it sends must never
 * make it wait: see worker_limit_output.
 */
static shm_mq_handle *worker_mqh = NULL;
static const PQcommMethods *worker_mq_methods = NULL;
static PQcommMethods worker_submit_methods;
static bool worker_queue_given_up = false;

/* Bounds on the fields of a submitted worker's error message. */
#define WORKER_SUBMIT_MSG_LEN		1024
#define WORKER_SUBMIT_FIELD_LEN		256
#define WORKER_SUBMIT_ERROR_LEN		4096

static void worker_attach(dsm_handle handle, char **sql, char **gucstate);
static void worker_take_next_in_place(void);
static void worker_connect(void);
static void worker_run_task(const char *sql, char *gucstate);
static bool worker_wait_for_next_task(dsm_handle *next);
static void worker_reset_session(void);
static void worker_reset_process_state(void);
static void worker_release_handler(SIGNAL_ARGS);
static void worker_limit_output(void);
static int	worker_submit_putmessage(char msgtype, const char *s, size_t len);
static void worker_xact_callback(XactEvent event, void *arg);
static void worker_wait_for_go(shm_mq_handle *mqh);
static void worker_become_caller(char *gucstate);
static char *worker_serialize_own_gucs(Size *len);
static bool worker_gucs_unchanged(const char *gucstate);
static void worker_remember_gucs(const char *gucstate);
static void worker_start_xact(void);
static void worker_commit_xact(void);
static void worker_execute(const char *sql);
static void worker_run_statement(RawStmt *parsetree, const char *sql,
								 bool is_last, MemoryContext stmt_context);
static void worker_refuse_statement(Node *stmt);
static void worker_set_formats(Portal portal);
static void worker_check_cancel(void);
static void worker_error_context(void *arg);
static void worker_start_timeout(void);
static void worker_stop_timeout(void);
static void worker_timeout_handler(void);
static void worker_stamp_finish(int code, Datum arg);
static void worker_mark_gone(void);

/*
 * Entry point, called from pg_background_worker_main.
 */
void
pgbg_worker_run(dsm_handle handle)
{
	ResourceOwner owner;
	ErrorContextCallback errcallback;
	char	   *sql;
	char	   *gucstate;

	pqsignal(SIGTERM, die);
	pqsignal(SIGUSR2, worker_release_handler);
	BackgroundWorkerUnblockSignals();

	/*
	 * The segment mapping needs a resource owner while attaching; we pin the
	 * mapping right away so the owner holds nothing and can be released and
	 * deleted cleanly before exit.
	 */
	owner = ResourceOwnerCreate(NULL, "pg_background worker");
	CurrentResourceOwner = owner;

	worker_attach(handle, &sql, &gucstate);

	/* From here on every error is also reported to the launcher. */
	errcallback.callback = worker_error_context;
	errcallback.arg = NULL;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	worker_connect();
	RegisterXactCallback(worker_xact_callback, NULL);

	/*
	 * Run the task; a poolable worker that finished it without error (an
	 * error ends this process) may then be handed the next one.
	 */
	for (;;)
	{
		dsm_handle	next;

		worker_run_task(sql, gucstate);
		if (!worker_fixed->poolable || worker_exit_after_task ||
			!worker_wait_for_next_task(&next))
			break;
		if (next == dsm_segment_handle(worker_seg))
			worker_take_next_in_place();
		else
			worker_attach(next, &sql, &gucstate);
	}

	error_context_stack = errcallback.previous;

	/* release our resource owner before exiting (nothing is left in it) */
	CurrentResourceOwner = owner;
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_BEFORE_LOCKS, true, true);
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_LOCKS, true, true);
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_AFTER_LOCKS, true, true);
	CurrentResourceOwner = NULL;
	ResourceOwnerDelete(owner);
}

/*
 * One task: become the caller, run its SQL, tell the launcher it is done.
 */
static void
worker_run_task(const char *sql, char *gucstate)
{
	char		appname[NAMEDATALEN];

	worker_become_caller(gucstate);
	worker_start_timeout();

	/* 1.9: pg_background:<label>:<pid>, or pg_background:<pid> */
	pgbg_format_appname(appname, sizeof(appname), worker_fixed->label,
						MyProcPid);
	pgstat_report_appname(appname);
	pgstat_report_activity(STATE_RUNNING, sql);

	worker_execute(sql);
	worker_stop_timeout();

	/*
	 * Before the end marker: once the launcher has it, it may pool us; a
	 * worker that will not wait for another task must not be pooled.
	 */
	SpinLockAcquire(&worker_fixed->mutex);
	worker_fixed->finished_at = GetCurrentTimestamp();
	SpinLockRelease(&worker_fixed->mutex);

	/*
	 * A session that has used temporary tables cannot change temp_buffers
	 * any more (PostgreSQL refuses it, and restoring the next caller's
	 * settings would fail): such a worker is not kept.
	 */
	if (NLocBuffer != 0)
		worker_exit_after_task = true;
	if (worker_exit_after_task)
		worker_mark_gone();

	/* Tell the launcher we finished normally. */
	ReadyForQuery(DestRemote);

	pgstat_report_activity(STATE_IDLE, NULL);
	pgstat_report_stat(true);
}

/*
 * Map the segment, unpin it (we now hold a reference), attach to the queue
 * as its sender and redirect the frontend/backend protocol into it.  A
 * pooled worker first lets go of its last task's segment, which undoes the
 * redirection into that segment's queue.
 */
static void
worker_attach(dsm_handle handle, char **sql, char **gucstate)
{
	dsm_segment *seg;
	shm_toc    *toc;
	shm_mq	   *mq;
	shm_mq_handle *mqh;
	bool		unpin;
	static bool stamp_registered = false;

	if (worker_seg != NULL)
	{
		worker_fixed = NULL;
		if (worker_mqh != NULL)
			shm_mq_detach(worker_mqh);	/* frees the handle */
		worker_mqh = NULL;
		dsm_detach(worker_seg);
		worker_seg = NULL;
	}
	worker_queue_given_up = false;

	seg = dsm_attach(handle);
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_background worker could not map its dynamic shared memory segment")));
	dsm_pin_mapping(seg);

	toc = shm_toc_attach(PGBG_MAGIC, dsm_segment_address(seg));
	if (toc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bad magic number in pg_background dynamic shared memory segment")));

	worker_fixed = shm_toc_lookup(toc, PGBG_KEY_FIXED, false);
	worker_seg = seg;

	/*
	 * A pooled worker serves only the session it was started for (pool.c
	 * makes sure); never run a task as someone else.  Its launcher sees it
	 * exit without attaching and starts a fresh worker.
	 */
	if (OidIsValid(worker_database_id) &&
		(worker_fixed->database_id != worker_database_id ||
		 worker_fixed->authenticated_user_id != worker_authenticated_user_id))
	{
		ereport(LOG,
				(errmsg("pg_background worker with PID %d exits without running its SQL",
						MyProcPid),
				 errdetail("The task was handed over for another database or user.")));
		proc_exit(0);
	}

	if (!stamp_registered)
	{
		before_shmem_exit(worker_stamp_finish, (Datum) 0);
		stamp_registered = true;
	}
	*sql = shm_toc_lookup(toc, PGBG_KEY_SQL, false);
	*gucstate = shm_toc_lookup(toc, PGBG_KEY_GUC, false);
	mq = shm_toc_lookup(toc, PGBG_KEY_QUEUE, false);

	SpinLockAcquire(&worker_fixed->mutex);
	unpin = worker_fixed->segment_pinned;
	worker_fixed->segment_pinned = false;
	worker_fixed->worker_pid = MyProcPid;
	SpinLockRelease(&worker_fixed->mutex);
	if (unpin)
		dsm_unpin_segment(handle);

	shm_mq_set_sender(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);
	pq_redirect_to_shm_mq(seg, mqh);
	worker_mq_methods = PqCommMethods;
	worker_mqh = mqh;
	if (worker_fixed->results_disabled)
		worker_limit_output();

	worker_wait_for_go(mqh);
}

/*
 * A submitted worker (pg_background_submit_v2) sends only its error, if it
 * fails, and its end marker: no notices (not even INFO, which ignores
 * client_min_messages, nor after a SET client_min_messages in its SQL),
 * no rows, no command tags.  Its error is cut down to a few kilobytes (its
 * launcher keeps only the first PGBG_LAST_ERROR_LEN bytes of the message),
 * and both are sent without waiting: if nobody makes room in the queue, the
 * message is dropped, never waited for.  So the worker can never block on
 * output nobody reads, also not at exit while it still holds its locks.
 */
static void
worker_limit_output(void)
{
	worker_submit_methods = *PqCommMethods;
	worker_submit_methods.putmessage = worker_submit_putmessage;
	PqCommMethods = &worker_submit_methods;
}

static int
worker_submit_putmessage(char msgtype, const char *s, size_t len)
{
	static char buf[WORKER_SUBMIT_ERROR_LEN];
	shm_mq_iovec iov[2];
	size_t		used = 0;
	shm_mq_result res;

	if (msgtype != 'E' && msgtype != 'Z')
		return 0;
	if (worker_queue_given_up || worker_mqh == NULL)
		return 0;

	if (msgtype == 'E')
	{
		size_t		pos = 0;

		/*
		 * An ErrorResponse is a list of (code byte, NUL-terminated string),
		 * ended by a zero byte.  Keep every field, each cut at a character
		 * boundary; the text is in the database encoding.
		 */
		while (pos < len && s[pos] != '\0')
		{
			char		code = s[pos++];
			size_t		flen = strnlen(s + pos, len - pos);
			int			limit;
			int			keep;

			limit = (code == PG_DIAG_MESSAGE_PRIMARY) ?
				WORKER_SUBMIT_MSG_LEN : WORKER_SUBMIT_FIELD_LEN;
			keep = pg_mbcliplen(s + pos, (int) Min(flen, (size_t) limit + 8),
								limit);
			keep = Min(keep, (int) flen);
			/* room for this field, its NUL and the final zero byte */
			if (used + 1 + keep + 1 + 1 > sizeof(buf))
				break;
			buf[used++] = code;
			memcpy(buf + used, s + pos, keep);
			used += keep;
			buf[used++] = '\0';
			pos += flen + 1;
		}
		buf[used++] = '\0';
		s = buf;
		len = used;
	}

	iov[0].data = &msgtype;
	iov[0].len = 1;
	iov[1].data = s;
	iov[1].len = len;
	res = pgbg_shm_mq_sendv_nowait(worker_mqh, iov, 2);
	if (res != SHM_MQ_SUCCESS)
	{
		/*
		 * The queue is full (part of the message may be in it) or its reader
		 * is gone: send nothing more.  The launcher sees the queue detach
		 * when we exit.
		 */
		worker_queue_given_up = true;
		return EOF;
	}
	return 0;
}

/*
 * Run nothing until the launcher has recorded our task in its session and
 * says go (launcher.c, pgbg_launch).  If its launch failed instead (it
 * raised an error, was canceled or timed out), or the launching session
 * went away before it finished (its exit detaches it from our queue),
 * exit without running the SQL: nobody tracks this task.  The launcher
 * and the queue's detach both set our latch.
 */
static void
worker_wait_for_go(shm_mq_handle *mqh)
{
	bool		first = true;

	for (;;)
	{
		PgbgLaunchState state;

		SpinLockAcquire(&worker_fixed->mutex);
		if (first)
			worker_fixed->worker_proc = MyProc;
		state = worker_fixed->launch_state;
		worker_task_seq = worker_fixed->task_seq;
		SpinLockRelease(&worker_fixed->mutex);
		first = false;

		if (state == PGBG_LAUNCH_GO)
			return;
		if (state == PGBG_LAUNCH_ABANDONED)
		{
			ereport(LOG,
					(errmsg("pg_background worker with PID %d exits without running its SQL",
							MyProcPid),
					 errdetail("Its launch failed in the session with PID %d.",
							   (int) worker_fixed->launcher_pid)));
			proc_exit(0);
		}
		/* does not wait: the launcher became the receiver before we started */
		if (shm_mq_wait_for_attach(mqh) == SHM_MQ_DETACHED)
		{
			ereport(LOG,
					(errmsg("pg_background worker with PID %d exits without running its SQL",
							MyProcPid),
					 errdetail("The session with PID %d ended before its launch completed.",
							   (int) worker_fixed->launcher_pid)));
			proc_exit(0);
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, 0,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Connect to the caller's database as the caller's authenticated user. */
static void
worker_connect(void)
{
	BackgroundWorkerInitializeConnectionByOid(worker_fixed->database_id,
											  worker_fixed->authenticated_user_id,
											  0);
	worker_database_id = worker_fixed->database_id;
	worker_authenticated_user_id = worker_fixed->authenticated_user_id;
}

/*
 * Take on the caller's GUCs, role and security context.  RestoreGUCState
 * first puts every setting a caller could send back to its default, so a
 * pooled worker keeps nothing of its last task's settings.
 */
static void
worker_become_caller(char *gucstate)
{
	PgbgFixed  *fixed = worker_fixed;
	bool		outer_is_superuser = false;
	bool		restored;

	StartTransactionCommand();

	/*
	 * RestoreGUCState first resets transaction_read_only to its boot value,
	 * off.  On a hot standby every transaction starts read-only, and going
	 * read-write is refused ("cannot set transaction read-write mode during
	 * recovery"); parallel workers are let through (InitializingParallelWorker),
	 * which we are not.  This set-up transaction only reads the catalogs, so
	 * let it start read-write: the job's own transactions are read-only again
	 * on a standby, and a write there fails with 25006 as in any session.
	 * The caller's transaction_read_only, transaction_isolation and
	 * transaction_deferrable, restored here too, end with this transaction;
	 * its default_transaction_* settings carry over to the job.
	 */
	XactReadOnly = false;
	restored = !worker_gucs_unchanged(gucstate);
	if (restored)
		RestoreGUCState(gucstate);

	/*
	 * Every setting is the caller's, statement_timeout included: it limits
	 * each statement of the job, as in the caller's session.
	 *
	 * A submitted worker's output is never read: it needs no notices
	 * formatted.  This only saves work (a SET in its SQL outranks even the
	 * override source, and INFO ignores client_min_messages); what keeps its
	 * output off the queue is worker_limit_output.
	 */
	if (fixed->results_disabled)
		SetConfigOption("client_min_messages", "error", PGC_SUSET,
						PGC_S_OVERRIDE);

	if (OidIsValid(fixed->outer_user_id))
		outer_is_superuser = superuser_arg(fixed->outer_user_id);
	CommitTransactionCommand();

	/* outside the set-up transaction, as worker_gucs_unchanged looks */
	if (fixed->results_disabled)
		worker_gucs_known = false;
	else if (restored && fixed->poolable)
		worker_remember_gucs(gucstate);

	/*
	 * Rows travel in the database encoding; the launcher decodes them with
	 * the server's own input functions.
	 */
	SetClientEncoding(GetDatabaseEncoding());

	/*
	 * RestoreGUCState skips "role", as for parallel workers.  The caller's
	 * current user and security context are put on inside each transaction
	 * of the job (worker_start_xact).
	 */
	if (OidIsValid(fixed->outer_user_id))
		SetCurrentRoleId(fixed->outer_user_id, outer_is_superuser);
}

/* The length of a state SerializeGUCState wrote: its header says. */
static Size
worker_gucs_len(const char *gucstate)
{
	Size		len;

	memcpy(&len, gucstate, sizeof(Size));
	return len + sizeof(Size);
}

/* Our own settings, serialized as a caller's are; palloc'd. */
static char *
worker_serialize_own_gucs(Size *len)
{
	Size		space = EstimateGUCStateSpace();
	char	   *buf = MemoryContextAlloc(TopMemoryContext, space);

	SerializeGUCState(space, buf);
	*len = worker_gucs_len(buf);
	return buf;
}

static bool
worker_gucs_unchanged(const char *gucstate)
{
	Size		len;
	char	   *own;
	bool		same;

	if (!worker_gucs_known || worker_fixed->results_disabled)
		return false;
	if (worker_gucs_len(gucstate) != worker_gucs_caller_len ||
		memcmp(gucstate, worker_gucs_caller, worker_gucs_caller_len) != 0)
		return false;
	own = worker_serialize_own_gucs(&len);
	same = (len == worker_gucs_own_len &&
			memcmp(own, worker_gucs_own, len) == 0);
	pfree(own);
	return same;
}

static void
worker_remember_gucs(const char *gucstate)
{
	Size		len = worker_gucs_len(gucstate);

	worker_gucs_known = false;
	if (worker_gucs_caller != NULL)
		pfree(worker_gucs_caller);
	if (worker_gucs_own != NULL)
		pfree(worker_gucs_own);
	worker_gucs_own = NULL;
	worker_gucs_caller = MemoryContextAlloc(TopMemoryContext, len);
	memcpy(worker_gucs_caller, gucstate, len);
	worker_gucs_caller_len = len;
	worker_gucs_own = worker_serialize_own_gucs(&worker_gucs_own_len);
	worker_gucs_known = true;
}

/*
 * Start a transaction of the job and take on the caller's current user and
 * security context (a SECURITY DEFINER function's owner, say) inside it, as
 * a parallel worker does.  A security context must not outlive its
 * transaction (StartTransaction insists on none being set), so
 * worker_commit_xact takes it off again.
 */
static void
worker_start_xact(void)
{
	StartTransactionCommand();
	SetUserIdAndSecContext(worker_fixed->current_user_id,
						   worker_fixed->sec_context);
}

static void
worker_commit_xact(void)
{
	CommitTransactionCommand();
	SetUserIdAndSecContext(GetOuterUserId(), 0);
}

/*
 * Run every statement of the string in one transaction.  A statement that
 * must run outside a transaction block (VACUUM, CREATE INDEX CONCURRENTLY)
 * commits the work before it, as in a simple-query string.
 */
static void
worker_execute(const char *sql)
{
	MemoryContext parse_context;
	MemoryContext stmt_context;
	MemoryContext oldcontext;
	List	   *parsetrees;
	ListCell   *lc;

	SpinLockAcquire(&worker_fixed->mutex);
	worker_fixed->started_at = GetCurrentTimestamp();
	SpinLockRelease(&worker_fixed->mutex);

	worker_start_xact();

	/* both survive the commits that VACUUM and friends make */
	worker_in_job = true;
	parse_context = AllocSetContextCreate(TopMemoryContext,
										  "pg_background parse",
										  ALLOCSET_DEFAULT_SIZES);
	stmt_context = AllocSetContextCreate(TopMemoryContext,
										 "pg_background statement",
										 ALLOCSET_DEFAULT_SIZES);
	oldcontext = MemoryContextSwitchTo(parse_context);
	parsetrees = pg_parse_query(sql);
	MemoryContextSwitchTo(oldcontext);

	foreach(lc, parsetrees)
	{
		RawStmt    *parsetree = lfirst_node(RawStmt, lc);

		worker_check_cancel();
		if (!IsTransactionState())
			worker_start_xact();
		worker_run_statement(parsetree, sql, pgbg_lnext(parsetrees, lc) == NULL,
							 stmt_context);
	}

	worker_check_cancel();
	if (IsTransactionState())
		worker_commit_xact();
	worker_in_job = false;

	/*
	 * Tell the launcher the work is durable: if we are terminated before
	 * our final message gets out, it must not report the work as lost.
	 */
	SpinLockAcquire(&worker_fixed->mutex);
	worker_fixed->committed = true;
	SpinLockRelease(&worker_fixed->mutex);
	pgbg_process_completed_notifies();
	MemoryContextDelete(stmt_context);
	MemoryContextDelete(parse_context);
}

/*
 * Count every transaction of the job that commits changes, wherever the
 * commit happens: after the last statement, around a VACUUM or CREATE INDEX
 * CONCURRENTLY, or at a procedure's COMMIT.  The launcher then tells the
 * truth about a job that fails or is canceled after part of it committed.
 * A transaction without a transaction ID changed nothing and is not
 * counted.  Nothing here may fail: the commit is already done.
 */
static void
worker_xact_callback(XactEvent event, void *arg)
{
	if (event != XACT_EVENT_COMMIT || !worker_in_job ||
		!TransactionIdIsValid(GetTopTransactionIdIfAny()))
		return;
	SpinLockAcquire(&worker_fixed->mutex);
	worker_fixed->commits++;
	SpinLockRelease(&worker_fixed->mutex);
}

/*
 * Plan and run one statement, modelled on exec_simple_query().  Only the
 * last statement sends rows; every statement sends its command tag.
 */
static void
worker_run_statement(RawStmt *parsetree, const char *sql, bool is_last,
					 MemoryContext stmt_context)
{
	PgbgCommandTag commandTag;
	bool		snapshot_set = false;
	List	   *querytrees;
	List	   *plantrees;
	Portal		portal;
	DestReceiver *receiver;
	CommandDest dest;
	PgbgQueryCompletion qc;
	MemoryContext oldcontext;

	worker_refuse_statement(parsetree->stmt);

	commandTag = CreateCommandTag(parsetree->stmt);
	dest = worker_fixed->results_disabled ? DestNone : DestRemote;
	BeginCommand(commandTag, dest);

	/*
	 * statement_timeout, the caller's unless the SQL set its own, covers the
	 * planning and the execution of each statement.
	 */
	if (StatementTimeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);

	if (analyze_requires_snapshot(parsetree))
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		snapshot_set = true;
	}

	oldcontext = MemoryContextSwitchTo(stmt_context);
	querytrees = pgbg_analyze_and_rewrite(parsetree, sql);
	plantrees = pgbg_plan_queries(querytrees, sql);
	MemoryContextSwitchTo(oldcontext);

	if (snapshot_set)
		PopActiveSnapshot();

	CHECK_FOR_INTERRUPTS();

	portal = CreatePortal("", true, true);
	portal->visible = false;
	pgbg_portal_define_query(portal, sql, commandTag, plantrees);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	worker_set_formats(portal);

	/*
	 * The receiver must survive the commits VACUUM and its kind make inside
	 * PortalRun, so it lives in the statement context, not the transaction.
	 */
	oldcontext = MemoryContextSwitchTo(stmt_context);
	receiver = CreateDestReceiver(is_last ? dest : DestNone);
	if (is_last && dest == DestRemote)
	{
		SetRemoteDestReceiverParams(receiver, portal);
		receiver = pgbg_create_row_receiver(receiver, portal);
	}
	MemoryContextSwitchTo(oldcontext);

	/*
	 * SQL launched inside a security context (from a SECURITY DEFINER
	 * function, say) runs as if inside that function, not at top level: what
	 * cannot run in a function (VACUUM, COMMIT in a procedure) is refused
	 * there too, and no statement commits while the context is on.
	 */
	pgbg_portal_run(portal, worker_fixed->sec_context == 0, receiver, &qc);
	disable_timeout(STATEMENT_TIMEOUT, false);

	receiver->rDestroy(receiver);
	PortalDrop(portal, false);

	if (MyXactFlags & XACT_FLAGS_NEEDIMMEDIATECOMMIT)
		worker_commit_xact();
	else
		CommandCounterIncrement();

	pgbg_end_command(&qc, dest);
	MemoryContextReset(stmt_context);
}

/*
 * Transaction control would break the one-transaction model (and COMMIT
 * would let half of a cancelled job survive); COPY to or from the client
 * has no client to talk to.
 */
static void
worker_refuse_statement(Node *stmt)
{
	if (IsA(stmt, TransactionStmt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("transaction control statements are not allowed in pg_background"),
				 errhint("The SQL of a background worker runs in its own transaction; send separate launches for separate transactions.")));

	if (IsA(stmt, CopyStmt) && ((CopyStmt *) stmt)->filename == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY to or from the client is not supported in pg_background"),
				 errhint("Use COPY with a file name, or INSERT ... SELECT.")));
}

/*
 * Send each column in binary when its type can be sent and received that
 * way, otherwise in text: the launcher sees the choice in the row
 * description.  Anonymous records always go in binary, through the row
 * receiver of transport_send.c (pgbg_create_row_receiver).
 */
static void
worker_set_formats(Portal portal)
{
	TupleDesc	tupdesc = portal->tupDesc;
	int16	   *formats;
	int			i;

	/* before each statement: a SET client_encoding before it is undone */
	pgbg_worker_pin_encoding();

	if (tupdesc == NULL || tupdesc->natts == 0)
		return;

	formats = palloc(sizeof(int16) * tupdesc->natts);
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		formats[i] = pgbg_binary_safe(att->atttypid, att->atttypmod) ? 1 : 0;
	}
	PortalSetResultFormat(portal, tupdesc->natts, formats);
	pfree(formats);
}

/*
 * Between statements: stop before doing (or committing) anything more once
 * the launcher asked us to cancel, even if its SIGTERM has not arrived.
 */
static void
worker_check_cancel(void)
{
	CHECK_FOR_INTERRUPTS();
	if (pg_atomic_read_u32(&worker_fixed->cancel_requested) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("pg_background worker canceled by its launcher")));
}

/* One context line naming the worker, on every error it raises. */
static void
worker_error_context(void *arg)
{
	errcontext("pg_background worker with PID %d", MyProcPid);
}

/*
 * pg_background.worker_timeout, as the caller had it at launch, limits the
 * whole run.  When it fires the worker dies as if terminated (a FATAL that
 * no exception block in the user's SQL can catch); the flag tells the
 * launcher why.
 */
static void
worker_start_timeout(void)
{
	if (worker_fixed->timeout_ms <= 0)
		return;
	if (worker_timeout_id == MAX_TIMEOUTS)
		worker_timeout_id = RegisterTimeout(USER_TIMEOUT,
											worker_timeout_handler);
	enable_timeout_after(worker_timeout_id, worker_fixed->timeout_ms);
}

/* The task is done: its time limit must not stop an idle pooled worker. */
static void
worker_stop_timeout(void)
{
	if (worker_timeout_id != MAX_TIMEOUTS)
		disable_timeout(worker_timeout_id, false);
}

static void
worker_timeout_handler(void)
{
	pg_atomic_write_u32(&worker_fixed->timed_out, 1);
	ProcDiePending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

/* No task may be handed to us any more (unless one already was). */
static void
worker_mark_gone(void)
{
	uint32		state = pg_atomic_read_u32(&worker_fixed->pool_state);

	while (state == PGBG_POOL_NONE || state == PGBG_POOL_IDLE)
	{
		if (pg_atomic_compare_exchange_u32(&worker_fixed->pool_state, &state,
										   PGBG_POOL_GONE))
			break;
	}
}

/*
 * Record when we finished, however we finish (the segment is still
 * mapped); a pooled worker stamped its last task when it let go of it.
 */
static void
worker_stamp_finish(int code, Datum arg)
{
	if (worker_fixed == NULL)
		return;

	/* however we exit, no task may be handed to us any more */
	worker_mark_gone();

	SpinLockAcquire(&worker_fixed->mutex);
	if (worker_fixed->finished_at == 0)
		worker_fixed->finished_at = GetCurrentTimestamp();
	SpinLockRelease(&worker_fixed->mutex);
}

/* ------------------------------------------------------------------------
 * The warm worker pool, worker side (the launcher side is pool.c)
 * ------------------------------------------------------------------------
 */

/*
 * The task ended without error.  Reset the session, tell the launcher we
 * have let go of the task, and wait for its decision: a next task (true,
 * *next names its segment) or exit (false).  Give up after the pool's idle
 * timeout, or when a launch of any session that found every worker slot
 * taken asks us to (SIGUSR2, pool.c); an administrator's cancel does the
 * same.  A decision and giving up are both a compare-and-exchange on the
 * segment: whichever comes first wins, so a worker handed a task never
 * exits instead, and one that exits is never handed a task.
 */
static bool
worker_wait_for_next_task(dsm_handle *next)
{
	PgbgFixed  *fixed = worker_fixed;
	uint32		event = pgbg_pool_idle_event();
	TimestampTz deadline;
	char		appname[NAMEDATALEN];
	PGPROC	   *launcher;

	/* Nothing more goes to the launcher of the task that ended. */
	whereToSendOutput = DestNone;

	/*
	 * No task is written into our segment before we are done with this
	 * (pgbg_pool_reuse waits for left_seq): if the reset fails, or a
	 * terminate ends us meanwhile, we exit without having been given one.
	 */
	worker_reset_session();

	/* no label of the last task shows while idle */
	pgbg_format_appname(appname, sizeof(appname), "", MyProcPid);
	pgstat_report_appname(appname);

	/*
	 * A terminate or cancel that came during the task's end or the reset
	 * ends us now, before anyone can hand us a task.  Then say we are
	 * ready: a launcher waits for this before it writes a task into our
	 * segment (we wake it if it waits), and a detached task's launcher
	 * looks for it at its next call.
	 */
	CHECK_FOR_INTERRUPTS();
	worker_release_requested = false;
	SpinLockAcquire(&fixed->mutex);
	fixed->left_seq = worker_task_seq;
	launcher = fixed->launcher_waits ? fixed->launcher_proc : NULL;
	fixed->launcher_waits = false;
	SpinLockRelease(&fixed->mutex);
	if (launcher != NULL)
		SetLatch(&launcher->procLatch);

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   fixed->idle_timeout_ms);
	for (;;)
	{
		uint32		state = pg_atomic_read_u32(&fixed->pool_state);
		long		remaining;

		if (state == PGBG_POOL_NEXT)
		{
			/*
			 * Handed a task before a terminate or cancel that came while we
			 * were idle took effect: run the task, and exit after it
			 * instead of waiting again.  What comes from now on applies to
			 * the task.
			 */
			if (ProcDiePending || QueryCancelPending)
				worker_exit_after_task = true;
			ProcDiePending = false;
			QueryCancelPending = false;
			pg_read_barrier();
			*next = fixed->next_handle;
			return true;
		}
		if (state != PGBG_POOL_NONE && state != PGBG_POOL_IDLE)
			return false;

		/* TimestampTz counts microseconds; round up to whole ms */
		remaining = (long) ((deadline - GetCurrentTimestamp() + 999) / 1000);

		/*
		 * Give up: after the idle timeout; when a launch that found no free
		 * slot asks (SIGUSR2); on a cancel or terminate; and when the
		 * launching session is gone before it pooled us (its exit told us
		 * nothing if it came while a task was being handed to us).
		 */
		if (remaining <= 0 || worker_release_requested ||
			QueryCancelPending || ProcDiePending ||
			(state == PGBG_POOL_NONE &&
			 BackendPidGetProc(fixed->launcher_pid) == NULL))
		{
			if (pg_atomic_compare_exchange_u32(&fixed->pool_state, &state,
											   PGBG_POOL_GONE))
			{
				/* a terminate ends us as it would have ended the task */
				QueryCancelPending = false;
				CHECK_FOR_INTERRUPTS();
				return false;
			}
			continue;			/* it changed meanwhile: look again */
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 remaining, event);
		ResetLatch(MyLatch);

		/*
		 * Keep up with catalog invalidations while idle, as a backend does;
		 * other interrupts too, but a terminate or cancel only above.
		 */
		if (ProcDiePending || QueryCancelPending)
			continue;
		if (catchupInterruptPending)
		{
			HOLD_INTERRUPTS();
			ProcessCatchupInterrupt();
			RESUME_INTERRUPTS();
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The launcher wrote the next task over the last one in our segment: the
 * queue and its redirection stay; wait for the go as a fresh worker does.
 */
static void
worker_take_next_in_place(void)
{
	pg_atomic_write_u32(&worker_fixed->pool_state, PGBG_POOL_NONE);
	whereToSendOutput = DestRemote;
	PqCommMethods = worker_mq_methods;
	worker_queue_given_up = false;
	worker_wait_for_go(worker_mqh);
	/* the task is written before the go */
	if (worker_fixed->results_disabled)
		worker_limit_output();
}

/*
 * Everything a task could leave behind in the session goes, as with
 * DISCARD ALL: portals (cursors WITH HOLD), prepared statements, LISTEN,
 * session advisory locks, cached plans, temporary objects, sequence state,
 * and SET ROLE.  Settings, session authorization among them, are not reset
 * here but by the next task's restore of its caller's settings, which
 * puts every setting back to its default first -- skipped only when the
 * last task changed no setting and the caller sent the same ones
 * (worker_gucs_unchanged).
 */
static void
worker_reset_session(void)
{
	/* what the task launched itself, as when a session ends */
	pgbg_forget_session();

	StartTransactionCommand();
	/* dropping temporary tables reads catalogs: as DISCARD ALL, a snapshot */
	PushActiveSnapshot(GetTransactionSnapshot());
	/* closing portals may run user code: first, as DISCARD ALL does */
	PortalHashTableDeleteAll();
	/* RESET ROLE: back to its reset value and source, as RESET ALL does */
	SetConfigOption("role", NULL, PGC_SUSET, PGC_S_SESSION);
	DropAllPreparedStatements();
	Async_UnlistenAll();
	LockReleaseAll(USER_LOCKMETHOD, true);
	ResetPlanCache();
	ResetTempTableNamespace();
	ResetSequenceCaches();
	worker_reset_process_state();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * What a session keeps that DISCARD ALL does not reset, and a task could
 * leave to the next one on the same worker: a replication origin set up
 * for the session (the next task's commits would carry it, and nobody else
 * could use or drop it), and random()'s seed (after setseed(), the next
 * task's random() would be predictable).  The seed is drawn afresh, as a
 * new process would.
 */
static void
worker_reset_process_state(void)
{
	uint64		r;

	if (replorigin_session_origin != InvalidRepOriginId)
	{
		replorigin_session_reset();
		replorigin_session_origin = InvalidRepOriginId;
		replorigin_session_origin_lsn = InvalidXLogRecPtr;
		replorigin_session_origin_timestamp = 0;
	}

	if (pg_strong_random(&r, sizeof(r)))
		(void) DirectFunctionCall1(setseed,
								   Float8GetDatum((double) (r >> 11) /
												  (double) (UINT64CONST(1) << 53) * 2.0 - 1.0));
}

static void
worker_release_handler(SIGNAL_ARGS)
{
	int			save_errno = errno;

	worker_release_requested = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * pg_background_progress(): called by the SQL a worker runs, to tell its
 * launcher how far it got.
 */
void
pgbg_worker_report_progress(int32 pct, const char *msg)
{
	int			len = 0;

	if (worker_fixed == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_background_progress() can only be called by SQL running in a pg_background worker")));
	if (pct < 0 || pct > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("progress percentage %d is out of range", pct),
				 errdetail("It must be between 0 and 100.")));
	if (msg != NULL)
		len = pg_mbcliplen(msg, strlen(msg), PGBG_PROGRESS_MSG_LEN - 1);

	SpinLockAcquire(&worker_fixed->mutex);
	worker_fixed->has_progress = true;
	worker_fixed->has_progress_msg = (msg != NULL);
	worker_fixed->progress_pct = pct;
	if (msg != NULL)
		memcpy(worker_fixed->progress_msg, msg, len);
	worker_fixed->progress_msg[len] = '\0';
	SpinLockRelease(&worker_fixed->mutex);
}
