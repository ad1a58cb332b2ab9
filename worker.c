/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The background worker: attach to the launcher's segment, send every
 *		protocol message into its shm_mq, become the caller (database,
 *		users, security context, GUCs), run the SQL statement by statement,
 *		and exit.
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
#include "storage/shm_toc.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/timeout.h"

#include "pg_background.h"
#include "compat.h"

static PgbgFixed *worker_fixed = NULL;

/*
 * A submitted worker's output is never read, so what it sends must never
 * make it wait: see worker_limit_output.
 */
static shm_mq_handle *worker_mqh = NULL;
static PQcommMethods worker_submit_methods;
static bool worker_queue_given_up = false;

/* Bounds on the fields of a submitted worker's error message. */
#define WORKER_SUBMIT_MSG_LEN		1024
#define WORKER_SUBMIT_FIELD_LEN		256
#define WORKER_SUBMIT_ERROR_LEN		4096

static void worker_attach(dsm_handle handle, char **sql, char **gucstate);
static void worker_limit_output(void);
static int	worker_submit_putmessage(char msgtype, const char *s, size_t len);
static void worker_xact_callback(XactEvent event, void *arg);
static void worker_wait_for_go(shm_mq_handle *mqh);
static void worker_become_caller(char *gucstate);
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
static void worker_timeout_handler(void);
static void worker_stamp_finish(int code, Datum arg);

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

	worker_become_caller(gucstate);
	worker_start_timeout();

	{
		char		appname[NAMEDATALEN];

		/* 1.9: pg_background:<label>:<pid>, or pg_background:<pid> */
		pgbg_format_appname(appname, sizeof(appname), worker_fixed->label,
							MyProcPid);
		pgstat_report_appname(appname);
	}
	pgstat_report_activity(STATE_RUNNING, sql);

	worker_execute(sql);

	/* Tell the launcher we finished normally. */
	ReadyForQuery(DestRemote);

	pgstat_report_activity(STATE_IDLE, NULL);
	pgstat_report_stat(true);

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
 * Map the segment, unpin it (we now hold a reference), attach to the queue
 * as its sender and redirect the frontend/backend protocol into it.
 */
static void
worker_attach(dsm_handle handle, char **sql, char **gucstate)
{
	dsm_segment *seg;
	shm_toc    *toc;
	shm_mq	   *mq;
	shm_mq_handle *mqh;
	bool		unpin;

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
	before_shmem_exit(worker_stamp_finish, (Datum) 0);
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

/*
 * Connect to the caller's database as the caller and restore its GUCs,
 * role and security context.
 */
static void
worker_become_caller(char *gucstate)
{
	PgbgFixed  *fixed = worker_fixed;
	bool		outer_is_superuser = false;

	BackgroundWorkerInitializeConnectionByOid(fixed->database_id,
											  fixed->authenticated_user_id,
											  0);

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

	RegisterXactCallback(worker_xact_callback, NULL);
	worker_start_xact();

	/* both survive the commits that VACUUM and friends make */
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
	if (event != XACT_EVENT_COMMIT ||
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
	TimeoutId	id;

	if (worker_fixed->timeout_ms <= 0)
		return;
	id = RegisterTimeout(USER_TIMEOUT, worker_timeout_handler);
	enable_timeout_after(id, worker_fixed->timeout_ms);
}

static void
worker_timeout_handler(void)
{
	pg_atomic_write_u32(&worker_fixed->timed_out, 1);
	ProcDiePending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

/* Record when we finished, however we finish (the segment is still mapped). */
static void
worker_stamp_finish(int code, Datum arg)
{
	SpinLockAcquire(&worker_fixed->mutex);
	worker_fixed->finished_at = GetCurrentTimestamp();
	SpinLockRelease(&worker_fixed->mutex);
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
